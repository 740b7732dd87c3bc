import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import type { RuntimeConfig } from '../../cluster/images/oci.ts';
import { repoRoot, runProcess, type ManagedProcess } from './process.ts';

/**
 * Reading the local cluster's OCI image archives (cluster/images) with GNU tar, and running an
 * image's contents without a container runtime: the layer unpacked to a directory, the process
 * started in it by root tools (unshare, mount, nsenter) the way a runtime would — its own mount
 * and PID namespaces, a read-only root, the pod's volumes mounted over it, the user and group
 * the chart sets. Needs root.
 */

const run = promisify(execFile);

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export interface ImageArchive {
  dir: string;
  layout: { imageLayoutVersion: string };
  index: { schemaVersion: number; mediaType: string; manifests: Descriptor[] };
  manifest: { schemaVersion: number; mediaType: string; config: Descriptor; layers: Descriptor[] };
  config: { architecture: string; os: string; config: RuntimeConfig; rootfs: { type: string; diff_ids: string[] } };
  /** blob path of a digest. */
  blob(digest: string): string;
}

const json = async <T>(path: string) => JSON.parse(await readFile(path, 'utf8')) as T;

/** Unpack an archive's layout (not its layer) into a temporary directory. */
export async function openArchive(archive: string): Promise<ImageArchive> {
  const dir = await mkdtemp(join(tmpdir(), 'tracebridge-oci-'));
  await run('tar', ['-xf', archive, '-C', dir]);
  const blob = (digest: string) => join(dir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''));
  const index = await json<ImageArchive['index']>(join(dir, 'index.json'));
  const manifest = await json<ImageArchive['manifest']>(blob(index.manifests[0]!.digest));
  return {
    dir,
    layout: await json(join(dir, 'oci-layout')),
    index,
    manifest,
    config: await json(blob(manifest.config.digest)),
    blob,
  };
}

export const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** The uncompressed layer. */
export async function layerTar(image: ImageArchive): Promise<Buffer> {
  return gunzipSync(await readFile(image.blob(image.manifest.layers[0]!.digest)));
}

export interface LayerEntry {
  mode: string;
  owner: string;
  size: number;
  date: string;
  path: string;
  target?: string;
}

/** `tar -tv --numeric-owner` of the layer, parsed. */
export async function layerEntries(image: ImageArchive): Promise<LayerEntry[]> {
  const { stdout } = await run('tar', ['-tzv', '--numeric-owner', '--full-time', '-f', image.blob(image.manifest.layers[0]!.digest)], { maxBuffer: 64 << 20 });
  return stdout
    .trim()
    .split('\n')
    .map((line) => {
      const m = /^(\S+) (\d+\/\d+) +(\d+) (\S+ \S+) (.+?)(?: -> (.+))?$/.exec(line);
      if (!m) throw new Error(`unparsed tar line: ${line}`);
      return { mode: m[1]!, owner: m[2]!, size: Number(m[3]), date: m[4]!, path: m[5]!, target: m[6] };
    });
}

/** The image's root filesystem, unpacked with the layer's owners, modes and capabilities. */
export async function unpackRootfs(image: ImageArchive): Promise<string> {
  const root = join(image.dir, 'rootfs');
  await mkdir(root);
  await run('tar', ['-xzf', image.blob(image.manifest.layers[0]!.digest), '-C', root, '--numeric-owner', '--same-owner', '--same-permissions', '--xattrs', '--xattrs-include=security.capability']);
  return root;
}

/** uid and gid of an image's User ("uid:gid"). */
export function userOf(config: RuntimeConfig): { uid: number; gid: number } {
  const [uid, gid] = config.User.split(':').map(Number);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`User ${config.User} is not numeric uid:gid`);
  return { uid: uid!, gid: gid! };
}

// Runs as PID 1 of new mount and PID namespaces (the network is the host's, like hostNetwork).
const RUNNER = join(repoRoot, 'test/support/run-in-rootfs.sh');

export interface RunOptions {
  /** Kubernetes' args: replace the image's Cmd. */
  args?: string[];
  /** Kubernetes' command: replaces the Entrypoint (and drops Cmd). */
  command?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  user?: { uid: number; gid: number };
  /** Mount path → a host directory, or "emptyDir" for a fresh tmpfs. */
  mounts?: Record<string, string>;
}

/**
 * Start the image's process in `rootfs` as a runtime would: Entrypoint + Cmd (or the
 * overrides), the image's Env plus `env`, its WorkingDir and User, a read-only root.
 */
export function runImage(rootfs: string, config: RuntimeConfig, options: RunOptions = {}): ManagedProcess {
  const argv = options.command ? options.command.concat(options.args ?? []) : [...config.Entrypoint, ...(options.args ?? config.Cmd ?? [])];
  const env = [...config.Env, ...Object.entries(options.env ?? {}).map(([k, v]) => `${k}=${v}`)];
  const { uid, gid } = options.user ?? userOf(config);
  const mounts = Object.entries(options.mounts ?? {}).map(([target, source]) => `${target}=${source}`);
  const runnerArgs = [rootfs, options.workingDir ?? config.WorkingDir, String(uid), String(gid), ...mounts, '--', ...env, '--', ...argv];
  return runProcess('unshare', ['--mount', '--pid', '--fork', '--kill-child', 'bash', RUNNER, ...runnerArgs], {});
}

/** The image's process (PID 1 of its namespace), seen from the host. */
export async function containerPid(process: ManagedProcess): Promise<number> {
  const unshare = process.child.pid!;
  for (let i = 0; i < 100; i++) {
    const children = (await readFile(`/proc/${unshare}/task/${unshare}/children`, 'utf8').catch(() => '')).trim();
    if (children) return Number(children.split(/\s+/)[0]);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('the image process did not start');
}

/** Run a second process in the namespaces and root of a running one (kubectl exec). */
export async function execIn(
  process: ManagedProcess,
  argv: string[],
  options: { env?: string[]; user: { uid: number; gid: number } },
): Promise<{ code: number; stdout: string; stderr: string }> {
  const pid = await containerPid(process);
  // --root and --wd without a value: the target's own, as seen inside its mount namespace.
  const args = ['--target', String(pid), '--mount', '--pid', '--root', '--wd', `--setuid=${options.user.uid}`, `--setgid=${options.user.gid}`];
  return run('/usr/bin/env', ['-i', ...(options.env ?? []), '/usr/bin/nsenter', ...args, ...argv]).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: unknown) => {
      const { code, stdout, stderr } = error as { code?: number; stdout?: string; stderr?: string };
      return { code: code ?? -1, stdout: stdout ?? '', stderr: stderr ?? '' };
    },
  );
}
