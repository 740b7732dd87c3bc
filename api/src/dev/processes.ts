import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Child processes with captured output, used by the local stack (`make up`) and the tests. */

export const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));

export interface ApiProcess {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Resolves when a stdout line matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

export interface ManagedProcess extends ApiProcess {
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Runs a program with only PATH and the given environment, capturing its output. */
export function runProcess(
  command: string,
  args: string[],
  env: Record<string, string>,
  /** Called with each chunk of output as it arrives (the stack prints it with a prefix). */
  onOutput?: (chunk: string) => void,
  cwd: string = repoRoot,
): ManagedProcess {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    onOutput?.(chunk.toString('utf8'));
    for (const w of waiters) w();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
    onOutput?.(chunk.toString('utf8'));
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  const waitFor = (pattern: RegExp, timeoutMs = 15_000) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const line = out.split('\n').find((l) => pattern.test(l));
        if (line) {
          clearTimeout(timer);
          resolve(line);
        }
      };
      const timer = setTimeout(
        () => reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; stdout:\n${out}\nstderr:\n${err}`)),
        timeoutMs,
      );
      waiters.push(check);
      void exited.then(() => setTimeout(check, 0));
      check();
    });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  return { child, stdout: () => out, stderr: () => err, exited, waitFor, stop };
}

/** Resolves once GET url answers 2xx; rejects if the process exits first or after timeoutMs. */
export async function waitForHttp(url: string, process: ManagedProcess, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    if (process.child.exitCode !== null) throw new Error(`${url}: process exited\n${process.stderr()}`);
    if (Date.now() > deadline) throw new Error(`${url} not healthy within ${timeoutMs} ms\n${process.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
