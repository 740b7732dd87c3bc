import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, chown, mkdtemp, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiImage } from '../../cluster/images/specs/api.ts';
import { imagesDir, pinned, toolVersion } from '../../cluster/images/inputs.ts';
import { find, podSpecs, renderExample, type K8sObject } from '../support/chart.ts';
import {
  containerPid,
  execIn,
  layerEntries,
  layerTar,
  openArchive,
  runImage,
  sha256,
  unpackRootfs,
  userOf,
  type ImageArchive,
  type LayerEntry,
} from '../support/image-archive.ts';
import { freePort } from '../support/ports.ts';
import { repoRoot, runProcess, waitForHttp, type ManagedProcess } from '../support/process.ts';

/**
 * The local cluster's images (make cluster-image-archives): each archive's OCI layout and
 * config, against what the chart expects of it (examples/local-cluster), each image's
 * contents run the way a runtime runs them — unpacked, read-only root, the pod's volumes, the
 * chart's user — without a cluster, and the archives imported into a real containerd. One file,
 * so that one build serves every check. Needs root.
 */

const run = promisify(execFile);
const NAMES = ['api', 'postgres', 'otelcol', 'jaeger', 'prometheus', 'pause', 'coredns', 'local-path-provisioner', 'busybox'] as const;
type Name = (typeof NAMES)[number];

let refs: Record<string, string>;
const images = {} as Record<Name, ImageArchive>;
const entries = {} as Record<Name, LayerEntry[]>;
let objects: K8sObject[];

const node = ['node', '--no-warnings'];
const builder = (args: string[], env: Record<string, string> = {}) =>
  run(node[0]!, [...node.slice(1), 'cluster/images/build.ts', ...args], { cwd: repoRoot, env: { ...process.env, ...env }, maxBuffer: 16 << 20 });

beforeAll(async () => {
  // Builds what is missing (api/dist, production dependencies, the images); a warm run only checks.
  await run('make', ['--no-print-directory', 'cluster-image-archives'], { cwd: repoRoot, maxBuffer: 64 << 20 });
  refs = Object.fromEntries((await builder(['refs'])).stdout.trim().split('\n').map((line) => line.split('=') as [string, string]));
  for (const name of NAMES) {
    images[name] = await openArchive(join(imagesDir(), `${name}.tar`));
    entries[name] = await layerEntries(images[name]);
  }
  objects = (await renderExample('local-cluster')).objects;
}, 900_000);

afterAll(async () => {
  for (const image of Object.values(images)) await rm(image.dir, { recursive: true, force: true });
});

