import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { ATTR } from '../../api/src/telemetry/attributes.ts';
import { configDir, tierFragmentsFor } from '../../collector/fragments.ts';
import { startCollector, startJaeger, type Collector, type Jaeger } from '../support/backends.ts';
import { unreachableKubeconfig } from '../support/chart.ts';

/**
 * The agent-gateway topology with real binaries: one agent (collector/config/topology/agent.yaml,
 * its loadbalancing exporter given a static list of the two gateways instead of the cluster's
 * headless Service), two gateways (topology/gateway.yaml, the chart's tail-sampling policy),
 * and a real Jaeger. Traces are sent in pieces (children first, the root later), as a service
 * would; the gateways must see each trace whole to decide on it.
 */

const LATENCY_THRESHOLD_MS = 500;
const PERCENTAGE = 20;
const KEPT_PER_CLASS = 20;
const PLAIN = 1000;
const SPANS_PER_TRACE = 3;
/** Sampled share of the plain traces: within this many percentage points of the policy. */
const TOLERANCE = 5;

type Kind = 'error' | 'server-error' | 'slow' | 'n-plus-one' | 'plain';
const KINDS: Kind[] = ['error', 'server-error', 'slow', 'n-plus-one', 'plain'];

/** Trace IDs from a hash of their name: the same IDs on every run, so the sampled share is too. */
const hex = (name: string, bytes: number) => createHash('sha256').update(name).digest('hex').slice(0, bytes * 2);
const traceIds = (kind: Kind, count: number) => Array.from({ length: count }, (_, i) => hex(`${kind}-${i}`, 16));

type Attribute = { key: string; value: { stringValue?: string; intValue?: number; boolValue?: boolean } };
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Attribute[];
  status?: { code: number };
}

/** The three spans of one trace: a SERVER root and two children, shaped by its kind. */
function spansOf(kind: Kind, traceId: string): { root: OtlpSpan; children: OtlpSpan[] } {
  const start = BigInt(Date.now() - 2_000) * 1_000_000n;
  const rootMs = kind === 'slow' ? LATENCY_THRESHOLD_MS + 300 : 20;
  const rootId = hex(`${traceId}-root`, 8);
  const at = (ms: number) => (start + BigInt(ms) * 1_000_000n).toString();
  const attributes: Attribute[] = [{ key: 'http.response.status_code', value: { intValue: kind === 'server-error' ? 503 : 200 } }];
  if (kind === 'n-plus-one') attributes.push({ key: ATTR.nPlusOneDetected, value: { boolValue: true } });
  const root: OtlpSpan = { traceId, spanId: rootId, name: 'GET /users', kind: 2, startTimeUnixNano: at(0), endTimeUnixNano: at(rootMs), attributes };
  const children = [1, 2].map(
    (n): OtlpSpan => ({
      traceId,
      spanId: hex(`${traceId}-${n}`, 8),
      parentSpanId: rootId,
      name: `select ${n}`,
      kind: 3,
      startTimeUnixNano: at(n),
      endTimeUnixNano: at(n + 5),
      attributes: [],
      // An error on a child only: the whole trace must still be kept.
      ...(kind === 'error' && n === 2 ? { status: { code: 2 } } : {}),
    }),
  );
  return { root, children };
}

