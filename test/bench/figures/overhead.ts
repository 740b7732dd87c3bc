import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { parsePrometheus, sampleValue } from '../../support/prometheus.ts';
import { repoRoot } from '../../support/process.ts';
import { endpoints, type Bench } from '../environment.ts';
import { onCore, SERVER_CORE } from '../machine.ts';
import type { Run } from '../load.ts';
import { median, round } from '../stats.ts';
import { compare, recordCell, runsJson, summariesJson } from './common.ts';

const run = promisify(execFile);

/**
 * Figure 1, tracing overhead: tracebridge with tracing off (OTEL_SDK_DISABLED=true), on at
 * 100 % and on at 10 % sampling (both exporting to the real collector), interleaved on
 * GET /users/:id, GET /posts?eager=true and POST /users.
 */
export async function tracingOverhead(bench: Bench): Promise<void> {
  const [off, on100, on10] = [await bench.server('api-off'), await bench.server('api-100'), await bench.server('api-10')];
  // Where the 10 % cost goes, on GET /users/:id only: the same API without db spans (no ORM
  // instrumentation, no driver spans), and without the http instrumentation either (no SERVER
  // span: nothing request-bound is traced).
  const noPg = await bench.startApi('api-10-no-db', { ...bench.tracingEnv(0.1), TRACEBRIDGE_ORM_TRACING: 'false', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' });
  const noHttp = await bench.startApi('api-10-no-http', { ...bench.tracingEnv(0.1), OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'http,pg' });
  const exportedBefore = await exportCounts(on100.metricsUrl);
  const details: Record<string, unknown> = {};
  for (const endpoint of [endpoints.getUser, endpoints.postsEager, endpoints.createUser]) {
    bench.log(`figure 1: ${endpoint.name}`);
    const ablation = endpoint === endpoints.getUser;
    const { runs, summaries, ratios } = await compare(bench, 'tracing overhead', [
      { key: 'off', label: 'tracing off', base: off.base, endpoint, pid: off.proc.pid },
      { key: 'on100', label: 'tracing 100 %', base: on100.base, endpoint, pid: on100.proc.pid },
      { key: 'on10', label: 'tracing 10 %', base: on10.base, endpoint, pid: on10.proc.pid },
      ...(ablation
        ? [
            { key: 'on10NoPg', label: 'tracing 10 %, without db spans', base: noPg.base, endpoint, pid: noPg.proc.pid },
            { key: 'on10NoHttp', label: 'tracing 10 %, without the http and pg instrumentations', base: noHttp.base, endpoint, pid: noHttp.proc.pid },
          ]
        : []),
    ]);
    const prefix = `overhead · ${endpoint.name}`;
    recordCell(bench, 1, prefix, 'tracing off', summaries.get('off')!);
    recordCell(bench, 1, prefix, 'tracing 100 %', summaries.get('on100')!);
    recordCell(bench, 1, prefix, 'tracing 10 %', summaries.get('on10')!);
    if (ablation) {
      recordCell(bench, 1, prefix, 'tracing 10 %, without db spans', summaries.get('on10NoPg')!);
      recordCell(bench, 1, prefix, 'tracing 10 %, without the http and pg instrumentations', summaries.get('on10NoHttp')!);
      const cpu = (key: string) => summaries.get(key)!.cpuMsPerRequest * 1000;
      const parts = [
        ['the SDK with no request instrumented', cpu('on10NoHttp') - cpu('off')],
        ['our SERVER span middleware', cpu('on10NoPg') - cpu('on10NoHttp')],
        ['our ORM instrumentation', cpu('on10') - cpu('on10NoPg')],
      ] as const;
      for (const [part, us] of parts) {
        bench.record({ figure: 1, name: `${prefix} · 10 % CPU per request added by ${part}`, value: round(us), unit: 'µs', target: null });
      }
    }
    const r100 = ratios('on100', 'off');
    const r10 = ratios('on10', 'off');
    bench.record({ figure: 1, name: `${prefix} · req/s ratio · 100 % / off`, value: round(r100.medianRps), unit: '×', target: '>= 0.90' });
    bench.record({ figure: 1, name: `${prefix} · p99 ratio · 100 % / off`, value: round(r100.medianP99), unit: '×', target: '<= 1.15' });
    bench.record({ figure: 1, name: `${prefix} · p50 ratio · 100 % / off`, value: round(r100.medianP50), unit: '×', target: null });
    bench.record({ figure: 1, name: `${prefix} · req/s ratio · 10 % / off`, value: round(r10.medianRps), unit: '×', target: '>= 0.97' });
    // The targets in CPU time: per round, traced minus untraced server CPU per request (the
    // pair ran back to back), median over the rounds.
    bench.record({ figure: 1, name: `${prefix} · CPU per request added · 100 % - off`, value: round(addedCpuUs(runs, 'on100')), unit: 'µs', target: '<= 50' });
    bench.record({ figure: 1, name: `${prefix} · CPU per request added · 10 % - off`, value: round(addedCpuUs(runs, 'on10')), unit: 'µs', target: '<= 15' });
    bench.record({ figure: 1, name: `${prefix} · p99 ratio · 10 % / off`, value: round(r10.medianP99), unit: '×', target: null });
    // Not a target: the cost in CPU time, which other processes on the machine do not move.
    bench.record({ figure: 1, name: `${prefix} · server CPU per request ratio · 100 % / off`, value: round(r100.medianCpu), unit: '×', target: null });
    bench.record({ figure: 1, name: `${prefix} · server CPU per request ratio · 10 % / off`, value: round(r10.medianCpu), unit: '×', target: null });
    details[endpoint.name] = { summaries: summariesJson(summaries), ratios: { on100: r100, on10: r10 }, runs: runsJson(runs) };
    if (endpoint === endpoints.getUser) details.sdkFloor = await sdkFloor(bench, summaries.get('off')!.cpuMsPerRequest * 1000);
  }
  await Promise.all([noPg.stop(), noHttp.stop()]);
  // Tracing that silently dropped spans would look cheaper than it is.
  const exportedAfter = await exportCounts(on100.metricsUrl);
  const dropped = exportedAfter.dropped - exportedBefore.dropped;
  bench.record({ figure: 1, name: 'overhead · spans dropped by the 100 % API during figure 1', value: dropped, unit: 'spans', target: '= 0' });
  details.exportedSpans100 = exportedAfter.exported - exportedBefore.exported;
  bench.details.figure1 = details;
}

/** Median over the rounds of (variant - off) server CPU per request, in µs. */
function addedCpuUs(runs: readonly Run[], variant: string): number {
  const added: number[] = [];
  for (const on of runs.filter((r) => r.variant === variant)) {
    const off = runs.find((r) => r.variant === 'off' && r.round === on.round);
    if (off) added.push((on.sample.cpuMsPerRequest - off.sample.cpuMsPerRequest) * 1000);
  }
  return median(added);
}

/** tracebridge_export_spans_total by outcome, from a traced API's /metrics. */
export async function exportCounts(metricsUrl: string | undefined): Promise<{ exported: number; dropped: number }> {
  if (!metricsUrl) return { exported: 0, dropped: 0 };
  const samples = parsePrometheus(await (await fetch(metricsUrl)).text());
  const exported = sampleValue(samples, 'tracebridge_export_spans_total', { outcome: 'exported' }) ?? 0;
  const dropped = samples
    .filter((s) => s.name === 'tracebridge_export_spans_total' && s.labels.outcome === 'dropped')
    .reduce((sum, s) => sum + s.value, 0);
  return { exported, dropped };
}

/**
 * The least tracing can cost: the SDK alone building and exporting GET /users/:id's five spans
 * and its duration histogram (test/bench/sdk-floor.ts, on the server core), and the req/s ratio
 * the API would reach if tracing cost only that on top of its untraced CPU per request.
 */
async function sdkFloor(bench: Bench, offCpuUs: number): Promise<Record<string, number>> {
  const floor: Record<string, number> = {};
  for (const [label, ratio] of [['100 %', 1], ['10 %', 0.1]] as const) {
    const [command, args] = onCore(SERVER_CORE, process.execPath, ['test/bench/sdk-floor.ts', String(ratio)]);
    const env = { ...process.env, SDK_FLOOR_REQUESTS: bench.options.smoke ? '2000' : '40000' };
    const { stdout } = await run(command, args, { cwd: repoRoot, env });
    const { cpuUsPerRequest } = JSON.parse(stdout) as { cpuUsPerRequest: number };
    floor[label] = cpuUsPerRequest;
    const prefix = 'overhead · GET /users/:id · SDK floor (5 spans + histogram, no instrumentation, no I/O)';
    bench.record({ figure: 1, name: `${prefix} · CPU per request · ${label}`, value: round(cpuUsPerRequest), unit: 'µs', target: null });
    bench.record({ figure: 1, name: `${prefix} · req/s ratio it allows · ${label} / off`, value: round(offCpuUs / (offCpuUs + cpuUsPerRequest)), unit: '×', target: null });
  }
  bench.log(`  SDK floor: ${round(floor['100 %']!)} µs (100 %), ${round(floor['10 %']!)} µs (10 %) per request; untraced API ${round(offCpuUs)} µs`);
  return floor;
}
