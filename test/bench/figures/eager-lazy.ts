import { endpoints, type Bench } from '../environment.ts';
import { round } from '../stats.ts';
import { compare, jaegerTraceSpans, recordCell, runsJson, statementSpans, summariesJson, tracedRequest } from './common.ts';

/**
 * Figure 4, eager vs lazy loading of GET /posts at page sizes 10 and 100: SQL statements per
 * request counted from the trace Jaeger stored (the driver's CLIENT spans), and latency under
 * load with tracing off (the loading strategy's own cost).
 */
export async function eagerVsLazy(bench: Bench): Promise<void> {
  const [traced, off] = [await bench.server('api-100'), await bench.server('api-off')];
  const cases = [10, 100].flatMap((limit) => [
    { key: `eager${limit}`, limit, eager: true },
    { key: `lazy${limit}`, limit, eager: false },
  ]);
  bench.log('figure 4: statements per request, from the traces in Jaeger');
  const traceIds = new Map<string, string>();
  for (const c of cases) traceIds.set(c.key, await tracedRequest(traced.base, endpoints.posts(c.limit, c.eager)));
  const traces = await jaegerTraceSpans(bench.jaeger.queryUrl, [...traceIds.values()]);
  const statements: Record<string, number> = {};
  for (const c of cases) {
    const count = statementSpans(traces.get(traceIds.get(c.key)!) ?? []).length;
    statements[c.key] = count;
    bench.record({
      figure: 4,
      name: `eager/lazy · GET /posts?limit=${c.limit} · SQL statements per request · ${c.eager ? 'eager' : 'lazy'}`,
      value: count,
      unit: 'statements',
      target: c.eager ? '= 2' : null,
    });
  }
  bench.log('figure 4: latency, tracing off');
  const { runs, summaries, ratios } = await compare(
    bench,
    'eager vs lazy',
    cases.map((c) => ({ key: c.key, label: `${c.eager ? 'eager' : 'lazy'}, ${c.limit} per page`, base: off.base, endpoint: endpoints.posts(c.limit, c.eager), pid: off.proc.pid })),
  );
  const r: Record<number, ReturnType<typeof ratios>> = {};
  for (const limit of [10, 100]) {
    recordCell(bench, 4, `eager/lazy · GET /posts?limit=${limit}`, 'eager', summaries.get(`eager${limit}`)!);
    recordCell(bench, 4, `eager/lazy · GET /posts?limit=${limit}`, 'lazy', summaries.get(`lazy${limit}`)!);
    r[limit] = ratios(`lazy${limit}`, `eager${limit}`);
    bench.record({
      figure: 4,
      name: `eager/lazy · GET /posts?limit=${limit} · p50 latency ratio · lazy / eager`,
      value: round(r[limit].medianP50),
      unit: '×',
      target: limit === 100 ? '>= 5' : null,
    });
  }
  bench.details.figure4 = { statements, summaries: summariesJson(summaries), ratios: r, runs: runsJson(runs) };
}
