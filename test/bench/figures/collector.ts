import * as grpc from '@grpc/grpc-js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configArgs, configDir } from '../../../collector/fragments.ts';
import { toolBinary } from '../../support/backends.ts';
import { collectorOf, renderExample, writeCollectorFiles } from '../../support/chart.ts';
import { freePort } from '../../support/ports.ts';
import type { Bench } from '../environment.ts';
import { coreBusy, coreTimes, cpuSeconds, SERVER_CORE } from '../machine.ts';
import { startProcess, waitFor200 } from '../processes.ts';
import { climb, grpcSink, httpSink, MAX_IN_FLIGHT, offer, payload, scrape, SPANS_PER_REQUEST } from '../otlp-load.ts';
import { percentile, round } from '../stats.ts';

/**
 * Figure 5, collector throughput: the collector configuration the chart ships with every
 * destination on (examples/all-destinations: Jaeger, Grafana Cloud, Datadog, OTLP, debug),
 * rendered by helm, run by the real collector pinned to one core. Only the endpoints are moved
 * to loopback stand-ins, which accept and count without decoding (a real Jaeger or a second
 * collector on the other core would saturate before the collector under test). An OTLP/gRPC
 * client on the other core offers increasing rates of API-shaped spans; a rate is sustained
 * when the collector's own metrics show every span accepted, none refused, none failed or
 * dropped by any exporter, every exporter's sent count keeping up and its queue empty.
 */

interface Step {
  rate: number;
  acceptedPerSecond: number;
  offered: number;
  accepted: number;
  refused: number;
  clientErrors: number;
  late: number;
  sendFailed: number;
  enqueueFailed: number;
  /** Per exporter: spans sent during the step and its settle time, over spans accepted. */
  sentShare: Record<string, number>;
  maxQueue: number;
  collectorCores: number;
  /** Busy share of each core while offering (core 0: generator and stand-ins; core 1: the collector). */
  coreBusy: number[];
  /** Export call latency seen by the client, ms. */
  exportP50Ms: number;
  exportP99Ms: number;
  sustained: boolean;
  why: string[];
}

// ---- the figure -------------------------------------------------------------------------------

