import { endpoints, type Bench, type Server } from '../environment.ts';
import type { Endpoint } from '../load.ts';
import { round } from '../stats.ts';
import { compare, jaegerTraceSpans, recordCell, runsJson, statementSpans, summariesJson, tracedRequest } from './common.ts';

/**
 * Figure 2, the seed's own stack as the peer: FastAPI + SQLAlchemy (async, asyncpg) +
 * OpenTelemetry, same database, same collector, same sampling (100 %), same load.
 */
export async function peerComparison(bench: Bench): Promise<void> {
  const [tb, peer] = [await bench.server('api-100'), await bench.server('peer-100')];
  const list = [endpoints.getUser, endpoints.postsEager, endpoints.createUser];
  const details: Record<string, unknown> = { spansPerRequest: await spansPerRequest(bench, { tracebridge: tb, peer }, list) };
  for (const endpoint of list) {
    bench.log(`figure 2: ${endpoint.name}`);
    const { runs, summaries, ratios } = await compare(bench, 'peer', [
      { key: 'tracebridge', label: 'tracebridge (100 %)', base: tb.base, endpoint, pid: tb.proc.pid },
      { key: 'peer', label: 'FastAPI peer (100 %)', base: peer.base, endpoint, pid: peer.proc.pid },
    ]);
    const prefix = `peer · ${endpoint.name}`;
    recordCell(bench, 2, prefix, 'tracebridge', summaries.get('tracebridge')!);
    recordCell(bench, 2, prefix, 'FastAPI peer', summaries.get('peer')!);
    const r = ratios('tracebridge', 'peer');
    const isGet = endpoint.method === 'GET';
    bench.record({ figure: 2, name: `${prefix} · req/s ratio · tracebridge / peer`, value: round(r.medianRps), unit: '×', target: isGet ? '>= 2' : null });
    bench.record({ figure: 2, name: `${prefix} · p50 ratio · tracebridge / peer`, value: round(r.medianP50), unit: '×', target: null });
    bench.record({ figure: 2, name: `${prefix} · p99 ratio · tracebridge / peer`, value: round(r.medianP99), unit: '×', target: null });
    bench.record({ figure: 2, name: `${prefix} · server CPU per request ratio · peer / tracebridge`, value: round(1 / r.medianCpu), unit: '×', target: null });
    details[endpoint.name] = { summaries: summariesJson(summaries), ratios: r, runs: runsJson(runs) };
  }
  bench.details.figure2 = details;
}

/**
 * What each implementation's trace of one request holds, read back from Jaeger through the
 * collector: proof that both export, and how much telemetry each produces per request.
 */
async function spansPerRequest(bench: Bench, servers: Record<string, Server>, list: Endpoint[]) {
  const ids: { impl: string; endpoint: string; traceId: string }[] = [];
  for (const [impl, server] of Object.entries(servers)) {
    for (const endpoint of list) ids.push({ impl, endpoint: endpoint.name, traceId: await tracedRequest(server.base, endpoint) });
  }
  const traces = await jaegerTraceSpans(bench.jaeger.queryUrl, ids.map((i) => i.traceId));
  const out: Record<string, Record<string, { spans: number; statements: number; names: string[] }>> = {};
  for (const { impl, endpoint, traceId } of ids) {
    const spans = traces.get(traceId) ?? [];
    (out[impl] ??= {})[endpoint] = {
      spans: spans.length,
      statements: statementSpans(spans).length,
      names: spans.map((s) => s.operationName).sort(),
    };
    bench.record({ figure: 2, name: `peer · ${endpoint} · spans per request · ${impl === 'peer' ? 'FastAPI peer' : impl}`, value: spans.length, unit: 'spans', target: null });
  }
  // A peer whose database instrumentation silently did not apply would be measured doing less work.
  const missing = ids.filter(({ impl, endpoint }) => (out[impl]?.[endpoint]?.statements ?? 0) === 0);
  if (missing.length > 0) {
    throw new Error(`no SQL statement spans in the traces of ${missing.map((m) => `${m.impl} ${m.endpoint}`).join(', ')}: ${JSON.stringify(out)}`);
  }
  return out;
}
