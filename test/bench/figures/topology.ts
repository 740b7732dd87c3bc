import * as grpc from '@grpc/grpc-js';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify, parse } from 'yaml';
import { configArgs, configDir } from '../../../collector/fragments.ts';
import { toolBinary } from '../../support/backends.ts';
import { collectorOf, find, podSpecs, renderExample, unreachableKubeconfig, writeCollectorFiles, type ChartCollector, type K8sObject } from '../../support/chart.ts';
import { freePort } from '../../support/ports.ts';
import type { Sample } from '../../support/prometheus.ts';
import type { Bench } from '../environment.ts';
import { coreBusy, coreTimes, cpuSeconds, rssBytes, SERVER_CORE } from '../machine.ts';
import { climb, grpcSink, MAX_IN_FLIGHT, metrics, offer, payload, scrape, SPANS_PER_REQUEST, SPANS_PER_TRACE, sum, withFreshTraceIds, type Scrape } from '../otlp-load.ts';
import { startProcess, waitFor200, type BenchProcess } from '../processes.ts';
import { round } from '../stats.ts';

/**
 * Figure 8, the agent-gateway topology on paper: what one gateway sustains on one core, and
 * what an agent costs per node, each with the configuration the chart renders for
 * examples/agent-gateway (helm), run by the real collector pinned to the server core.
 *
 * - One gateway (base + destinations + topology/gateway.yaml, tail sampling with the example's
 *   decisionWait, numTraces and policies): an OTLP/gRPC client on the other core offers
 *   increasing rates of whole API-shaped traces (5 spans, a fresh random trace ID each, 2 % of
 *   them a 503 so that a policy other than the share keeps some). A rate is sustained when every
 *   span is accepted, none refused, no trace is evicted before its decision (numTraces full),
 *   the exporter neither fails nor drops, and the Go heap stays below where the memory limiter
 *   would refuse data in the pod (its percentages of the chart's memory limit). CPU and RSS are read once the gateway holds a full
 *   decisionWait of traces. The Jaeger destination is a stand-in that acknowledges without
 *   decoding; the kept share is the processor's count of traces kept over traces decided.
 * - One agent (base + the scrape fragment + topology/agent.yaml): its loadbalancing exporter gets
 *   a static list of two stand-in gateways instead of the k8s resolver, and k8s_attributes a
 *   kubeconfig naming an unreachable API server (as test/e2e/tail-sampling.test.ts runs it:
 *   nothing is looked up, so its per-span cost is the pod-association miss). Idle, then fixed
 *   rates: CPU and RSS.
 */

/**
 * Spans/s one gateway core sustains in the README's sizing table ("Collector topology" in the
 * chart README, "Performance" in the README): the figure fails when a run measures less, so the
 * table cannot claim more than `make bench` shows.
 */
export const GATEWAY_SPANS_PER_CORE_CLAIMED = 20_000;

const EXAMPLE = 'agent-gateway';
const GATEWAY = 'tracebridge-collector-gateway';
/** Of the traces offered to the gateway, every 50th is a 503. */
const SERVER_ERROR_EVERY = 50;
const AGENT_RATES = [1000, 5000];
const MB = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** "10s", "1m30s", "500ms" (the collector's durations as the chart writes them) in seconds. */
function seconds(duration: string): number {
  let total = 0;
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let consumed = '';
  for (const m of duration.matchAll(re)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0];
  }
  if (consumed !== duration || consumed === '') throw new Error(`not a duration: ${duration}`);
  return total;
}