async function post(collector: Collector, service: string, spans: OtlpSpan[]): Promise<void> {
  const body = {
    resourceSpans: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] }, scopeSpans: [{ scope: { name: 'tail-sampling-test' }, spans }] }],
  };
  const response = await fetch(`${collector.otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status, await response.text()).toBe(200);
}

/** Span counts by trace ID of a service in Jaeger. */
async function jaegerSpanCounts(jaeger: Jaeger, service: string): Promise<Map<string, number>> {
  const params = new URLSearchParams({ service, limit: '5000', lookback: '1h' });
  const response = await fetch(`${jaeger.queryUrl}/api/traces?${params.toString()}`);
  const body = (await response.json()) as { data: { traceID: string; spans: unknown[] }[] | null };
  return new Map((body.data ?? []).map((t) => [t.traceID, t.spans.length]));
}

/** Sum of a counter over its series in a Prometheus text exposition. */
async function counter(url: string, name: string): Promise<number> {
  const text = await (await fetch(url)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:_total)?(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}

const ids = Object.fromEntries(KINDS.map((k) => [k, traceIds(k, k === 'plain' ? PLAIN : KEPT_PER_CLASS)])) as Record<Kind, string[]>;
const sent = KINDS.reduce((n, k) => n + ids[k].length, 0) * SPANS_PER_TRACE;

let jaeger: Jaeger;
let gateways: Collector[];
let agent: Collector;

beforeAll(async () => {
  jaeger = await startJaeger();
  const gatewayEnv = {
    JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint,
    JAEGER_OTLP_INSECURE: 'true',
    DEBUG_VERBOSITY: 'detailed',
    TAIL_SAMPLING_DECISION_WAIT: '3s',
    TAIL_SAMPLING_NUM_TRACES: '50000',
    TAIL_SAMPLING_LATENCY_THRESHOLD_MS: String(LATENCY_THRESHOLD_MS),
    TAIL_SAMPLING_PERCENTAGE: String(PERCENTAGE),
  };
  const gatewayFiles = tierFragmentsFor('gateway', ['jaeger', 'debug']).map((f) => join(configDir, f));
  gateways = await Promise.all([1, 2].map(() => startCollector({ files: gatewayFiles }, gatewayEnv)));

  // The chart's agent, with the resolver a test can have (the static list of the gateways) and
  // Kubernetes metadata read with a kubeconfig instead of a pod's service account (the API
  // server is unreachable here: nothing is added, nothing is held back).
  const dir = await mkdtemp(join(tmpdir(), 'tracebridge-agent-'));
  const agentYaml = parse(readFileSync(join(configDir, 'topology/agent.yaml'), 'utf8')) as {
    processors: { k8s_attributes: Record<string, unknown> };
    exporters: { loadbalancing: { resolver: unknown } };
  };
  agentYaml.exporters.loadbalancing.resolver = { static: { hostnames: gateways.map((g) => g.otlpGrpcEndpoint.replace('http://', '')) } };
  agentYaml.processors.k8s_attributes.auth_type = 'kubeConfig';
  const agentFile = join(dir, 'agent.yaml');
  writeFileSync(agentFile, stringify(agentYaml));
  const agentFiles = tierFragmentsFor('agent', ['jaeger'], 'static').map((f) => (f === 'topology/agent.yaml' ? agentFile : join(configDir, f)));
  const [host, port] = gateways[0]!.otlpGrpcEndpoint.replace('http://', '').split(':') as [string, string];
  agent = await startCollector({ files: agentFiles }, { K8S_NODE_NAME: 'node-a', KUBECONFIG: unreachableKubeconfig(), GATEWAY_SERVICE: host, GATEWAY_OTLP_GRPC_PORT: port });

  // Children first, then the roots, in batches of 50 traces: no trace arrives in one piece.
  for (const kind of KINDS) {
    for (let i = 0; i < ids[kind].length; i += 50) {
      const batch = ids[kind].slice(i, i + 50).map((id) => spansOf(kind, id));
      await post(agent, `ts-${kind}`, batch.flatMap((t) => t.children));
      await post(agent, `ts-${kind}`, batch.map((t) => t.root));
    }
  }
}, 120_000);

afterAll(async () => {
  await agent.stop();
  for (const gateway of gateways) await gateway.stop();
  await jaeger.stop();
});

describe('agent -> loadbalancing by trace ID -> two tail-sampling gateways -> Jaeger', () => {
  it('every span reaches a gateway, and both gateways take a share', async () => {
    const deadline = Date.now() + 30_000;
    let perGateway: number[] = [];
    while (Date.now() < deadline) {
      perGateway = await Promise.all(gateways.map((g) => counter(g.metricsUrl, 'otelcol_receiver_accepted_spans')));
      if (perGateway.reduce((a, b) => a + b, 0) >= sent) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(perGateway.reduce((a, b) => a + b, 0)).toBe(sent);
    for (const n of perGateway) expect(n).toBeGreaterThan(sent / 4);
  }, 40_000);

  it.each(['error', 'server-error', 'slow', 'n-plus-one'] as const)('every %s trace is kept, complete', async (kind) => {
    const deadline = Date.now() + 30_000;
    let counts = new Map<string, number>();
    while (Date.now() < deadline) {
      counts = await jaegerSpanCounts(jaeger, `ts-${kind}`);
      if (ids[kind].every((id) => counts.get(id) === SPANS_PER_TRACE)) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(ids[kind].filter((id) => counts.get(id) !== SPANS_PER_TRACE)).toEqual([]);
  }, 40_000);

  it(`of the plain traces, ${PERCENTAGE} % (± ${TOLERANCE}) are kept, each complete`, async () => {
    // Every class was decided by now (the kept ones are in Jaeger); give the plain ones the same wait.
    const deadline = Date.now() + 30_000;
    let counts = new Map<string, number>();
    let previous = -1;
    while (Date.now() < deadline) {
      counts = await jaegerSpanCounts(jaeger, 'ts-plain');
      if (counts.size > 0 && counts.size === previous) break;
      previous = counts.size;
      await new Promise((r) => setTimeout(r, 2_000));
    }
    const share = (counts.size / PLAIN) * 100;
    expect(share, `${counts.size} of ${PLAIN} plain traces kept`).toBeGreaterThanOrEqual(PERCENTAGE - TOLERANCE);
    expect(share, `${counts.size} of ${PLAIN} plain traces kept`).toBeLessThanOrEqual(PERCENTAGE + TOLERANCE);
    expect([...counts.values()].every((n) => n === SPANS_PER_TRACE)).toBe(true);
    expect([...counts.keys()].every((id) => ids.plain.includes(id))).toBe(true);
  }, 40_000);

  it('all spans of a trace were sampled on one gateway', () => {
    // The debug exporter (verbosity detailed) prints each kept span's trace ID.
    const seen = gateways.map((g) => {
      const byTrace = new Map<string, number>();
      for (const m of (g.process.stderr() + g.process.stdout()).matchAll(/Trace ID\s*: ([0-9a-f]{32})/g)) byTrace.set(m[1]!, (byTrace.get(m[1]!) ?? 0) + 1);
      return byTrace;
    });
    const kept = KINDS.filter((k) => k !== 'plain').flatMap((k) => ids[k]);
    for (const id of kept) {
      const where = seen.map((s) => s.get(id) ?? 0);
      expect(where.filter((n) => n > 0), `trace ${id}: spans per gateway ${where.join(', ')}`).toEqual([SPANS_PER_TRACE]);
    }
    // Both gateways kept some of them: the routing spreads traces.
    expect(seen.every((s) => kept.some((id) => s.has(id)))).toBe(true);
  });
});