export async function collectorThroughput(bench: Bench): Promise<void> {
  const INSTANCE_ID = '778899';
  const TOKEN = 'glc_bench_token';
  const DD_KEY = 'dd0123456789abcdef0123456789abcd';
  const chart = collectorOf((await renderExample('all-destinations')).objects);

  const jaegerSink = await grpcSink();
  const otlpSink = await grpcSink();
  const basic = `Basic ${Buffer.from(`${INSTANCE_ID}:${TOKEN}`).toString('base64')}`;
  const gateway = await httpSink((_path, headers) =>
    headers.authorization === basic ? { status: 200, type: 'application/x-protobuf', body: '' } : { status: 401, type: 'text/plain', body: 'unauthorized' },
  );
  const intake = await httpSink((path, headers) => {
    if (headers['dd-api-key'] !== DD_KEY) return { status: 403, type: 'application/json', body: '{}' };
    return path === '/api/v1/validate' ? { status: 200, type: 'application/json', body: '{"valid":true}' } : { status: 202, type: 'application/json', body: '{}' };
  });

  const secrets: Record<string, string> = {
    'grafana-cloud/instance-id': INSTANCE_ID,
    'grafana-cloud/api-token': TOKEN,
    'datadog/api-key': DD_KEY,
    'tempo-auth/authorization': 'Bearer bench-token',
  };
  const [grpcPort, httpPort, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  // Two endpoints are not env references: the API pods, which a cluster's collector finds
  // through the Kubernetes API (here no API runs: scrape/static.yaml's one target, whose list
  // of scrape jobs replaces the chart's, is a closed port), and the Datadog intake.
  const apiTarget = `127.0.0.1:${await freePort()}`;
  const configDirOut = join(bench.workDir, 'collector-all-destinations');
  await mkdir(configDirOut, { recursive: true });
  const intakeFragment = join(configDirOut, 'datadog-intake.yaml');
  const intakeUrl = `http://127.0.0.1:${intake.port}`;
  await writeFile(intakeFragment, JSON.stringify({ exporters: { datadog: { traces: { endpoint: intakeUrl }, metrics: { endpoint: intakeUrl } } } }));
  const configFiles = [...writeCollectorFiles(chart, configDirOut), join(configDir, 'scrape/static.yaml'), intakeFragment];
  const env: Record<string, string> = {
    ...chart.env,
    ...Object.fromEntries(Object.entries(chart.secretRefs).map(([name, ref]) => [name, secrets[ref] ?? ''])),
    OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpcPort}`,
    OTLP_HTTP_ENDPOINT: `127.0.0.1:${httpPort}`,
    COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${healthPort}`,
    COLLECTOR_METRICS_HOST: '127.0.0.1',
    COLLECTOR_METRICS_PORT: String(metricsPort),
    JAEGER_OTLP_ENDPOINT: `127.0.0.1:${jaegerSink.port}`,
    GRAFANA_CLOUD_OTLP_ENDPOINT: `http://127.0.0.1:${gateway.port}`,
    OTLP_DESTINATION_ENDPOINT: `127.0.0.1:${otlpSink.port}`,
    // The API is not part of this figure: its scrape target is a closed port.
    API_METRICS_TARGET: apiTarget,
  };
  const collector = startProcess({ name: 'collector-all-destinations', command: toolBinary('OTELCOL_BIN'), args: configArgs(configFiles), env, logDir: bench.logDir, core: SERVER_CORE });
  const client = new grpc.Client(`127.0.0.1:${grpcPort}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 });
  const metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  try {
    await waitFor200(`http://127.0.0.1:${healthPort}/`, collector);
    const payloads = Array.from({ length: bench.options.smoke ? 4 : 40 }, () => payload().body);
    bench.log(`figure 5: ${payloads.length} payloads of ${SPANS_PER_REQUEST} spans (${Math.round(payloads[0]!.length / 1024)} KiB each)`);

    const settleMs = bench.options.smoke ? 1500 : 2500;
    const runStep = async (rate: number): Promise<Step> => {
      bench.order.push({ figure: 'collector', endpoint: 'OTLP/gRPC Export', variant: `${rate} spans/s`, round: 1, at: new Date().toISOString() });
      const before = await scrape(metricsUrl);
      const cpuBefore = cpuSeconds(collector.pid) ?? 0;
      const coresBefore = coreTimes();
      const t0 = performance.now();
      let next = 0;
      const sent = await offer(client, () => payloads[next++ % payloads.length]!, rate, bench.options.collectorStep);
      const busy = coreBusy(coresBefore, coreTimes());
      await new Promise((r) => setTimeout(r, settleMs));
      const cpu = ((cpuSeconds(collector.pid) ?? 0) - cpuBefore) / ((performance.now() - t0) / 1000);
      const after = await scrape(metricsUrl);
      const accepted = after.accepted - before.accepted;
      const sentShare: Record<string, number> = {};
      for (const [exporter, value] of Object.entries(after.sent)) sentShare[exporter] = accepted > 0 ? (value - (before.sent[exporter] ?? 0)) / accepted : 0;
      const step: Step = {
        rate,
        acceptedPerSecond: accepted / bench.options.collectorStep,
        offered: sent.offeredSpans,
        accepted,
        refused: after.refused - before.refused,
        clientErrors: sent.errorSpans,
        late: sent.late,
        sendFailed: after.sendFailed - before.sendFailed,
        enqueueFailed: after.enqueueFailed - before.enqueueFailed,
        sentShare,
        maxQueue: Math.max(0, ...Object.values(after.queueSize)),
        collectorCores: cpu,
        coreBusy: busy.map((b) => round(b, 2)),
        exportP50Ms: percentile(Float64Array.from(sent.latencies).sort(), 50),
        exportP99Ms: percentile(Float64Array.from(sent.latencies).sort(), 99),
        sustained: false,
        why: [],
      };
      if (step.accepted < step.offered) step.why.push(`accepted ${step.accepted} of ${step.offered}`);
      if (step.refused > 0) step.why.push(`${step.refused} refused`);
      if (step.clientErrors > 0) step.why.push(`client errors: ${sent.errors.join('; ')}`);
      if (step.late > 0) step.why.push(`generator held back ${step.late} times (${MAX_IN_FLIGHT} requests in flight)`);
      if (step.sendFailed > 0) step.why.push(`${step.sendFailed} send-failed`);
      if (step.enqueueFailed > 0) step.why.push(`${step.enqueueFailed} dropped (queue full)`);
      if (step.maxQueue > 5) step.why.push(`exporter queue at ${step.maxQueue}`);
      const behind = Object.entries(sentShare).filter(([, share]) => share < 0.98);
      if (behind.length > 0) step.why.push(`behind: ${behind.map(([e, s]) => `${e} ${round(s * 100)} %`).join(', ')}`);
      if (Object.keys(sentShare).length < 5) step.why.push(`only ${Object.keys(sentShare).length} exporters reported`);
      step.sustained = step.why.length === 0;
      bench.log(
        `  ${String(rate).padStart(6)} spans/s offered: ${Math.round(step.acceptedPerSecond)} accepted/s, collector ${Math.round(cpu * 100)} % of a core, cores ${busy.map((b) => `${Math.round(b * 100)}%`).join('/')}, ` +
          `Export p50/p99 ${round(step.exportP50Ms)}/${round(step.exportP99Ms)} ms, ` +
          (step.sustained ? 'sustained' : `NOT sustained (${step.why.join('; ')})`),
      );
      if (!step.sustained) {
        // Let the pipeline drain before the next step.
        for (let i = 0; i < 30 && Math.max(0, ...Object.values((await scrape(metricsUrl)).queueSize)) > 0; i++) await new Promise((r) => setTimeout(r, 1000));
      }
      return step;
    };

    const ladder = bench.options.smoke ? [1000, 2000] : [5000, 10000, 15000, 20000, 25000, 30000, 40000, 50000, 60000, 80000];
    const { steps, pass, fail } = await climb(ladder, bench.options.smoke ? 0 : 2, runStep);
    bench.record({
      figure: 5,
      name: 'collector · spans/s sustained, all destinations, 1 core, zero refused/dropped',
      value: pass ? Math.round(pass.acceptedPerSecond) : 0,
      unit: 'spans/s',
      target: '>= 20000',
    });
    if (pass) {
      bench.record({ figure: 5, name: 'collector · CPU at the sustained rate', value: round(pass.collectorCores, 2), unit: 'cores', target: null });
      // Not moved by other processes competing for the core: what one core would sustain alone.
      bench.record({ figure: 5, name: 'collector · spans per CPU-second at the sustained rate', value: Math.round(pass.acceptedPerSecond / pass.collectorCores), unit: 'spans/CPU-s', target: null });
      bench.record({ figure: 5, name: 'collector · refused + dropped at the sustained rate', value: pass.refused + pass.enqueueFailed + pass.sendFailed, unit: 'spans', target: '= 0' });
    }
    bench.record({ figure: 5, name: 'collector · highest rate offered', value: Math.max(...steps.map((s) => s.rate)), unit: 'spans/s', target: null });
    bench.details.figure5 = {
      firstNotSustained: fail ? { rate: fail.rate, why: fail.why } : null,
      destinations: Object.keys(steps[0]?.sentShare ?? {}),
      spansPerRequest: SPANS_PER_REQUEST,
      payloadBytes: payloads[0]!.length,
      stepSeconds: bench.options.collectorStep,
      steps: steps.map((s) => ({ ...s, acceptedPerSecond: Math.round(s.acceptedPerSecond), collectorCores: round(s.collectorCores, 2), exportP50Ms: round(s.exportP50Ms), exportP99Ms: round(s.exportP99Ms), sentShare: Object.fromEntries(Object.entries(s.sentShare).map(([k, v]) => [k, round(v, 3)])) })),
      standIns: { jaeger: jaegerSink.counts, otlp: otlpSink.counts, grafanaCloud: gateway.counts, datadog: intake.counts },
      collectorLog: collector.log,
    };
  } finally {
    client.close();
    await collector.stop();
    jaegerSink.close();
    otlpSink.close();
    await gateway.close();
    await intake.close();
  }
}
