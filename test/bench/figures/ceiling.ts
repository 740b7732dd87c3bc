import { endpoints, type Bench } from '../environment.ts';
import { round } from '../stats.ts';
import { compare, recordCell, runsJson, summariesJson } from './common.ts';

/**
 * Figure 3, the ceiling: a bare node:http server doing GET /users/:id's single-row query
 * through pg, and the same server doing both of the API's statements (user, then posts), next
 * to the full API untraced and traced at 100 %, on the same core and database.
 */
export async function ceiling(bench: Bench): Promise<void> {
  const [bare, off, on100] = [await bench.server('ceiling'), await bench.server('api-off'), await bench.server('api-100')];
  bench.log('figure 3: GET /users/:id against the bare node:http + pg server');
  const withPosts = { ...endpoints.getUser, name: 'GET /users/:id/with-posts', path: () => `${endpoints.getUser.path()}/with-posts` };
  const { runs, summaries, ratios } = await compare(bench, 'ceiling', [
    { key: 'bare1', label: 'node:http + pg, 1 query', base: bare.base, endpoint: endpoints.getUser, pid: bare.proc.pid },
    { key: 'bare2', label: 'node:http + pg, 2 queries', base: bare.base, endpoint: withPosts, pid: bare.proc.pid },
    { key: 'off', label: 'API, tracing off', base: off.base, endpoint: endpoints.getUser, pid: off.proc.pid },
    { key: 'on100', label: 'API, tracing 100 %', base: on100.base, endpoint: endpoints.getUser, pid: on100.proc.pid },
  ]);
  const prefix = 'ceiling · GET /users/:id';
  recordCell(bench, 3, prefix, 'node:http + pg, single-row query', summaries.get('bare1')!);
  recordCell(bench, 3, prefix, "node:http + pg, the API's 2 queries", summaries.get('bare2')!);
  recordCell(bench, 3, prefix, 'API, tracing off', summaries.get('off')!);
  recordCell(bench, 3, prefix, 'API, tracing 100 %', summaries.get('on100')!);
  const offVsBare1 = ratios('off', 'bare1');
  const onVsBare1 = ratios('on100', 'bare1');
  const offVsBare2 = ratios('off', 'bare2');
  bench.record({ figure: 3, name: `${prefix} · req/s ratio · API off / ceiling (single-row)`, value: round(offVsBare1.medianRps), unit: '×', target: null });
  bench.record({ figure: 3, name: `${prefix} · req/s ratio · API 100 % / ceiling (single-row)`, value: round(onVsBare1.medianRps), unit: '×', target: null });
  bench.record({ figure: 3, name: `${prefix} · req/s ratio · API off / ceiling (2 queries)`, value: round(offVsBare2.medianRps), unit: '×', target: '>= 0.4' });
  bench.details.figure3 = { summaries: summariesJson(summaries), ratios: { offVsBare1, onVsBare1, offVsBare2 }, runs: runsJson(runs) };
}
