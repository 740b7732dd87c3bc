import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './process.ts';
import { freePort } from './ports.ts';

const exec = promisify(execFile);

/** The local cluster's facts, read from cluster/env.sh (their one source). */
export function clusterEnv(): Record<string, string> {
  const script = `source cluster/env.sh; for v in CLUSTER_DIR NODE_IP NODE_INTERFACE BRIDGE SERVICE_CIDR POD_CIDR CLUSTER_RANGE ADMIN_KUBECONFIG CONTAINERD_SOCKET CHAIN_PATTERN IPSET_PATTERN; do printf '%s=%s\\n' "$v" "\${!v}"; done; printf 'SYSCTLS=%s\\n' "\${SYSCTLS[*]}"; printf 'HOST_PATHS=%s\\n' "\${HOST_PATHS[*]}"`;
  const out = execFileSyncText('bash', ['-c', script]);
  return Object.fromEntries(out.trim().split('\n').map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]));
}

function execFileSyncText(command: string, args: string[]): string {
  return execFileSync(command, args, { cwd: repoRoot, encoding: 'utf8' });
}

export interface Run {
  stdout: string;
  stderr: string;
}

/** Runs a command from the repository root; rejects with its output when it fails. */
export async function run(command: string, args: string[], env: Record<string, string> = {}, timeoutMs = 600_000): Promise<Run> {
  try {
    const { stdout, stderr } = await exec(command, args, {
      cwd: repoRoot,
      env: { ...process.env, ...env },
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { stdout, stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: error });
  }
}

/** `make TARGET VAR=value ...` with the cluster's kubeconfig and the pinned helm and kubectl first on PATH. */
export function make(target: string, vars: Record<string, string> = {}, timeoutMs = 600_000): Promise<Run> {
  return run('make', ['--no-print-directory', target, ...Object.entries(vars).map(([k, v]) => `${k}=${v}`)], clusterToolsEnv(), timeoutMs);
}

let toolsEnv: Record<string, string> | undefined;
/** KUBECONFIG of the local cluster, and PATH with the pinned kubectl and helm first. */
export function clusterToolsEnv(): Record<string, string> {
  if (toolsEnv) return toolsEnv;
  const kubectl = execFileSyncText('bash', ['collector/build-tools.sh', 'kubernetes']).trim();
  const helm = process.env.HELM_BIN ?? execFileSyncText('bash', ['collector/build-tools.sh', 'helm']).trim();
  toolsEnv = {
    KUBECONFIG: clusterEnv().ADMIN_KUBECONFIG!,
    PATH: [dirname(kubectl), dirname(helm), process.env.PATH ?? ''].join(':'),
  };
  return toolsEnv;
}

export function kubectl(args: string[], timeoutMs = 120_000): Promise<Run> {
  return run('kubectl', args, clusterToolsEnv(), timeoutMs);
}

/** `kubectl apply` of one object (written to a temporary file, removed after). */
export async function apply(object: object): Promise<Run> {
  const dir = await mkdtemp(join(tmpdir(), 'tracebridge-apply-'));
  try {
    await writeFile(join(dir, 'object.json'), JSON.stringify(object));
    return await kubectl(['apply', '-f', join(dir, 'object.json')]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function kubectlJson<T>(args: string[]): Promise<T> {
  return JSON.parse((await kubectl([...args, '-o', 'json'])).stdout) as T;
}

export function helm(args: string[], timeoutMs = 600_000): Promise<Run> {
  return run('helm', args, clusterToolsEnv(), timeoutMs);
}

export interface PortForward {
  /** http://127.0.0.1:<local port> */
  url: string;
  stop(): Promise<void>;
}

/**
 * Runs a `kubectl port-forward` command as NOTES.txt prints it, with the local port replaced by
 * a free one (suites run side by side); resolves once it forwards.
 */
export async function portForward(command: string): Promise<PortForward> {
  const words = command.trim().split(/\s+/);
  if (words[0] !== 'kubectl' || !words.includes('port-forward')) throw new Error(`not a port-forward command: ${command}`);
  const local = await freePort();
  // The first LOCAL:REMOTE pair, with LOCAL replaced; further pairs are left out.
  const pairs = words.filter((word) => /^\d+:[\w-]+$/.test(word));
  if (pairs.length === 0) throw new Error(`no LOCAL:REMOTE port in: ${command}`);
  const args = words.slice(1).filter((word) => !pairs.slice(1).includes(word)).map((word) => (word === pairs[0] ? word.replace(/^\d+:/, `${local}:`) : word));
  const child: ChildProcess = spawn('kubectl', [...args, '--address', '127.0.0.1'], {
    cwd: repoRoot,
    env: { ...process.env, ...clusterToolsEnv() },
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`port-forward did not start: ${command}\n${output}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Forwarding from')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`port-forward exited (${String(code)}): ${command}\n${output}`));
    });
  });
  return {
    url: `http://127.0.0.1:${local}`,
    stop: async () => {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

/** The `kubectl ... port-forward ...` lines of a release's NOTES.txt, keyed by the Service they forward. */
export function notesPortForwards(notes: string): Map<string, string> {
  const commands = new Map<string, string>();
  for (const line of notes.split('\n')) {
    const match = /kubectl .*port-forward svc\/(\S+)/.exec(line);
    if (match) commands.set(match[1]!, line.trim());
  }
  return commands;
}

/** Polls `check` until it returns a value that is not undefined; rejects after timeoutMs. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 1000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${last instanceof Error ? ` (last error: ${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const localClusterValues = join(repoRoot, 'charts/tracebridge/examples/local-cluster/values.yaml');

/** The reference `make cluster-images` gives an image (cluster/images is its one source). */
export function imageRef(name: string): string {
  return execFileSyncText('node', ['cluster/images/build.ts', 'refs', name]).trim().split('=')[1]!;
}