/** A Kubernetes memory quantity ("1Gi", "512Mi", "800M", "1073741824") in bytes. */
function memoryBytes(quantity: string): number {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(quantity);
  if (!m) throw new Error(`not a memory quantity: ${quantity}`);
  const units: Record<string, number> = { '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };
  return Number(m[1]) * units[m[2] ?? '']!;
}

/**
 * The heap size at which the gateway's memory_limiter (base.yaml, percentages of the container's
 * memory limit) starts refusing data in the pod. Outside a cgroup it would take the machine's
 * memory instead, so the figure checks the heap against the pod's figure itself.
 */
function softLimitInPod(objects: K8sObject[], chart: ChartCollector): { limit: string; bytes: number } {
  const container = podSpecs([find(objects, 'Deployment', GATEWAY)])[0]!.spec.containers[0]!;
  const limit = container.resources?.limits?.memory;
  if (!limit) throw new Error(`${GATEWAY} has no memory limit`);
  const base = parse(chart.fragments.find(([key]) => key === 'base.yaml')?.[1] ?? '') as { processors?: { memory_limiter?: { limit_percentage?: number; spike_limit_percentage?: number } } };
  const { limit_percentage: hard, spike_limit_percentage: spike } = base.processors?.memory_limiter ?? {};
  if (hard === undefined || spike === undefined) throw new Error('base.yaml: memory_limiter without limit_percentage and spike_limit_percentage');
  return { limit, bytes: (memoryBytes(limit) * (hard - spike)) / 100 };
}

/** Counter value under its name, with or without the _total suffix. */
const counter = (samples: Sample[], name: string, filter?: (labels: Record<string, string>) => boolean) => sum(samples, name, filter) + sum(samples, `${name}_total`, filter);

interface Started {
  proc: BenchProcess;
  metricsUrl: string;
  grpcPort: number;
  stop(): Promise<void>;
}

/** Runs the chart's files of one tier on the server core, with its env and loopback addresses. */
async function startTier(bench: Bench, name: string, chart: ChartCollector, files: (dir: string) => Promise<string[]>, env: Record<string, string>): Promise<Started> {
  const dir = join(bench.workDir, name);
  await mkdir(dir, { recursive: true });
  const [grpcPort, httpPort, healthPort, metricsPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const proc = startProcess({
    name,
    command: toolBinary('OTELCOL_BIN'),
    args: configArgs(await files(dir)),
    env: {
      ...chart.env,
      ...env,
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpcPort}`,
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${httpPort}`,
      COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${healthPort}`,
      COLLECTOR_METRICS_HOST: '127.0.0.1',
      COLLECTOR_METRICS_PORT: String(metricsPort),
    },
    logDir: bench.logDir,
    core: SERVER_CORE,
  });
  await waitFor200(`http://127.0.0.1:${healthPort}/`, proc);
  return { proc, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, grpcPort, stop: () => proc.stop() };
}

const grpcClient = (port: number) => new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 64 * 1024 * 1024 });

/** CPU (cores) of pid and of each core between two readings. */
function cpuReader(pid: number) {
  const cpu0 = cpuSeconds(pid) ?? 0;
  const cores0 = coreTimes();
  const t0 = performance.now();
  return () => ({ cores: ((cpuSeconds(pid) ?? 0) - cpu0) / ((performance.now() - t0) / 1000), busy: coreBusy(cores0, coreTimes()).map((b) => round(b, 2)) });
}

// ---- one gateway ------------------------------------------------------------------------------

interface GatewayStep {
  rate: number;
  acceptedPerSecond: number;
  offered: number;
  accepted: number;
  refused: number;
  clientErrors: number;
  late: number;
  droppedTooEarly: number;
  sendFailed: number;
  enqueueFailed: number;
  /** Traces held at the end of the step. */
  tracesOnMemory: number;
  /** Measured after the first decisionWait of the step: receiving and deciding at this rate. */
  gatewayCores: number;
  coreBusy: number[];
  rssMb: number;
  /** Largest Go heap (otelcol_process_runtime_heap_alloc_bytes) over the same window. */
  heapMb: number;
  sustained: boolean;
  why: string[];
}

async function gateway(bench: Bench, objects: K8sObject[]) {
  const chart = collectorOf(objects, { kind: 'Deployment', name: GATEWAY });
  const softLimit = softLimitInPod(objects, chart);
  const smoke = bench.options.smoke;
  // The smoke run checks the harness: it decides after 1 s instead of the chart's wait.
  const decisionWait = smoke ? '1s' : (chart.env.TAIL_SAMPLING_DECISION_WAIT ?? '');
  const waitSeconds = seconds(decisionWait);
  const numTraces = Number(chart.env.TAIL_SAMPLING_NUM_TRACES);
  const percentage = Number(chart.env.TAIL_SAMPLING_PERCENTAGE);
  if (!Number.isFinite(numTraces) || !Number.isFinite(percentage)) throw new Error(`the gateway's env lacks the tail-sampling settings: ${JSON.stringify(chart.env)}`);
  const jaeger = await grpcSink();
  const gw = await startTier(bench, 'collector-gateway', chart, (dir) => Promise.resolve(writeCollectorFiles(chart, dir)), {
    JAEGER_OTLP_ENDPOINT: `127.0.0.1:${jaeger.port}`,
    TAIL_SAMPLING_DECISION_WAIT: decisionWait,
  });
  const client = grpcClient(gw.grpcPort);
  try {
    const idleRss = rssBytes(gw.proc.pid) ?? 0;
    const templates = Array.from({ length: 8 }, () => payload({ serverErrorEvery: SERVER_ERROR_EVERY }));
    let next = 0;
    const body = () => withFreshTraceIds(templates[next++ % templates.length]!);
    const window = bench.options.collectorStep;
    const stepSeconds = waitSeconds + window;
    bench.log(
      `figure 8: one gateway, examples/${EXAMPLE} (decisionWait ${decisionWait}, numTraces ${numTraces}, ${percentage} % of the rest), ` +
        `${stepSeconds} s per rate (CPU and RSS over the last ${window} s), idle RSS ${Math.round(idleRss / MB)} MB`,
    );

    const totals0 = await scrape(gw.metricsUrl);
    const runStep = async (rate: number): Promise<GatewayStep> => {
      bench.order.push({ figure: 'gateway', endpoint: 'OTLP/gRPC Export', variant: `${rate} spans/s`, round: 1, at: new Date().toISOString() });
      const beforeSamples = await metrics(gw.metricsUrl);
      const before = await scrape(gw.metricsUrl, beforeSamples);
      const rss: number[] = [];
      const heap: number[] = [];
      const sampler = setInterval(() => {
        rss.push(rssBytes(gw.proc.pid) ?? 0);
        void metrics(gw.metricsUrl).then((m) => heap.push(sum(m, 'otelcol_process_runtime_heap_alloc_bytes')), () => undefined);
      }, 500);
      let read: (() => ReturnType<ReturnType<typeof cpuReader>>) | undefined;
      const mark = setTimeout(() => {
        rss.length = 0;
        heap.length = 0;
        read = cpuReader(gw.proc.pid);
      }, waitSeconds * 1000);
      const sent = await offer(client, body, rate, stepSeconds);
      clearTimeout(mark);
      clearInterval(sampler);
      const reading = read?.() ?? { cores: NaN, busy: [] };
      const afterSamples = await metrics(gw.metricsUrl);
      const after = await scrape(gw.metricsUrl, afterSamples);
      const accepted = after.accepted - before.accepted;
      const step: GatewayStep = {
        rate,
        acceptedPerSecond: accepted / stepSeconds,
        offered: sent.offeredSpans,
        accepted,
        refused: after.refused - before.refused,
        clientErrors: sent.errorSpans,
        late: sent.late,
        droppedTooEarly: counter(afterSamples, 'otelcol_processor_tail_sampling_sampling_trace_dropped_too_early') - counter(beforeSamples, 'otelcol_processor_tail_sampling_sampling_trace_dropped_too_early'),
        sendFailed: after.sendFailed - before.sendFailed,
        enqueueFailed: after.enqueueFailed - before.enqueueFailed,
        tracesOnMemory: sum(afterSamples, 'otelcol_processor_tail_sampling_sampling_traces_on_memory'),
        gatewayCores: reading.cores,
        coreBusy: reading.busy,
        rssMb: Math.max(0, ...rss) / MB,
        heapMb: Math.max(0, ...heap) / MB,
        sustained: false,
        why: [],
      };
      if (step.accepted < step.offered) step.why.push(`accepted ${step.accepted} of ${step.offered}`);
      if (step.refused > 0) step.why.push(`${step.refused} refused`);
      if (step.clientErrors > 0) step.why.push(`client errors: ${sent.errors.join('; ')}`);
      if (step.late > 0) step.why.push(`generator held back ${step.late} times (${MAX_IN_FLIGHT} requests in flight)`);
      if (step.droppedTooEarly > 0) step.why.push(`${step.droppedTooEarly} traces evicted before their decision (numTraces ${numTraces} full)`);
      if (step.sendFailed > 0) step.why.push(`${step.sendFailed} send-failed`);
      if (step.enqueueFailed > 0) step.why.push(`${step.enqueueFailed} dropped (queue full)`);
      if (step.heapMb * MB > softLimit.bytes) step.why.push(`heap ${Math.round(step.heapMb)} MB: over ${Math.round(softLimit.bytes / MB)} MB, where the memory limiter refuses data in a pod limited to ${softLimit.limit}`);
      step.sustained = step.why.length === 0;
      bench.log(
        `  ${String(rate).padStart(6)} spans/s offered: ${Math.round(step.acceptedPerSecond)} accepted/s, gateway ${Math.round(step.gatewayCores * 100)} % of a core, ` +
          `cores ${step.coreBusy.map((b) => `${Math.round(b * 100)}%`).join('/')}, RSS ${Math.round(step.rssMb)} MB, heap ${Math.round(step.heapMb)} MB, ${step.tracesOnMemory} traces held, ` +
          (step.sustained ? 'sustained' : `NOT sustained (${step.why.join('; ')})`),
      );
      return step;
    };

    const { steps, pass, fail } = await climb(smoke ? [1000, 2000] : [10000, 15000, 20000, 22500, 25000], 0, runStep);
    // Everything offered is decided a decisionWait (and a tick) after it arrived, then batched.
    await sleep((waitSeconds + 2) * 1000);
    const finalSamples = await metrics(gw.metricsUrl);
    const totals = await scrape(gw.metricsUrl, finalSamples);
    const decided = (sampled: string) => counter(finalSamples, 'otelcol_processor_tail_sampling_global_count_traces_sampled', (l) => l.sampled === sampled);
    const tailSamplingSeries = finalSamples.filter((s) => s.name.startsWith('otelcol_processor_tail_sampling_global'));
    const kept = (totals.sent['otlp_grpc/jaeger'] ?? 0) - (totals0.sent['otlp_grpc/jaeger'] ?? 0);
    const acceptedAll = totals.accepted - totals0.accepted;
    const expectedShare = 1 / SERVER_ERROR_EVERY + (1 - 1 / SERVER_ERROR_EVERY) * (percentage / 100);
    return { chart, softLimit, decisionWait, numTraces, percentage, idleRss, steps, pass, fail, kept, acceptedAll, expectedShare, totals, totals0, tracesKept: decided('true'), tracesDropped: decided('false'), tailSamplingSeries, jaeger: jaeger.counts, log: gw.proc.log, close: async () => { client.close(); await gw.stop(); jaeger.close(); } };
  } catch (error) {
    client.close();
    await gw.stop();
    jaeger.close();
    throw error;
  }
}

// ---- one agent --------------------------------------------------------------------------------

interface AgentReading {
  rate: number;
  offered: number;
  accepted: number;
  forwarded: number;
  cores: number;
  rssMb: number;
}

async function agent(bench: Bench, objects: K8sObject[]) {
  const chart = collectorOf(objects, { kind: 'DaemonSet', name: 'tracebridge-collector-agent' });
  const gateways = [await grpcSink(), await grpcSink()];
  const files = async (dir: string) => {
    // The chart's files, with the two changes a machine without a cluster needs (see above), and
    // scrape/static.yaml last: its one API target (a closed port) replaces the pod discovery.
    const written = writeCollectorFiles(chart, dir);
    const topology = written.find((f) => f.endsWith('topology-agent.yaml'));
    if (!topology) throw new Error(`the agent's files have no topology-agent.yaml: ${written.join(', ')}`);
    const yaml = parse(chart.fragments.find(([key]) => key === 'topology-agent.yaml')![1]) as {
      processors: { k8s_attributes: Record<string, unknown> };
      exporters: { loadbalancing: { resolver: unknown } };
    };
    yaml.exporters.loadbalancing.resolver = { static: { hostnames: gateways.map((g) => `127.0.0.1:${g.port}`) } };
    yaml.processors.k8s_attributes.auth_type = 'kubeConfig';
    await writeFile(topology, stringify(yaml));
    return [...written, join(configDir, 'scrape/static.yaml')];
  };
  const ag = await startTier(bench, 'collector-agent', chart, files, {
    K8S_NODE_NAME: 'bench-node',
    KUBECONFIG: unreachableKubeconfig(),
    GATEWAY_SERVICE: '127.0.0.1',
    GATEWAY_OTLP_GRPC_PORT: String(gateways[0]!.port),
    API_METRICS_TARGET: `127.0.0.1:${await freePort()}`,
  });
  const client = grpcClient(ag.grpcPort);
  try {
    const templates = Array.from({ length: 8 }, () => payload());
    let next = 0;
    const body = () => withFreshTraceIds(templates[next++ % templates.length]!);
    const seconds = bench.options.smoke ? 1 : Math.max(10, bench.options.collectorStep * 2);
    // Idle: started, nothing received (its own scrape of a closed port goes on).
    await sleep(bench.options.smoke ? 500 : 2000);
    const idleRead = cpuReader(ag.proc.pid);
    await sleep(seconds * 1000);
    const idle = { cores: idleRead().cores, rssMb: (rssBytes(ag.proc.pid) ?? 0) / MB };
    bench.log(`figure 8: one agent, examples/${EXAMPLE} (two stand-in gateways), ${seconds} s per rate; idle ${Math.round(idle.cores * 1000)} m CPU, RSS ${Math.round(idle.rssMb)} MB`);
    const readings: AgentReading[] = [];
    for (const rate of AGENT_RATES) {
      bench.order.push({ figure: 'agent', endpoint: 'OTLP/gRPC Export', variant: `${rate} spans/s`, round: 1, at: new Date().toISOString() });
      const before: Scrape = await scrape(ag.metricsUrl);
      const read = cpuReader(ag.proc.pid);
      const sent = await offer(client, body, rate, seconds);
      const cores = read().cores;
      await sleep(1500);
      const after = await scrape(ag.metricsUrl);
      const reading: AgentReading = {
        rate,
        offered: sent.offeredSpans,
        accepted: after.accepted - before.accepted,
        forwarded: (after.sent.loadbalancing ?? 0) - (before.sent.loadbalancing ?? 0),
        cores,
        rssMb: (rssBytes(ag.proc.pid) ?? 0) / MB,
      };
      readings.push(reading);
      bench.log(`  ${String(rate).padStart(6)} spans/s: ${Math.round(cores * 1000)} m CPU, RSS ${Math.round(reading.rssMb)} MB, accepted ${reading.accepted} of ${reading.offered}, forwarded ${reading.forwarded}`);
    }
    return { idle, readings, gatewaysReceived: gateways.map((g) => g.counts), log: ag.proc.log };
  } finally {
    client.close();
    await ag.stop();
    for (const g of gateways) g.close();
  }
}

// ---- the figure -------------------------------------------------------------------------------

export async function collectorTopology(bench: Bench): Promise<void> {
  const { objects } = await renderExample(EXAMPLE);
  const gw = await gateway(bench, objects);
  await gw.close();
  const sustained = gw.pass ? Math.round(gw.pass.acceptedPerSecond) : 0;
  bench.record({ figure: 8, name: `gateway · spans/s sustained, examples/${EXAMPLE} (tail sampling), 1 core, zero refused/evicted/dropped`, value: sustained, unit: 'spans/s', target: `>= ${GATEWAY_SPANS_PER_CORE_CLAIMED}` });
  if (gw.pass) {
    bench.record({ figure: 8, name: 'gateway · CPU at the sustained rate', value: round(gw.pass.gatewayCores, 2), unit: 'cores', target: null });
    // Not moved by other processes competing for the core: what one core would sustain alone.
    bench.record({ figure: 8, name: 'gateway · spans per CPU-second at the sustained rate', value: Math.round(gw.pass.acceptedPerSecond / gw.pass.gatewayCores), unit: 'spans/CPU-s', target: null });
    bench.record({ figure: 8, name: 'gateway · RSS at the sustained rate', value: round(gw.pass.rssMb), unit: 'MB', target: null });
    bench.record({ figure: 8, name: `gateway · Go heap at the sustained rate (memory limiter refuses above ${round(gw.softLimit.bytes / MB)} MB in the pod)`, value: round(gw.pass.heapMb), unit: 'MB', target: null });
    bench.record({ figure: 8, name: 'gateway · traces held at the sustained rate', value: gw.pass.tracesOnMemory, unit: 'traces', target: null });
  }
  bench.record({ figure: 8, name: 'gateway · RSS idle', value: round(gw.idleRss / MB), unit: 'MB', target: null });
  bench.record({ figure: 8, name: 'gateway · highest rate offered', value: Math.max(...gw.steps.map((s) => s.rate)), unit: 'spans/s', target: null });
  const decided = gw.tracesKept + gw.tracesDropped;
  bench.record({ figure: 8, name: `gateway · traces kept of those decided (policy: ${round(gw.expectedShare * 100)} %)`, value: decided > 0 ? round((gw.tracesKept / decided) * 100) : 0, unit: '%', target: null });
  bench.record({ figure: 8, name: 'gateway · export failures (send-failed + dropped), whole run', value: gw.totals.sendFailed - gw.totals0.sendFailed + gw.totals.enqueueFailed - gw.totals0.enqueueFailed, unit: 'spans', target: '= 0' });

  const ag = await agent(bench, objects);
  const [low, high] = [ag.readings[0]!, ag.readings[ag.readings.length - 1]!];
  // The agent's cost grows with its traffic from an idle floor: the slope between the two rates.
  const perThousand = ((high.cores - low.cores) / ((high.rate - low.rate) / 1000)) * 1000;
  bench.record({ figure: 8, name: 'agent · CPU idle', value: round(ag.idle.cores * 1000), unit: 'millicores', target: null });
  bench.record({ figure: 8, name: 'agent · RSS idle', value: round(ag.idle.rssMb), unit: 'MB', target: null });
  for (const r of ag.readings) {
    bench.record({ figure: 8, name: `agent · CPU at ${r.rate} spans/s`, value: round(r.cores * 1000), unit: 'millicores', target: null });
    bench.record({ figure: 8, name: `agent · RSS at ${r.rate} spans/s`, value: round(r.rssMb), unit: 'MB', target: null });
  }
  bench.record({ figure: 8, name: 'agent · CPU per 1,000 spans/s', value: round(perThousand), unit: 'millicores', target: null });
  bench.record({ figure: 8, name: 'agent · spans accepted and forwarded = offered', value: ag.readings.every((r) => r.accepted === r.offered && r.forwarded === r.offered) ? 1 : 0, unit: 'bool', target: '= 1' });

  bench.details.figure8 = {
    example: EXAMPLE,
    gateway: {
      decisionWait: gw.decisionWait,
      numTraces: gw.numTraces,
      percentage: gw.percentage,
      serverErrorEvery: SERVER_ERROR_EVERY,
      spansPerTrace: SPANS_PER_TRACE,
      spansPerRequest: SPANS_PER_REQUEST,
      firstNotSustained: gw.fail ? { rate: gw.fail.rate, why: gw.fail.why } : null,
      steps: gw.steps.map((s) => ({ ...s, acceptedPerSecond: Math.round(s.acceptedPerSecond), gatewayCores: round(s.gatewayCores, 2), rssMb: round(s.rssMb), heapMb: round(s.heapMb) })),
      memoryLimiterSoftLimitInPodMb: round(gw.softLimit.bytes / MB),
      spansSentToDestination: gw.kept,
      spansAccepted: gw.acceptedAll,
      tracesKept: gw.tracesKept,
      tracesNotKept: gw.tracesDropped,
      tailSamplingSeries: gw.tailSamplingSeries,
      standIn: gw.jaeger,
      log: gw.log,
    },
    agent: { idle: { cores: round(ag.idle.cores, 3), rssMb: round(ag.idle.rssMb) }, readings: ag.readings.map((r) => ({ ...r, cores: round(r.cores, 3), rssMb: round(r.rssMb) })), gatewaysReceived: ag.gatewaysReceived, log: ag.log },
  };
}
