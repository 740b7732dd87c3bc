import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imagesDir } from '../../cluster/images/inputs.ts';
import { repoRoot, runProcess, type ManagedProcess } from '../support/process.ts';

/**
 * The archives in a real containerd (the cluster's, from the tools cache): a private daemon with
 * its own root, state and socket under a temporary directory, importing each archive exactly
 * as make cluster-images does, then running images with runc. Needs root. It leaves nothing
 * behind: runc's state and the FIFOs go under the temporary directory, containers get a cgroup
 * of this run's own, and the shim socket directory containerd hard-codes (/run/containerd/s) is
 * removed when this run created it and it is empty.
 */

/** Directories containerd and runc may create outside their configured root and state. */
const HARD_CODED = ['/run/containerd/s', '/run/containerd'];
const existedBefore = new Set(HARD_CODED.filter((d) => existsSync(d)));
const CGROUP = `tracebridge-images-test-${process.pid}`;

const run = promisify(execFile);
let dir: string;
let containerd: ManagedProcess | undefined;
let ctr: (...args: string[]) => Promise<string>;
let refs: Record<string, string>;

beforeAll(async () => {
  await run('make', ['--no-print-directory', 'cluster-image-archives'], { cwd: repoRoot, maxBuffer: 64 << 20 });
  refs = Object.fromEntries(
    (await run('node', ['cluster/images/build.ts', 'refs'], { cwd: repoRoot })).stdout
      .trim()
      .split('\n')
      .map((l) => l.split('=') as [string, string]),
  );
  const bin = dirname((await run('bash', [join(repoRoot, 'collector/build-tools.sh'), 'containerd'])).stdout.trim());
  dir = await mkdtemp(join(tmpdir(), 'tracebridge-containerd-'));
  const socket = join(dir, 'containerd.sock');
  // Nothing outside `dir`: no CRI (it wants CNI and the kubelet), no NRI socket in /var/run.
  await writeFile(
    join(dir, 'config.toml'),
    [
      'version = 3',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.runtime", "io.containerd.cri.v1.images", "io.containerd.nri.v1.nri"]',
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

describe('a real containerd imports the archives', () => {
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
