import { randomBytes } from 'node:crypto';
import type { JaegerSpan } from '../../support/backends.ts';
import type { Bench } from '../environment.ts';
import type { Cell, Endpoint, Run, VariantSummary } from '../load.ts';
import { interleave, pairRatios, summarize } from '../load.ts';
import { round } from '../stats.ts';

/** Measures cells interleaved with the bench's settings and returns runs and per-cell summaries. */
export async function compare(bench: Bench, figure: string, cells: Cell[]) {
  const runs = await interleave(cells, {
    figure,
    rounds: bench.options.rounds,
    seconds: bench.options.duration,
    warmupSeconds: bench.options.warmup,
    connections: bench.options.connections,
    order: bench.order,
    pauseMs: bench.options.smoke ? 100 : 500,
    log: bench.log,
  });
  const summaries = new Map<string, VariantSummary>(cells.map((c) => [c.key, summarize(runs, c.key)]));
  return { runs, summaries, ratios: (a: string, b: string) => pairRatios(runs, a, b) };
}

/** req/s, p50 and p99 records of one measured cell. */
export function recordCell(bench: Bench, figure: number, prefix: string, label: string, s: VariantSummary): void {
  bench.record({ figure, name: `${prefix} · req/s · ${label}`, value: round(s.rps, 4), unit: 'req/s', target: null });
  bench.record({ figure, name: `${prefix} · p50 · ${label}`, value: round(s.p50Ms), unit: 'ms', target: null });
  bench.record({ figure, name: `${prefix} · p99 · ${label}`, value: round(s.p99Ms), unit: 'ms', target: null });
  if (s.failed > 0) bench.record({ figure, name: `${prefix} · failed responses (non-2xx + errors, all rounds) · ${label}`, value: s.failed, unit: 'responses', target: null });
  if (!Number.isNaN(s.cpuMsPerRequest)) {
    bench.record({ figure, name: `${prefix} · server CPU per request · ${label}`, value: round(s.cpuMsPerRequest * 1000), unit: 'µs', target: null });
  }
}

/** Plain data of runs for latest.json. */
export function runsJson(runs: readonly Run[]) {
  return runs.map((r) => ({
    variant: r.variant,
    endpoint: r.endpoint,
    round: r.round,
    requests: r.sample.requests,
    seconds: round(r.sample.seconds),
    rps: round(r.sample.rps, 4),
    p50Ms: round(r.sample.p50Ms),
    p90Ms: round(r.sample.p90Ms),
    p99Ms: round(r.sample.p99Ms),
    cpuUsPerRequest: round(r.sample.cpuMsPerRequest * 1000),
    non2xx: r.sample.non2xx,
    errors: r.sample.errors,
    coreBusy: r.sample.coreBusy.map((b) => round(b, 2)),
    foreignCores: round(r.sample.foreignCores, 2),
  }));
}

export function summariesJson(summaries: Map<string, VariantSummary>) {
  return Object.fromEntries(
    [...summaries].map(([key, s]) => [
      key,
      { rps: round(s.rps, 4), p50Ms: round(s.p50Ms), p99Ms: round(s.p99Ms), cpuUsPerRequest: round(s.cpuMsPerRequest * 1000), rounds: s.rounds, coreBusy: s.coreBusy.map((b) => round(b, 2)) },
    ]),
  );
}

/** A W3C traceparent with a fresh, sampled trace id. */
export function newTraceparent(): { traceId: string; header: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceId, header: `00-${traceId}-${randomBytes(8).toString('hex')}-01` };
}

/** Sends one request of endpoint to base as part of a known, sampled trace. */
export async function tracedRequest(base: string, endpoint: Endpoint): Promise<string> {
  const { traceId, header } = newTraceparent();
  const headers: Record<string, string> = { traceparent: header };
  if (endpoint.body) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${endpoint.path()}`, { method: endpoint.method, headers, body: endpoint.body?.() ?? null });
  await response.arrayBuffer();
  if (response.status >= 300) throw new Error(`${endpoint.name} on ${base}: ${response.status}`);
  return traceId;
}

/**
 * The spans Jaeger stored for each trace id, read once every trace has a SERVER span and its
 * span count has stopped changing (the exporters batch, so a trace can arrive in parts).
 */
export async function jaegerTraceSpans(queryUrl: string, traceIds: readonly string[], timeoutMs = 30_000): Promise<Map<string, JaegerSpan[]>> {
  const deadline = performance.now() + timeoutMs;
  const result = new Map<string, JaegerSpan[]>();
  let previous = '';
  let stableSince = 0;
  for (;;) {
    for (const id of traceIds) {
      const response = await fetch(`${queryUrl}/api/traces/${id}`);
      if (!response.ok) {
        await response.arrayBuffer();
        continue;
      }
      const body = (await response.json()) as { data?: { spans: JaegerSpan[] }[] | null };
      result.set(id, body.data?.[0]?.spans ?? []);
    }
    const complete = traceIds.every((id) => (result.get(id) ?? []).some((s) => tagOf(s, 'span.kind') === 'server'));
    const signature = traceIds.map((id) => result.get(id)?.length ?? 0).join(',');
    if (signature !== previous) {
      previous = signature;
      stableSince = performance.now();
    }
    if (complete && performance.now() - stableSince >= 2500) return result;
    if (performance.now() > deadline) {
      throw new Error(`traces not complete in Jaeger within ${timeoutMs} ms: ${traceIds.map((id) => `${id}=${result.get(id)?.length ?? 0}`).join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function tagOf(span: JaegerSpan, key: string): unknown {
  return span.tags.find((t) => t.key === key)?.value;
}

/**
 * SQL statements of a trace: the spans that carry one. tracebridge's ORM spans carry their
 * statement (`db.query.text`, no driver span under them); the peer's statements are the CLIENT
 * spans of its database driver, less the pool checkouts SQLAlchemy's instrumentation reports as
 * `connect` spans.
 */
export const statementSpans = (spans: readonly JaegerSpan[]) =>
  spans.filter(
    (s) =>
      tagOf(s, 'db.query.text') !== undefined ||
      (tagOf(s, 'span.kind') === 'client' &&
        s.operationName !== 'connect' &&
        (tagOf(s, 'db.system.name') !== undefined || tagOf(s, 'db.system') !== undefined)),
  );
