import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/process.ts';
import { onCore } from './machine.ts';

/**
 * The bench's child processes. Unlike the tests' runProcess, output goes to a log file, not
 * into the runner's memory: a server under load logs a line per request, and collecting that
 * through a pipe would cost the load generator's core and grow without bound.
 */

export interface BenchProcess {
  name: string;
  pid: number;
  /** The log file (stdout and stderr). */
  log: string;
  exited: Promise<number | string>;
  /** Whether the process is still running. */
  alive(): boolean;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): string;
  /** SIGTERM, SIGKILL after graceMs; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

const running = new Set<BenchProcess>();
const cleanups: (() => Promise<void>)[] = [];

/** Runs fn (e.g. stopping a collector started by the tests' helpers) in stopAll(). */
export function onCleanup(fn: () => Promise<void>): void {
  cleanups.push(fn);
}

export function startProcess(options: {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  logDir: string;
  /** Run on this core (taskset), when pinning is available. */
  core?: number;
  cwd?: string;
}): BenchProcess {
  const log = join(options.logDir, `${options.name}.log`);
  const fd = openSync(log, 'a');
  const [command, args] =
    options.core === undefined ? [options.command, options.args] : onCore(options.core, options.command, options.args);
  const child: ChildProcess = spawn(command, args, {
    cwd: options.cwd ?? repoRoot,
    env: { PATH: process.env.PATH ?? '', ...options.env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
    child.on('error', (error) => resolve(`spawn error: ${error.message}`));
  });
  const alive = () => child.exitCode === null && child.signalCode === null;
  const proc: BenchProcess = {
    name: options.name,
    pid: child.pid ?? -1,
    log,
    exited,
    alive,
    tail: (lines = 30) => {
      try {
        return readFileSync(log, 'utf8').split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
    stop: async (graceMs = 10_000) => {
      if (alive()) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      running.delete(proc);
    },
  };
  running.add(proc);
  void exited.then(() => running.delete(proc));
  return proc;
}

/** Stops every process still running (the runner's finally and its signal handlers). */
export async function stopAll(): Promise<void> {
  await Promise.all([...running].reverse().map((p) => p.stop(5000)));
  for (const fn of cleanups.splice(0).reverse()) await fn().catch(() => undefined);
}

/** SIGKILLs whatever is left, synchronously (process 'exit' handler). */
export function killAllNow(): void {
  for (const p of running) {
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Polls url every intervalMs until it answers 200; resolves with the milliseconds since
 * `since` (performance.now()). Rejects if the process exits or after timeoutMs.
 */
export async function waitFor200(
  url: string,
  proc: BenchProcess,
  options: { timeoutMs?: number; intervalMs?: number; since?: number } = {},
): Promise<number> {
  const { timeoutMs = 30_000, intervalMs = 20, since = performance.now() } = options;
  const deadline = since + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      await response.arrayBuffer();
      if (response.status === 200) return performance.now() - since;
    } catch {
      // not listening yet
    }
    if (!proc.alive()) throw new Error(`${proc.name} exited before ${url} answered:\n${proc.tail()}`);
    if (performance.now() > deadline) throw new Error(`${url} (${proc.name}) not ready within ${timeoutMs} ms:\n${proc.tail()}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
