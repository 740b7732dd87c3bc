import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AS_INSTALLED, find, podSpecs, renderExample, type K8sObject } from '../support/chart.ts';
import { repoRoot } from '../support/process.ts';
import { toolBinary } from '../support/tools.ts';

/**
 * What can be checked of the kind workflow without Docker or a cluster: each target's commands
 * (make -n) and the files they name, the GitHub workflow (actionlint), and the Dockerfile
 * against the chart that runs its image.
 */

const run = promisify(execFile);

async function dryRun(target: string, vars: Record<string, string> = {}): Promise<string> {
  const { stdout } = await run('make', ['-n', '--no-print-directory', target, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)], {
    cwd: repoRoot,
  });
  return stdout;
}

/** Repository paths a command line names (charts/..., api/...), without trailing punctuation. */
const pathsIn = (text: string) => [...text.matchAll(/(?:^|[\s=])((?:charts|api|cdk8s|collector)\/[\w./-]+)/g)].map((m) => m[1]!.replace(/[.,;:]$/, ''));

const KIND_TARGETS = [
  'kind-up',
  'kind-down',
  'image',
  'kind-load',
  'deploy',
  'undeploy',
  'port-forward-jaeger',
  'port-forward-grafana',
  'port-forward-api',
  'port-forward-prometheus',
  'status',
  'logs',
  'grafana-password',
];

