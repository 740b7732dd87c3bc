/**
 * What the agent-gateway proof on the cluster concludes from tier-load.mjs's records and the
 * traces Jaeger returns: which traces the gateways' tail-sampling policy must keep, whether a
 * stored trace is complete, and the sampled share of the rest.
 */

export type LoadKind = 'plain' | 'error' | 'n-plus-one';
export interface LoadRecord {
  kind: LoadKind;
  traceId: string;
  /** Epoch ms the request was sent. */
  start: number;
  latencyMs: number;
  /** HTTP status, or the error code of a request that got no answer. */
  status: number | string;
}

/** Why the policy keeps a trace ('rest': only by its share; 'unclear': near the latency threshold, or no answer). */
export type Verdict = 'error' | 'server-error' | 'slow' | 'n-plus-one' | 'rest' | 'unclear';
export const MUST_KEEP: ReadonlySet<Verdict> = new Set(['error', 'server-error', 'slow', 'n-plus-one']);

/** Spans of each kind's trace (README "Span model"); a 5xx's depends on where it failed. */
export const SPANS_PER_TRACE: Record<LoadKind, number> = { plain: 3, error: 2, 'n-plus-one': 8 };

export function parseLoadLog(log: string): { started: number; records: LoadRecord[]; done: boolean } {
  let started = NaN;
  const records: LoadRecord[] = [];
  for (const line of log.split('\n')) {
    if (line.startsWith('started ')) started = Number(line.slice('started '.length));
    else if (line.startsWith('[')) {
      const [kind, traceId, start, latencyMs, status] = JSON.parse(line) as [LoadKind, string, number, number, number | string];
      records.push({ kind, traceId, start, latencyMs, status });
    }
  }
  return { started, records, done: /^done$/m.test(log) };
}

/**
 * The client's timing stands for the SERVER span's duration, which is shorter by the network and
 * the client's own delays: within `marginMs` of the threshold a trace is left unclear.
 */
export function verdict(r: LoadRecord, thresholdMs: number, marginMs: number): Verdict {
  if (typeof r.status !== 'number') return 'unclear';
  if (r.status >= 500) return 'server-error';
  if (r.kind === 'error' && r.status === 409) return 'error';
  if (r.kind === 'n-plus-one' && r.status === 200) return 'n-plus-one';
  if (r.latencyMs > thresholdMs + marginMs) return 'slow';
  if (r.kind === 'plain' && r.status === 200 && r.latencyMs < thresholdMs - marginMs) return 'rest';
  return 'unclear';
}

export interface StoredSpan {
  spanID: string;
  references: { refType: string; spanID: string }[];
}

/**
 * Complete: one root (the SERVER span, whose parent, the client's traceparent, is not stored),
 * every other span's parent present, and as many spans as the request makes.
 */
export function complete(r: LoadRecord, spans: StoredSpan[]): boolean {
  if (spans.length === 0) return false;
  const ids = new Set(spans.map((s) => s.spanID));
  const roots = spans.filter((s) => !s.references.some((ref) => ref.refType === 'CHILD_OF' && ids.has(ref.spanID)));
  if (roots.length !== 1) return false;
  return typeof r.status === 'number' && r.status >= 500 ? true : spans.length === SPANS_PER_TRACE[r.kind];
}