const entry = (name: Name, path: string) => entries[name].find((e) => e.path.replace(/\/$/, '') === path.replace(/^\//, ''));

describe('the archives', () => {
  it('refs: one name=ref per image, all under tracebridge.local, pause and coredns as the cluster references them', () => {
    expect(Object.keys(refs)).toEqual([...NAMES]);
    for (const [name, ref] of Object.entries(refs)) expect(ref).toMatch(new RegExp(`^tracebridge\\.local/${name}:[\\w.-]+$`));
    expect(refs.pause).toBe('tracebridge.local/pause:3.10');
    expect(refs.coredns).toBe(`tracebridge.local/coredns:${toolVersion('COREDNS_VERSION')}`);
  });

  it.each(NAMES)('%s: an OCI image layout whose index names the image for ctr import, with verifiable blobs', async (name) => {
    const image = images[name];
    expect(image.layout).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(image.index.manifests).toHaveLength(1);
    expect(image.index.manifests[0]!.annotations).toEqual({ 'io.containerd.image.name': refs[name], 'org.opencontainers.image.ref.name': refs[name] });
    expect(image.config).toMatchObject({ architecture: 'amd64', os: 'linux' });
    expect(image.manifest.layers.map((l) => l.mediaType)).toEqual(['application/vnd.oci.image.layer.v1.tar+gzip']);
    for (const descriptor of [image.index.manifests[0]!, image.manifest.config, image.manifest.layers[0]!]) {
      const data = await readFile(image.blob(descriptor.digest));
      expect(sha256(data)).toBe(descriptor.digest);
      expect(data.length).toBe(descriptor.size);
    }
    expect(image.config.rootfs).toEqual({ type: 'layers', diff_ids: [sha256(await layerTar(image))] });
  });

  it.each(NAMES)('%s: a reproducible layer (sorted entries, one fixed mtime, root-owned unless declared)', (name) => {
    const paths = entries[name].map((e) => e.path.replace(/\/$/, ''));
    expect(paths).toEqual([...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(new Set(entries[name].map((e) => e.date))).toEqual(new Set(['2000-01-01 00:00:00']));
    const owned = entries[name].filter((e) => e.owner !== '0/0').map((e) => `${e.path} ${e.owner}`);
    const declared: Record<Name, string[]> = {
      api: [],
      postgres: ['var/lib/postgresql/ 999/999', 'var/run/postgresql/ 999/999'],
      otelcol: [],
      jaeger: [],
      prometheus: ['prometheus/ 65534/65534'],
      pause: [],
      coredns: [],
      'local-path-provisioner': [],
      busybox: [],
    };
    expect(owned).toEqual(declared[name]);
  });

  it('an image whose inputs did not change is kept; built elsewhere it has the same bytes', async () => {
    const { stderr } = await builder(['build', 'pause', 'postgres']);
    expect(stderr).toContain(`${refs.pause}: unchanged`);
    expect(stderr).toContain(`${refs.postgres}: unchanged`);
    const elsewhere = await mkdtemp(join(tmpdir(), 'tracebridge-images-'));
    try {
      const { stdout } = await builder(['build', 'pause', 'postgres'], { CLUSTER_IMAGES_DIR: elsewhere });
      expect(stdout.trim().split('\n')).toEqual([join(elsewhere, 'pause.tar'), join(elsewhere, 'postgres.tar')]);
      for (const name of ['pause', 'postgres']) {
        expect(sha256(await readFile(join(elsewhere, `${name}.tar`))), name).toBe(sha256(await readFile(join(imagesDir(), `${name}.tar`))));
      }
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  }, 120_000);

  it('an unknown image name is refused with the list of images', async () => {
    const error = await builder(['build', 'grafana']).then(
      () => '',
      (e: unknown) => (e as { stderr: string }).stderr,
    );
    expect(error).toContain(`unknown image "grafana"; the images are: ${NAMES.join(', ')}`);
  });
});

/** The workloads of examples/local-cluster and the image each runs. */
const WORKLOADS: [kind: string, name: string, image: Name][] = [
  ['Deployment', 'tracebridge-api', 'api'],
  ['StatefulSet', 'tracebridge-postgresql', 'postgres'],
  ['Deployment', 'tracebridge-collector', 'otelcol'],
  ['Deployment', 'tracebridge-jaeger', 'jaeger'],
  ['Deployment', 'tracebridge-prometheus', 'prometheus'],
  ['Pod', 'tracebridge-test', 'api'],
];

interface ChartContainer {
  image: string;
  imagePullPolicy: string;
  args?: string[];
  command?: string[];
  workingDir?: string;
  ports?: { containerPort: number; protocol: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
  readinessProbe?: { exec?: { command: string[] } };
}

const chartPod = (kind: string, name: string) => {
  const spec = podSpecs([find(objects, kind, name)])[0]!.spec;
  return { spec, containers: [...(spec.initContainers ?? []), ...spec.containers] as unknown as ChartContainer[] };
};

/** Resolve a command the way execve with the image's PATH would, in the layer's entries. */
function resolves(name: Name, command: string): LayerEntry | undefined {
  const path = images[name].config.config.Env.find((e) => e.startsWith('PATH='))!.slice(5);
  const candidates = command.startsWith('/') ? [command] : path.split(':').map((dir) => `${dir}/${command}`);
  for (const candidate of candidates) {
    let found = entry(name, candidate);
    // Follow a symlink within the same directory (busybox applets).
    if (found?.target && !found.target.includes('/')) found = entry(name, candidate.replace(/[^/]+$/, found.target));
    if (found) return found;
  }
  return undefined;
}

describe('what the chart expects of each image (examples/local-cluster)', () => {
  it('every container runs a built image, never pulled, and Grafana is off', () => {
    const images = podSpecs(objects).flatMap(({ spec }) => [...(spec.initContainers ?? []), ...spec.containers] as unknown as ChartContainer[]);
    expect(images.length).toBeGreaterThan(5);
    for (const container of images) {
      expect(Object.values(refs)).toContain(container.image);
      expect(container.imagePullPolicy).toBe('Never');
    }
    expect(objects.filter((o) => o.metadata.name.includes('grafana'))).toEqual([]);
  });

  it.each(WORKLOADS)('%s %s: the image, its user, an entrypoint that exists, the ports it exposes', (kind, name, image) => {
    const { spec, containers } = chartPod(kind, name);
    const config = images[image].config.config;
    expect(spec.securityContext).toMatchObject({ runAsUser: userOf(config).uid, runAsGroup: userOf(config).gid });
    for (const container of containers) {
      expect(container.image).toBe(refs[image]);
      expect(container.command, 'the chart passes args to the image’s entrypoint').toBeUndefined();
      const entrypoint = resolves(image, config.Entrypoint[0]!);
      expect(entrypoint?.mode, `${config.Entrypoint[0]} in ${image}`).toMatch(/^-rwx/);
      for (const port of container.ports ?? []) expect(Object.keys(config.ExposedPorts ?? {})).toContain(`${port.containerPort}/${port.protocol.toLowerCase()}`);
    }
  });

  it('api: the chart’s args are the image’s command, in its working directory, and name compiled files it holds', () => {
    const { containers } = chartPod('Deployment', 'tracebridge-api');
    const config = images.api.config.config;
    const [migrate, api] = containers as [ChartContainer, ChartContainer];
    expect(api.args).toEqual(config.Cmd);
    for (const container of [migrate, api]) {
      expect(container.workingDir).toBe(config.WorkingDir);
      for (const file of container.args!.filter((a) => a.includes('api/dist/'))) expect(entry('api', `${config.WorkingDir}/${file.replace(/^\.\//, '')}`), file).toBeDefined();
    }
    const test = chartPod('Pod', 'tracebridge-test').containers[0]!;
    expect(test.args).toEqual(['/test/smoke-test.mjs']);
  });

  it('postgres: PGDATA is on the data volume, the socket directory and /tmp are volumes, the probe command is on PATH', () => {
    const { containers } = chartPod('StatefulSet', 'tracebridge-postgresql');
    const config = images.postgres.config.config;
    const mounts = Object.fromEntries(containers[0]!.volumeMounts!.map((m) => [m.mountPath, m.name]));
    const pgdata = config.Env.find((e) => e.startsWith('PGDATA='))!.slice(7);
    expect(pgdata).toBe('/var/lib/postgresql/18/docker');
    expect(mounts['/var/lib/postgresql']).toBe('data');
    expect(Object.keys(mounts)).toEqual(expect.arrayContaining(['/var/run/postgresql', '/tmp']));
    const probe = containers[0]!.readinessProbe!.exec!.command;
    expect(probe[0]).toBe('pg_isready');
    expect(resolves('postgres', probe[0]!)?.mode).toMatch(/^-rwx/);
    expect(config.StopSignal).toBe('SIGINT');
  });

  it('prometheus: the TSDB path the chart passes is the working directory, writable by nobody', () => {
    const { containers } = chartPod('Deployment', 'tracebridge-prometheus');
    const config = images.prometheus.config.config;
    expect(containers[0]!.args).toContain(`--storage.tsdb.path=${config.WorkingDir}`);
    expect(containers[0]!.volumeMounts!.map((m) => m.mountPath)).toEqual(expect.arrayContaining(['/etc/prometheus', config.WorkingDir]));
    expect(config.Entrypoint).toEqual(['/bin/prometheus']);
    expect(entry('prometheus', config.WorkingDir)?.owner).toBe('65534/65534');
  });

  it('collector and Jaeger: the config file the chart passes is on a mounted volume', () => {
    for (const [name] of [['tracebridge-collector'], ['tracebridge-jaeger']] as const) {
      const container = chartPod('Deployment', name).containers[0]!;
      const config = /^--config=(.+)\/[^/]+$/.exec(container.args![0]!)![1]!;
      expect(container.volumeMounts!.map((m) => m.mountPath)).toContain(config);
    }
  });
});

describe('api/image.json: one description that api/Dockerfile and the builder follow', () => {
  const image = apiImage();
  const dockerfile = readFileSync(join(repoRoot, 'api/Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => /^[A-Z]+ /.test(l));
  const runtime = dockerfile.slice(dockerfile.findIndex((l) => l.startsWith('FROM ') && l.endsWith(' AS runtime')));

  it('the Dockerfile’s runtime stage holds what image.json lists, where it says', () => {
    expect(runtime[0]).toBe(`FROM ${image.base.dockerfile} AS runtime`);
    expect(runtime).toContain(`WORKDIR ${image.workdir}`);
    expect(runtime).toContain(`USER ${image.user.uid}:${image.user.gid}`);
    expect(runtime).toContain(`EXPOSE ${image.ports.join(' ')}`);
    for (const [key, value] of Object.entries(image.env)) expect(runtime).toContain(`ENV ${key}=${value}`);
    expect(JSON.parse(runtime.find((l) => l.startsWith('CMD '))!.slice(4))).toEqual(image.cmd);
    const copies = runtime
      .filter((l) => l.startsWith('COPY '))
      .map((l) => {
        const m = /^COPY --from=(\w+) \/src\/(\S+) \.\/(\S+)$/.exec(l);
        if (!m) throw new Error(`unexpected runtime COPY: ${l}`);
        return { stage: m[1], source: m[2], target: m[3] };
      });
    expect(copies).toEqual(image.copy);
  });

  it('the built image has the same config, on the pinned Node at the base image’s entrypoint', () => {
    const config = images.api.config.config;
    expect(config).toMatchObject({ User: `${image.user.uid}:${image.user.gid}`, Entrypoint: image.base.entrypoint, Cmd: image.cmd, WorkingDir: image.workdir });
    for (const [key, value] of Object.entries(image.env)) expect(config.Env).toContain(`${key}=${value}`);
    expect(Object.keys(config.ExposedPorts!)).toEqual(image.ports.map((p) => `${p}/tcp`));
    for (const { target } of image.copy) expect(entry('api', `${image.workdir}/${target}`), target).toBeDefined();
    expect(entry('api', '/app/node_modules/hono/package.json')).toBeDefined();
    expect(entry('api', '/app/node_modules/vitest'), 'a dev dependency').toBeUndefined();
    expect(entry('api', '/etc/passwd')).toBeDefined();
    expect(entry('api', '/tmp')?.mode).toBe('drwxrwxrwt');
  });
});

/** Resolves once the process has logged a line matching `pattern` (PostgreSQL logs to stderr). */
async function logged(proc: ManagedProcess, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(proc.stderr())) {
    if (proc.child.exitCode !== null) throw new Error(`exited ${proc.child.exitCode} before logging ${pattern}:\n${proc.stdout()}\n${proc.stderr()}`);
    if (Date.now() > deadline) throw new Error(`nothing matching ${pattern} within ${timeoutMs} ms:\n${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A host directory standing in for a PersistentVolume with fsGroup: group-owned, setgid, group-writable. */
async function volume(gid: number): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tracebridge-volume-'));
  await chown(dir, 0, gid);
  await chmod(dir, 0o2775);
  return dir;
}

describe('the postgres and api images run as the chart runs them', () => {
  const password = `pw-${Math.random().toString(36).slice(2)}"'$ x`;
  const env = { POSTGRES_USER: 'tracebridge', POSTGRES_PASSWORD: password, POSTGRES_DB: 'tracebridge' };
  const pgUser = { uid: 999, gid: 999 };
  let rootfs: string;
  let apiRootfs: string;
  let data: string;
  let port: number;
  let server: ManagedProcess | undefined;
  const mounts = () => ({ '/var/lib/postgresql': data, '/var/run/postgresql': 'emptyDir', '/tmp': 'emptyDir' });
  const start = () => runImage(rootfs, images.postgres.config.config, { env, args: ['postgres', '-p', String(port)], mounts: mounts() });
  const isReady = (proc: ManagedProcess) =>
    execIn(proc, ['pg_isready', '-h', '127.0.0.1', '-p', String(port), '-U', env.POSTGRES_USER, '-d', env.POSTGRES_DB], {
      env: images.postgres.config.config.Env,
      user: pgUser,
    });
  const connect = async (pass = password) => {
    const client = new pg.Client({ host: '127.0.0.1', port, user: env.POSTGRES_USER, password: pass, database: env.POSTGRES_DB });
    await client.connect();
    return client;
  };

  beforeAll(async () => {
    rootfs = await unpackRootfs(images.postgres);
    apiRootfs = await unpackRootfs(images.api);
    data = await volume(999);
    port = await freePort();
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await rm(data, { recursive: true, force: true });
  });

  it('refuses an empty volume without POSTGRES_PASSWORD, saying so', async () => {
    const proc = runImage(rootfs, images.postgres.config.config, { env: { POSTGRES_USER: 'x' }, mounts: mounts() });
    expect(await proc.exited).toBe(1);
    expect(proc.stderr()).toContain('You must specify POSTGRES_PASSWORD to a non-empty value');
  });

  it('initialises on first start: POSTGRES_DB owned by POSTGRES_USER, a SCRAM password, from any host with it', async () => {
    server = start();
    await logged(server, /database system is ready to accept connections/);
    expect(server.stdout()).toContain('PostgreSQL init process complete');
    const client = await connect();
    try {
      const { rows } = await client.query<Record<string, unknown>>(
        `SELECT current_user, current_database(), pg_get_userbyid(d.datdba) AS owner,
                (SELECT rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = current_user) AS scram,
                (SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' AND address = 'all') AS any_host,
                current_setting('listen_addresses') AS listen, current_setting('unix_socket_directories') AS sockets
           FROM pg_database d WHERE d.datname = current_database()`,
      );
      expect(rows[0]).toEqual({ current_user: 'tracebridge', current_database: 'tracebridge', owner: 'tracebridge', scram: true, any_host: 'scram-sha-256', listen: '*', sockets: '/var/run/postgresql' });
      await client.query('CREATE TABLE kept (v text)');
      await client.query(`INSERT INTO kept VALUES ('before restart')`);
    } finally {
      await client.end();
    }
    await expect(connect('wrong')).rejects.toMatchObject({ code: '28P01' });
  }, 90_000);

  it('pg_isready answers the chart’s probe: 0 accepting, 3 for bad arguments', async () => {
    expect(await isReady(server!)).toMatchObject({ code: 0, stdout: `127.0.0.1:${port} - accepting connections\n` });
    const bad = await execIn(server!, ['pg_isready', '--bogus'], { env: images.postgres.config.config.Env, user: pgUser });
    expect(bad.code).toBe(3);
  });

  it('the api image on the pinned Node: node --version, then the chart’s migration and server against this PostgreSQL', async () => {
    const api = images.api.config.config;
    const version = runImage(apiRootfs, api, { command: ['/nodejs/bin/node', '--version'] });
    expect(await version.exited).toBe(0);
    expect(version.stdout().trim()).toBe(`v${pinned('Makefile', 'NODE_VERSION')}`);

    const [migrate, container] = chartPod('Deployment', 'tracebridge-api').containers as [ChartContainer, ChartContainer];
    const apiEnv = {
      DATABASE_URL: `postgresql://tracebridge@127.0.0.1:${port}/tracebridge`,
      PGPASSWORD: password,
      DB_SSL: 'false',
      OTEL_SDK_DISABLED: 'true',
    };
    const migration = runImage(apiRootfs, api, { args: migrate.args, workingDir: migrate.workingDir, env: apiEnv });
    expect(await migration.exited, migration.stderr()).toBe(0);

    const [httpPort, metricsPort] = [await freePort(), await freePort()];
    const apiServer = runImage(apiRootfs, api, {
      args: container.args,
      workingDir: container.workingDir,
      env: { ...apiEnv, HOST: '127.0.0.1', PORT: String(httpPort), METRICS_HOST: '127.0.0.1', METRICS_PORT: String(metricsPort) },
    });
    try {
      await waitForHttp(`http://127.0.0.1:${httpPort}/readyz`, apiServer, 30_000);
      const created = await fetch(`http://127.0.0.1:${httpPort}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'Image', email: 'image@example.com' }),
      });
      expect(created.status).toBe(201);
      // node is PID 1 of the container and shuts down on the kubelet's SIGTERM.
      process.kill(await containerPid(apiServer), 'SIGTERM');
      expect(await apiServer.exited).toBe(0);
      expect(apiServer.stdout()).toContain('shutdown complete');
    } finally {
      await apiServer.stop();
    }
  }, 90_000);

  it('stopped (the image’s SIGINT), pg_isready says no response (2); restarted, it keeps the data and does not re-initialise', async () => {
    process.kill(await containerPid(server!), images.postgres.config.config.StopSignal);
    expect(await server!.exited).toBe(0);
    const probe = runImage(rootfs, images.postgres.config.config, { command: ['pg_isready', '-h', '127.0.0.1', '-p', String(port)], mounts: mounts() });
    expect(await probe.exited).toBe(2);
    expect(probe.stdout()).toContain('no response');

    server = start();
    await logged(server, /database system is ready to accept connections/);
    expect(server.stdout()).toContain('holds a database cluster (PostgreSQL 18): skipping initialisation');
    expect(server.stdout()).not.toContain('initialising');
    const client = await connect();
    try {
      expect((await client.query('SELECT v FROM kept')).rows).toEqual([{ v: 'before restart' }]);
    } finally {
      await client.end();
    }
  }, 90_000);

  it('killed (a stale postmaster.pid), pg_isready says no response (2), not ready', async () => {
    process.kill(await containerPid(server!), 'SIGKILL');
    await server!.exited;
    expect(await readFile(join(data, '18/docker/postmaster.pid'), 'utf8')).toMatch(/ready/);
    const probe = runImage(rootfs, images.postgres.config.config, { command: ['pg_isready'], mounts: mounts() });
    expect(await probe.exited).toBe(2);
  });
});

describe('the other images run from their rootfs as their user', () => {
  it('pause: PID 1 reaps orphans re-parented to it and exits 0 on SIGTERM', async () => {
    const rootfs = await unpackRootfs(images.pause);
    const pause = runImage(rootfs, images.pause.config.config);
    const pid = await containerPid(pause);
    // An orphan in the pod's PID namespace: the shell exits, its background child is re-parented to PID 1.
    await run('nsenter', ['--target', String(pid), '--pid', '--', '/bin/sh', '-c', 'sleep 0.2 & exit 0']);
    await new Promise((r) => setTimeout(r, 800));
    expect((await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8')).trim(), 'an unreaped zombie').toBe('');
    process.kill(pid, 'SIGTERM');
    expect(await pause.exited).toBe(0);
    expect(pause.stderr()).toContain('SIGTERM');
  });

  it('coredns: runs as 65532 and may bind port 53 (cap_net_bind_service file capability, as upstream)', async () => {
    const rootfs = await unpackRootfs(images.coredns);
    expect((await run('getcap', [join(rootfs, 'coredns')])).stdout).toContain('cap_net_bind_service=ep');
    const version = runImage(rootfs, images.coredns.config.config, { args: ['-version'] });
    expect(await version.exited).toBe(0);
    expect(version.stdout()).toContain(`CoreDNS-${toolVersion('COREDNS_VERSION')}`);
  });

  it.each([
    ['otelcol', ['--version'], 'otelcol-tracebridge version'],
    ['jaeger', ['version'], 'gitVersion'],
  ] as const)('%s: the static binary runs as its user', async (name, args, output) => {
    const rootfs = await unpackRootfs(images[name]);
    const proc = runImage(rootfs, images[name].config.config, { args: [...args] });
    expect(await proc.exited, proc.stderr()).toBe(0);
    expect(proc.stdout() + proc.stderr()).toContain(output);
  });

  it('prometheus: with the chart’s args and volumes it becomes ready, as nobody', async () => {
    const rootfs = await unpackRootfs(images.prometheus);
    const config = await mkdtemp(join(tmpdir(), 'tracebridge-prometheus-'));
    await writeFile(join(config, 'prometheus.yml'), 'global:\n  scrape_interval: 15s\n');
    await chmod(config, 0o755); // a ConfigMap volume is world-readable
    const port = await freePort();
    const args = chartPod('Deployment', 'tracebridge-prometheus').containers[0]!.args!;
    const prometheus = runImage(rootfs, images.prometheus.config.config, {
      args: [...args, `--web.listen-address=127.0.0.1:${port}`],
      mounts: { '/etc/prometheus': config, '/prometheus': 'emptyDir' },
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/-/ready`, prometheus, 30_000);
      expect((await readFile(`/proc/${await containerPid(prometheus)}/status`, 'utf8')).match(/^Uid:\s+(\d+)/m)![1]).toBe('65534');
    } finally {
      await prometheus.stop();
      await rm(config, { recursive: true, force: true });
    }
  }, 60_000);
});

/**
 * The archives in a real containerd (the cluster's, from the tools cache): a private daemon with
 * its own root, state and socket under a temporary directory, importing each archive exactly
 * as make cluster-images does, then running images with runc. It leaves nothing behind: runc's
 * state and the FIFOs go under the temporary directory, containers get a cgroup of this run's
 * own, and the shim socket directory containerd hard-codes (/run/containerd/s) is removed when
 * this run created it and it is empty.
 */
describe('a real containerd imports the archives', () => {
  /** Directories containerd and runc may create outside their configured root and state. */
  const HARD_CODED = ['/run/containerd/s', '/run/containerd'];
  const existedBefore = new Set(HARD_CODED.filter((d) => existsSync(d)));
  const CGROUP = `tracebridge-images-test-${process.pid}`;

  let dir: string;
  let containerd: ManagedProcess | undefined;
  let ctr: (...args: string[]) => Promise<string>;

  beforeAll(async () => {
    const bin = dirname((await run('bash', [join(repoRoot, 'collector/build-tools.sh'), 'containerd'])).stdout.trim());
    dir = await mkdtemp(join(tmpdir(), 'tracebridge-containerd-'));
    const socket = join(dir, 'containerd.sock');
    // Nothing outside `dir`: no CRI (it wants CNI and the kubelet), no NRI socket in /var/run, no
    // /opt/containerd (the opt plugin creates it).
    await writeFile(
      join(dir, 'config.toml'),
      [
        'version = 3',
        `root = "${dir}/root"`,
        `state = "${dir}/state"`,
        'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", "io.containerd.nri.v1.nri", "io.containerd.internal.v1.opt"]',
        '[grpc]',
        `  address = "${socket}"`,
        '[ttrpc]',
        `  address = "${socket}.ttrpc"`,
      ].join('\n') + '\n',
    );
    containerd = runProcess(join(bin, 'containerd'), ['--config', join(dir, 'config.toml')], { PATH: `${bin}:${process.env.PATH ?? ''}` });
    for (let i = 0; !existsSync(socket); i++) {
      if (containerd.child.exitCode !== null || i > 300) throw new Error(`containerd did not start:\n${containerd.stderr()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const base = (...args: string[]) => run(join(bin, 'ctr'), ['--address', socket, '--namespace', 'k8s.io', ...args], { maxBuffer: 16 << 20 });
    ctr = async (...args: string[]) => {
      if (args[0] !== 'run') return (await base(...args)).stdout;
      const [, ...rest] = args;
      return (await base('run', `--runc-root=${dir}/runc`, `--fifo-dir=${dir}/fifo`, `--cgroup=/${CGROUP}`, ...rest)).stdout;
    };
  }, 900_000);

  afterAll(async () => {
    await containerd?.stop();
    // Snapshots are mounted only while a container runs; none is left.
    if (dir) await rm(dir, { recursive: true, force: true });
    for (const controller of readdirSync('/sys/fs/cgroup')) await rmdir(join('/sys/fs/cgroup', controller, CGROUP)).catch(() => undefined);
    // Only when empty: a cluster running meanwhile keeps its shims' sockets there.
    for (const d of HARD_CODED.filter((d) => !existedBefore.has(d))) await rmdir(d).catch(() => undefined);
  });

    it('ctr images import names every image by its tracebridge.local reference and unpacks it', async () => {
      for (const name of Object.keys(refs)) await ctr('images', 'import', join(imagesDir(), `${name}.tar`));
      const listed = (await ctr('images', 'ls', '-q')).trim().split('\n');
      expect(listed.sort()).toEqual(Object.values(refs).sort());
      // check: every blob present and the image unpacked for this platform.
      const check = await ctr('images', 'check');
      for (const ref of Object.values(refs)) expect(check).toMatch(new RegExp(`^${ref.replace(/[.]/g, '\\.')}\\s.*complete \\(\\d+/\\d+\\)`, 'm'));
    }, 300_000);

    it('the pause image runs under runc and answers -v', async () => {
      const output = await ctr('run', '--rm', refs.pause!, `pause-${process.pid}`, '/pause', '-v');
      expect(output).toContain('pause 3.10');
    }, 60_000);

    it('runc applies the api image’s config: node as 65532:65532 in /app, NODE_ENV=production', async () => {
      const script = 'console.log(`${process.getuid()}:${process.getgid()} ${process.cwd()} ${process.env.NODE_ENV}`)';
      const output = await ctr('run', '--rm', refs.api!, `api-${process.pid}`, '/nodejs/bin/node', '-e', script);
      expect(output.trim()).toBe('65532:65532 /app production');
    }, 60_000);
});
