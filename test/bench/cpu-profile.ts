/**
 * Reading V8 CPU profiles (`node --cpu-prof`): who owns each sample's frame, and self time per
 * owner group within a time window. Shared by `make profile` (test/bench/profile.ts) and
 * test/bench/profile-summary.ts.
 */

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock (process.hrtime's, in µs). */
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package> (scoped too), tracebridge's own module, node: internals, or V8's categories. */
export function owner(url: string, name: string): string {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  const own = /\/(api(?:-dist)?\/(?:src\/)?[^?]+)$/.exec(url);
  if (own) return `tracebridge ${own[1]!.replace(/^api-dist\//, '').replace(/^api\/src\//, '')}`;
  if (url.startsWith('node:')) return url;
  if (url === '') return `(${name || 'anonymous'})`;
  // The bench's own servers (the ceiling), named from the repository's root.
  return /\/(test\/bench\/[^/]+)$/.exec(url)?.[1] ?? url;
}

/**
 * The groups `make profile` reports, in table order. Every owner falls in exactly one: the
 * packages a request goes through by name, the rest of node_modules as "other packages".
 */
export const GROUPS = [
  'ours (api/src)',
  'hono',
  '@hono/node-server',
  '@hono/zod-openapi',
  'zod',
  'knex',
  'objection',
  'pg',
  'tarn',
  'pino',
  '@opentelemetry/*',
  'other packages',
  'node internals',
  'native (V8 builtins, C++ bindings)',
  'GC',
  '(program)',
] as const;
export type Group = (typeof GROUPS)[number];

/** pg and the packages it is made of (pool, wire protocol, type parsers). */
const PG_PARTS = /^(pg|pg-pool|pg-protocol|pg-types|pg-int8|pg-connection-string|postgres-(array|bytea|date|interval))$/;

export function groupOf(url: string, functionName: string): Group {
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg !== undefined) {
    if (pkg.startsWith('@opentelemetry/')) return '@opentelemetry/*';
    if (PG_PARTS.test(pkg)) return 'pg';
    const named = GROUPS.find((g) => g === pkg);
    return named ?? 'other packages';
  }
  // The API's modules (sources or compiled), and the ceiling server's single file.
  if (/\/api(-dist)?\//.test(url) || /\/test\/bench\/ceiling-server\.ts$/.test(url)) return 'ours (api/src)';
  if (url.startsWith('node:')) return 'node internals';
  if (url === '') {
    if (functionName === '(garbage collector)') return 'GC';
    if (functionName === '(program)' || functionName === '(root)') return '(program)';
    return 'native (V8 builtins, C++ bindings)';
  }
  return 'other packages';
}

export interface WindowTotals {
  /** Self time per group in µs, within the window, idle excluded. */
  groups: Map<Group, number>;
  /** Busy (non-idle) µs within the window. */
  busy: number;
  /** Idle µs within the window. */
  idle: number;
  /** Self time per function ("name owner:line"), µs. */
  functions: Map<string, number>;
}

/**
 * Self time of the samples taken within [from, to] (µs, the profile's clock; the whole profile
 * when omitted), grouped. Sample i covers timeDeltas[i+1]; V8 records the delta before each
 * sample, so a sample is charged the time up to the next one.
 */
export function windowTotals(profiles: readonly CpuProfile[], from = -Infinity, to = Infinity, into?: WindowTotals): WindowTotals {
  const totals = into ?? { groups: new Map<Group, number>(), busy: 0, idle: 0, functions: new Map<string, number>() };
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    let at = profile.startTime;
    const { samples, timeDeltas } = profile;
    for (let i = 0; i < samples.length; i++) {
      at += timeDeltas[i] ?? 0;
      if (at < from || at > to) continue;
      const duration = timeDeltas[i + 1] ?? 0;
      const frame = byId.get(samples[i]!)?.callFrame;
      if (!frame) continue;
      if (frame.url === '' && frame.functionName === '(idle)') {
        totals.idle += duration;
        continue;
      }
      const group = groupOf(frame.url, frame.functionName);
      totals.groups.set(group, (totals.groups.get(group) ?? 0) + duration);
      totals.busy += duration;
      const key = `${frame.functionName || '(anonymous)'} ${owner(frame.url, frame.functionName)}:${frame.lineNumber + 1}`;
      totals.functions.set(key, (totals.functions.get(key) ?? 0) + duration);
    }
  }
  return totals;
}
