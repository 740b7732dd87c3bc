import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface ApiProcess {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  /** Resolves when a stdout line matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** Node flags that start the OpenTelemetry SDK before the app, as the image and `make dev` do. */
export const PRELOAD = ['--import', './api/src/telemetry/preload.ts'];

export interface ManagedProcess extends ApiProcess {
  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
  stop(): Promise<void>;
}

/** Runs a TypeScript entry point of the API with Node, as `make dev` and the image do. */
export function runNode(
  entry: string,
  args: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
): ManagedProcess {
  return runProcess(process.execPath, [...nodeArgs, entry, ...args], env);
}

/** Runs a program with only PATH and the given environment, capturing its output. */
export function runProcess(command: string, args: string[], env: Record<string, string>): ManagedProcess {
  const child = spawn(command, args, {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
  });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
    for (const w of waiters) w();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
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
