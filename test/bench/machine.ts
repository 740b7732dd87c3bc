import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';

/**
 * CPU placement and the readings the bench takes from /proc: which core a process may run on,
 * how busy each core was, and how much memory a process holds.
 */

/** Core 0: the load generators and the bench itself; core 1: the servers under test. */
export const LOAD_CORE = 0;
export const SERVER_CORE = 1;

function hasTaskset(): boolean {
  try {
    execFileSync('taskset', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface Placement {
  /** False when the machine has one core or no taskset: everything shares the cores. */
  pinned: boolean;
  cores: number;
  description: string;
}

let placement: Placement | undefined;

export function cpuPlacement(): Placement {
  if (placement) return placement;
  const cores = cpus().length;
  const taskset = hasTaskset();
  const pinned = taskset && cores >= 2;
  placement = {
    pinned,
    cores,
    description: pinned
      ? `taskset: servers under test (API, peer, ceiling, PostgreSQL; the collectors of figures 5 and 8) on core ${SERVER_CORE}; ` +
        `load generators (autocannon, the OTLP client), the bench runner, the telemetry backends of figures 1-4/6 ` +
        `(collector + Jaeger) and the stand-ins of figures 5 and 8 on core ${LOAD_CORE}`
      : `not pinned (${cores} core(s)${taskset ? '' : ', no taskset'}): load generator and servers share the CPU`,
  };
  return placement;
}

/** Pins every thread of this process (and so its future children) to the load core. */
export function pinSelfToLoadCore(): void {
  if (!cpuPlacement().pinned) return;
  execFileSync('taskset', ['-a', '-cp', String(LOAD_CORE), String(process.pid)], { stdio: 'ignore' });
}

/** The command line that runs `command args` on `core` (unchanged when pinning is unavailable). */
export function onCore(core: number, command: string, args: string[]): [string, string[]] {
  return cpuPlacement().pinned ? ['taskset', ['-c', String(core), command, ...args]] : [command, args];
}

/** The cores a process may run on, as taskset reports them (e.g. "1"). */
export function affinityOf(pid: number): string {
  try {
    return execFileSync('taskset', ['-cp', String(pid)], { encoding: 'utf8' }).trim().split(': ').pop() ?? '?';
  } catch {
    return '?';
  }
}

export interface CoreTimes {
  busy: number[];
  total: number[];
}

/** Cumulative busy and total jiffies per core, from /proc/stat. */
export function coreTimes(): CoreTimes {
  const busy: number[] = [];
  const total: number[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+) (.*)$/.exec(line);
    if (!match) continue;
    const fields = match[2]!.trim().split(/\s+/).map(Number);
    // user nice system idle iowait irq softirq steal ...
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    const sum = fields.slice(0, 8).reduce((a, b) => a + b, 0);
    busy[Number(match[1])] = sum - idle;
    total[Number(match[1])] = sum;
  }
  return { busy, total };
}

/** Busy share of each core (0..1) between two readings. */
export function coreBusy(before: CoreTimes, after: CoreTimes): number[] {
  return after.busy.map((b, i) => {
    const total = (after.total[i] ?? 0) - (before.total[i] ?? 0);
    return total > 0 ? (b - (before.busy[i] ?? 0)) / total : 0;
  });
}

/** Resident set size of a process in bytes, or undefined once it is gone. */
export function rssBytes(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat (100 ticks per second). */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name may contain spaces: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

export function machineInfo() {
  const list = cpus();
  return {
    cpu: list[0]?.model ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: release(),
    placement: cpuPlacement().description,
  };
}

/** Jiffies (user + nice + system) of all cores, and of each process descending from rootPid. */
export interface CpuSnapshot {
  at: number;
  total: number;
  tree: Map<number, number>;
}

function readStat(pid: string): { ppid: number; jiffies: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), jiffies: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

export function cpuSnapshot(rootPid: number = process.pid): CpuSnapshot {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const total = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0);
  const stats = new Map<number, { ppid: number; jiffies: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(entry);
    if (stat) stats.set(Number(entry), stat);
  }
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of stats) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const tree = new Map<number, number>();
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    const stat = stats.get(pid);
    if (stat) tree.set(pid, stat.jiffies);
    stack.push(...(children.get(pid) ?? []));
  }
  return { at: performance.now(), total, tree };
}

/**
 * CPU used by processes outside the bench (other users of the machine, kernel threads), in
 * cores, between two snapshots: machine-wide user+system time minus the bench's process tree.
 */
export function foreignCores(before: CpuSnapshot, after: CpuSnapshot): number {
  let mine = 0;
  for (const [pid, jiffies] of after.tree) mine += jiffies - (before.tree.get(pid) ?? 0);
  const seconds = (after.at - before.at) / 1000;
  return seconds > 0 ? Math.max(0, (after.total - before.total - mine) / 100 / seconds) : 0;
}