describe('kind targets (make -n)', () => {
  it('make help lists every kind target with one line', async () => {
    const { stdout } = await run('make', ['--no-print-directory', 'help'], { cwd: repoRoot });
    for (const target of [...KIND_TARGETS, 'demo-k8s', 'deploy-cdk8s', 'synth']) expect(stdout).toMatch(new RegExp(`^  make ${target} +\\S`, 'm'));
  });

  it.each(KIND_TARGETS)('%s: checks its prerequisites and names only files that exist', async (target) => {
    const commands = await dryRun(target);
    expect(commands).toMatch(/command -v (docker|kind|kubectl|helm) >\/dev\/null/);
    for (const path of pathsIn(commands)) expect(existsSync(join(repoRoot, path)), `${target} names ${path}`).toBe(true);
  });

  it('kind-up creates the named cluster from the kind config in the repository', async () => {
    const commands = await dryRun('kind-up');
    expect(commands).toContain('kind create cluster --name tracebridge --config charts/kind/cluster.yaml');
    expect(parse(readFileSync(join(repoRoot, 'charts/kind/cluster.yaml'), 'utf8'))).toMatchObject({ kind: 'Cluster', name: 'tracebridge' });
  });

  it('image builds the tag the chart deploys by default, and kind-load loads that tag', async () => {
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
    const chart = parse(readFileSync(join(repoRoot, 'charts/tracebridge/Chart.yaml'), 'utf8')) as { appVersion: string };
    expect(chart.appVersion).toBe(version);
    const values = parse(readFileSync(join(repoRoot, 'charts/tracebridge/values.yaml'), 'utf8')) as { api: { image: { repository: string } } };
    const image = `${values.api.image.repository}:${version}`;
    expect(image).toBe(`ghcr.io/tracebridge/tracebridge-api:${version}`);
    expect(await dryRun('image')).toContain(`docker build -f api/Dockerfile -t ${image} .`);
    expect(await dryRun('kind-load')).toContain(`kind load docker-image ${image} --name tracebridge`);
  });

  it('deploy installs the chart with an example (VALUES picks another) and waits', async () => {
    expect(await dryRun('deploy')).toMatch(/helm upgrade --install tracebridge charts\/tracebridge --namespace tracebridge --create-namespace[\s\\]+--values charts\/tracebridge\/examples\/kind\/values\.yaml [\s\S]*--wait/);
    expect(await dryRun('deploy', { VALUES: 'charts/tracebridge/examples/datadog/values.yaml' })).toContain('--values charts/tracebridge/examples/datadog/values.yaml');
  });

  /** The objects a command line finds by label: [kind, instance, component]. */
  const lookups = (commands: string) =>
    [...commands.matchAll(/kubectl -n tracebridge get (\w+) -o name \\?\s*-l app\.kubernetes\.io\/instance=(\S+),app\.kubernetes\.io\/component=(\w+)/g)].map((m) => [m[1]!, m[2]!, m[3]!]);
  const labelled = (objects: K8sObject[], kind: string, instance: string, component: string) =>
    objects.filter(
      (o) => o.kind.toLowerCase() === kind && o.metadata.labels?.['app.kubernetes.io/instance'] === instance && o.metadata.labels['app.kubernetes.io/component'] === component,
    );

  it('port-forwards find the Services the chart creates by its labels, and forward a port they name', async () => {
    const { objects } = await renderExample('kind');
    const cases: [string, string, string, number][] = [
      ['port-forward-jaeger', 'jaeger', 'query-http', 16686],
      ['port-forward-grafana', 'grafana', 'http', 3000],
      ['port-forward-api', 'api', 'http', 8000],
      ['port-forward-prometheus', 'prometheus', 'http', 9090],
    ];
    for (const [target, component, portName, documented] of cases) {
      const commands = await dryRun(target);
      expect(lookups(commands)).toEqual([['service', 'tracebridge', component]]);
      expect(commands).toContain(`"$port:${portName}"`);
      const [service, ...others] = labelled(objects, 'service', 'tracebridge', component);
      expect(others, target).toEqual([]);
      // The port the target forwards is the Service's port of that name: the one the help text documents.
      expect((service!.spec as { ports: { name: string; port: number }[] }).ports.find((p) => p.name === portName)?.port, target).toBe(documented);
      expect(await run('make', ['--no-print-directory', 'help'], { cwd: repoRoot }).then((r) => r.stdout)).toMatch(new RegExp(`make ${target} .*localhost:${documented}`));
    }
  });

  it('any release name, any fullnameOverride: the objects are found by label, never by a rebuilt name', async () => {
    expect(lookups(await dryRun('port-forward-api', { RELEASE: 'demo' }))).toEqual([['service', 'demo', 'api']]);
    for (const set of [{}, { fullnameOverride: 'shop' }]) {
      const { stdout } = await run(toolBinary('HELM_BIN'), ['template', 'demo', join(repoRoot, 'charts/tracebridge'), ...AS_INSTALLED, ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`])]);
      const objects = stdout.split(/^---$/m).map((d) => parse(d) as K8sObject | null).filter((o): o is K8sObject => o !== null);
      expect(labelled(objects, 'service', 'demo', 'api'), JSON.stringify(set)).toHaveLength(1);
      expect(labelled(objects, 'secret', 'demo', 'grafana'), JSON.stringify(set)).toHaveLength(1);
      expect(labelled(objects, 'secret', 'demo', 'postgresql'), JSON.stringify(set)).toHaveLength(1);
    }
    expect(lookups(await dryRun('grafana-password'))).toEqual([['secret', 'tracebridge', 'grafana']]);
    expect(await dryRun('undeploy')).toContain('get pvc,secret -o name -l app.kubernetes.io/instance=tracebridge,app.kubernetes.io/component=postgresql');
    expect(lookups(await dryRun('demo-k8s'))).toEqual([['service', 'tracebridge', 'api'], ['service', 'tracebridge', 'jaeger']]);
  });

  it('a missing prerequisite is named, with where to get it', async () => {
    // A PATH with what make needs (bash, node) and nothing else.
    const bin = await mkdtemp(join(tmpdir(), 'tracebridge-path-'));
    for (const tool of ['bash', 'node']) await symlink((await run('bash', ['-c', `command -v ${tool}`])).stdout.trim(), join(bin, tool));
    const make = (await run('bash', ['-c', 'command -v make'])).stdout.trim();
    const result = await run(make, ['--no-print-directory', 'kind-up'], { cwd: repoRoot, env: { PATH: bin, HOME: process.env.HOME } }).then(
      () => 'succeeded',
      (error: unknown) => (error as { stderr?: string }).stderr ?? '',
    );
    expect(result).toMatch(/tracebridge: 'docker' is not installed; install Docker: https:\/\/docs\.docker\.com/);
  });
});

describe('the GitHub workflow', () => {
  const workflows = readdirSync(join(repoRoot, '.github/workflows')).map((f) => join(repoRoot, '.github/workflows', f));

  it('passes actionlint', async () => {
    await expect(run(toolBinary('ACTIONLINT_BIN'), ['-no-color', ...workflows], { cwd: repoRoot })).resolves.toBeDefined();
  });

  it('actionlint is not a rubber stamp', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracebridge-actionlint-'));
    await writeFile(join(dir, 'bad.yaml'), readFileSync(workflows[0]!, 'utf8').replace('runs-on: ubuntu-24.04', 'runs-on: ${{ matrix.os }}'));
    const output = await run(toolBinary('ACTIONLINT_BIN'), ['-no-color', join(dir, 'bad.yaml')]).then(
      () => 'passed',
      (error: unknown) => (error as { stdout?: string }).stdout ?? '',
    );
    expect(output).toMatch(/property "os" is not defined in object type \{\} \[expression\]/);
  });

  it('runs the whole kind flow with make targets that exist', async () => {
    const workflow = parse(readFileSync(join(repoRoot, '.github/workflows/kind.yaml'), 'utf8')) as {
      jobs: { kind: { steps: { run?: string; uses?: string; with?: Record<string, string> }[] } };
    };
    const steps = workflow.jobs.kind.steps;
    const runs = steps.map((s) => s.run ?? '').join('\n');
    for (const flow of ['make image kind-load', 'make deploy', 'make demo-k8s', 'helm test tracebridge']) expect(runs).toContain(flow);
    expect(steps.find((s) => s.uses?.startsWith('helm/kind-action'))?.with?.config).toBe('charts/kind/cluster.yaml');
    for (const target of runs.matchAll(/make ([\w -]+)/g)) {
      for (const name of target[1]!.trim().split(/\s+/)) await expect(dryRun(name), name).resolves.toBeDefined();
    }
  });
});

describe('api/Dockerfile', () => {
  const dockerfile = readFileSync(join(repoRoot, 'api/Dockerfile'), 'utf8');
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => /^[A-Z]+ /.test(l));
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = (await renderExample('kind')).objects;
  });

  /** .dockerignore: the last matching pattern wins; "dir/" covers a subtree. */
  function sentToDocker(path: string): boolean {
    const patterns = readFileSync(join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    let included = true;
    for (const pattern of patterns) {
      const negate = pattern.startsWith('!');
      const p = negate ? pattern.slice(1) : pattern;
      const matches = p === '*' || path === p.replace(/\/$/, '') || path.startsWith(p.endsWith('/') ? p : `${p}/`);
      if (matches) included = negate;
    }
    return included;
  }

  it('every file the build stages copy exists and is in the build context', () => {
    const copies = instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from='));
    expect(copies.length).toBeGreaterThan(2);
    for (const copy of copies) {
      const sources = copy.split(/\s+/).slice(1, -1).filter((a) => !a.startsWith('--'));
      for (const source of sources) {
        expect(existsSync(join(repoRoot, source)), source).toBe(true);
        expect(sentToDocker(source.replace(/\/$/, '')), `${source} is excluded by .dockerignore`).toBe(true);
      }
    }
    expect(sentToDocker('node_modules')).toBe(false);
    expect(sentToDocker('api/src/dev')).toBe(false);
  });

  it('the start command is the one the chart runs, and the compiled files it names come from existing sources', () => {
    const cmd = JSON.parse(instructions.find((l) => l.startsWith('CMD '))!.slice(4)) as string[];
    const api = podSpecs([find(objects, 'Deployment', 'tracebridge-api')])[0]!.spec;
    const container = api.containers[0] as unknown as { args: string[]; workingDir: string };
    expect(cmd).toEqual(container.args);
    expect(instructions).toContain(`WORKDIR ${container.workingDir}`);
    const migrate = api.initContainers![0] as unknown as { args: string[] };
    for (const file of [...cmd, ...migrate.args].filter((a) => a.includes('api/dist/'))) {
      expect(existsSync(join(repoRoot, file.replace(/^\.\//, '').replace('api/dist/', 'api/src/').replace(/\.js$/, '.ts'))), file).toBe(true);
    }
  });

  it('runs as the non-root user the chart sets, on Node 24, exposing the chart’s ports', () => {
    const api = podSpecs([find(objects, 'Deployment', 'tracebridge-api')])[0]!.spec;
    expect(instructions).toContain(`USER ${String(api.securityContext!.runAsUser)}:${String(api.securityContext!.runAsGroup)}`);
    expect(instructions.find((l) => l.startsWith('FROM gcr.io/distroless/'))).toMatch(/nodejs24-.*:nonroot AS runtime$/);
    const makefile = readFileSync(join(repoRoot, 'Makefile'), 'utf8');
    expect(dockerfile).toContain(`ARG NODE_VERSION=${/^NODE_VERSION := (\S+)/m.exec(makefile)![1]!}`);
    const ports = (api.containers[0] as unknown as { ports: { containerPort: number }[] }).ports.map((p) => p.containerPort);
    expect(instructions).toContain(`EXPOSE ${ports.join(' ')}`);
    // Exec form: node is PID 1 and receives SIGTERM itself.
    expect(instructions.find((l) => l.startsWith('CMD '))).toMatch(/^CMD \[/);
  });
});
