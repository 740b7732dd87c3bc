import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configArgs, configDir, fragmentsFor, tierFragmentsFor, type Destination } from '../../collector/fragments.ts';
import { jaegerTraces, startCollector, startJaeger, toolBinary, type Collector, type Jaeger } from '../support/backends.ts';
import { chartDir, collectorOf, EXAMPLES, exampleValues, renderExample, unreachableKubeconfig, writeCollectorFiles } from '../support/chart.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startDatadogIntake, type DatadogIntake } from '../support/datadog-intake.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { freePort } from '../support/ports.ts';
import { runNode, startTracedApi, type ManagedProcess } from '../support/process.ts';
import { startGrafanaCloudGateway, type GrafanaCloudGateway } from '../support/standins.ts';

/**
 * The collector configuration the chart ships is the one we test: the ConfigMap each example
 * renders holds the files of collector/config/ its destinations select, unchanged, in the
 * Deployment's --config order; the collector's merge of them passes its `validate`; and — for
 * the example with every destination — runs end to end with only the endpoints pointed at
 * loopback.
 */

const run = promisify(execFile);
const stderrOf = (error: unknown) => (error as { stderr?: string }).stderr ?? 'no stderr';

/** The fragments an example enables, read from the chart's defaults and the example's values. */
function enabledDestinations(example: string): Destination[] {
  type Destinations = Record<string, { enabled?: boolean; protocol?: string }>;
  const defaults = (parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as { destinations: Destinations }).destinations;
  const values = ((parse(readFileSync(exampleValues(example), 'utf8')) as { destinations?: Destinations }).destinations ?? {});
  const on = (name: string) => values[name]?.enabled ?? defaults[name]?.enabled ?? false;
  const protocol = values.otlp?.protocol ?? defaults.otlp?.protocol;
  const list: Destination[] = [];
  if (on('jaeger')) list.push('jaeger');
  if (on('grafanaCloud')) list.push('grafanaCloud');
  if (on('datadog')) list.push('datadog');
  if (on('otlp')) list.push(protocol === 'http' ? 'otlpHttp' : 'otlp');
  if (on('debug')) list.push('debug');
  return list;
}

/** Whether an example runs agents and gateways (collector.mode agent-gateway): collectorOf is then the agent. */
const agentGateway = (example: string) =>
  (parse(readFileSync(exampleValues(example), 'utf8')) as { collector?: { mode?: string } }).collector?.mode === 'agent-gateway';

/** Whether an example also scrapes other workloads' pods (collector.scrape.pods). */
const scrapesPods = (example: string) =>
  (parse(readFileSync(exampleValues(example), 'utf8')) as { collector?: { scrape?: { pods?: { enabled?: boolean } } } }).collector?.scrape?.pods?.enabled === true;

describe('the collector configuration of every example', () => {
  it.each(EXAMPLES)('examples/%s: the files of collector/config/ its destinations select, unchanged, one --config each', async (example) => {
    // collector.config (values) is one more file, last: test/charts/escape-hatches.test.ts.
    const fragments = collectorOf((await renderExample(example)).objects).fragments.filter(([key]) => key !== 'overlay.yaml');
    const expected = agentGateway(example) ? tierFragmentsFor('agent', enabledDestinations(example)) : fragmentsFor(enabledDestinations(example), 'kubernetes');
    // Other workloads' pods: right after the API's scrape.
    if (scrapesPods(example)) expected.splice(2, 0, 'scrape/annotated-pods.yaml');
    expect(fragments.map(([key]) => key)).toEqual(expected.map((file) => file.replace('/', '-')));
    fragments.forEach(([key, text], i) => expect(text, key).toBe(readFileSync(join(configDir, expected[i]!), 'utf8')));
  });

  it.each(EXAMPLES)('examples/%s: every ${env:...} without a default in those files is one the Deployment sets', async (example) => {
    const { fragments, env, secretRefs } = collectorOf((await renderExample(example)).objects);
    const required = new Set(fragments.flatMap(([, text]) => [...text.matchAll(/\$\{env:(\w+)\}/g)].map((m) => m[1]!)));
    expect(required.size).toBeGreaterThan(5);
    expect([...required].filter((name) => env[name] === undefined && secretRefs[name] === undefined)).toEqual([]);
  });

  it.each(EXAMPLES)("examples/%s: passes the real collector's validate with the Deployment's env", async (example) => {
    const chart = collectorOf((await renderExample(example)).objects);
    const { env, secretRefs } = chart;
    const files = writeCollectorFiles(chart, await mkdtemp(join(tmpdir(), 'tracebridge-chart-otelcol-')));
    const credentials = Object.fromEntries(Object.keys(secretRefs).map((name) => [name, 'test-credential']));
    // An agent's node name comes from the downward API, and its Kubernetes clients need a
    // cluster to be created (not reached): an unreachable one.
    const inCluster = agentGateway(example) ? { K8S_NODE_NAME: 'node-a', KUBECONFIG: unreachableKubeconfig() } : {};
    const result = await run(toolBinary('OTELCOL_BIN'), ['validate', ...configArgs(files)], {
      env: { PATH: process.env.PATH, ...env, ...credentials, ...inCluster },
    }).then(
      () => 'valid',
      (error: unknown) => stderrOf(error),
    );
    expect(result).toBe('valid');
  });

  it('validate is not a rubber stamp: a credential reference the Deployment does not set fails it', async () => {
    const chart = collectorOf((await renderExample('datadog')).objects);
    const files = writeCollectorFiles(chart, await mkdtemp(join(tmpdir(), 'tracebridge-chart-otelcol-')));
    const failure = await run(toolBinary('OTELCOL_BIN'), ['validate', ...configArgs(files)], { env: { PATH: process.env.PATH, ...chart.env } }).then(
      () => '',
      (error: unknown) => stderrOf(error),
    );
    expect(failure).toMatch(/api.key/i);
  });
});

describe('examples/all-destinations: the chart-rendered configuration, end to end', () => {
  const INSTANCE_ID = '778899';
  const TOKEN = 'glc_chart_e2e_token';
  const DD_KEY = 'dd0123456789abcdef0123456789abcd';
  const AUTHORIZATION = 'Bearer otlp-e2e-token';

  let database: TestDatabase;
  let jaeger: Jaeger;
  let otlpSink: OtlpReceiver;
  let grafanaSink: OtlpReceiver;
  let gateway: GrafanaCloudGateway;
  let intake: DatadogIntake;
  let collector: Collector;
  let api: ManagedProcess;
  let base: string;
  let chartEnv: Record<string, string>;

  beforeAll(async () => {
    const chart = collectorOf((await renderExample('all-destinations')).objects);
    chartEnv = chart.env;
    database = await createTestDatabase();
    await database.db('users').insert({ name: 'Alice', email: 'alice@example.com' });
    jaeger = await startJaeger();
    otlpSink = await startOtlpReceiver();
    grafanaSink = await startOtlpReceiver();
    gateway = await startGrafanaCloudGateway({ instanceId: INSTANCE_ID, token: TOKEN, sinkPort: grafanaSink.port });
    intake = await startDatadogIntake();
    const apiMetricsPort = await freePort();

    // The chart's env, then only endpoints moved to loopback and the Secrets' values supplied.
    const secrets: Record<string, string> = {
      'grafana-cloud/instance-id': INSTANCE_ID,
      'grafana-cloud/api-token': TOKEN,
      'datadog/api-key': DD_KEY,
      'tempo-auth/authorization': AUTHORIZATION,
    };
    const credentials = Object.fromEntries(Object.entries(chart.secretRefs).map(([name, ref]) => [name, secrets[ref] ?? '']));
    const loopback = {
      JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint,
      GRAFANA_CLOUD_OTLP_ENDPOINT: gateway.otlpHttp,
      OTLP_DESTINATION_ENDPOINT: `127.0.0.1:${otlpSink.port}`,
      API_METRICS_TARGET: `127.0.0.1:${apiMetricsPort}`,
      API_SCRAPE_INTERVAL: '1s',
    };
    // startCollector binds the receivers, health and metrics to free loopback ports itself.
    const rest = Object.fromEntries(Object.entries(chart.env).filter(([name]) => !/^(OTLP_(GRPC|HTTP)_ENDPOINT|COLLECTOR_(HEALTH_ENDPOINT|METRICS_HOST|METRICS_PORT))$/.test(name)));
    const files = writeCollectorFiles(chart, await mkdtemp(join(tmpdir(), 'tracebridge-chart-otelcol-')));
    expect(files.map((f) => f.split('/').at(-1))).toContain('scrape-kubernetes.yaml');
    // Two endpoints are not env references: the API pods, found through the Kubernetes API in
    // a cluster (here: the one API process, scraped at one address by scrape/static.yaml,
    // whose list of scrape jobs replaces the chart's), and the Datadog site's intake hosts.
    collector = await startCollector({ files: [...files, join(configDir, 'scrape/static.yaml')] }, { ...rest, ...credentials, ...loopback }, [intake.override]);
    ({ api, base } = await startTracedApi({
      databaseUrl: database.url,
      otlpEndpoint: collector.otlpGrpcEndpoint,
      service: 'tracebridge-chart',
      metricsPort: apiMetricsPort,
    }));
  }, 90_000);

  afterAll(async () => {
    await api.stop();
    await collector.stop();
    await intake.close();
    await gateway.process.stop();
    await grafanaSink.close();
    await otlpSink.close();
    await jaeger.stop();
    await database.drop();
  });

  it('the chart env is what the test ran with, apart from endpoints', () => {
    expect(chartEnv).toMatchObject({ DD_SITE: 'datadoghq.com', OTLP_DESTINATION_INSECURE: 'true', DEBUG_VERBOSITY: 'basic' });
  });

  it('one request reaches Jaeger, Grafana Cloud, Datadog and the OTLP backend', async () => {
    expect((await fetch(`${base}/users/1`)).status).toBe(200);

    const sink = await otlpSink.waitForSpans((s) => s.some((x) => x.name === 'GET /users/:id'), 20_000);
    const traceId = sink.find((s) => s.name === 'GET /users/:id')!.traceId;
    expect(otlpSink.headers.some((h) => h.authorization === AUTHORIZATION)).toBe(true);

    const viaGrafana = await grafanaSink.waitForSpans((s) => s.some((x) => x.traceId === traceId), 20_000);
    expect(viaGrafana.filter((s) => s.traceId === traceId).map((s) => s.name)).toContain('GET /users/:id');

    const deadline = Date.now() + 20_000;
    let inJaeger: string[] = [];
    while (Date.now() < deadline && !inJaeger.includes('GET /users/:id')) {
      inJaeger = (await jaegerTraces(jaeger.queryUrl, 'tracebridge-chart')).flat().filter((s) => s.traceID === traceId).map((s) => s.operationName);
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(inJaeger).toContain('GET /users/:id');

    while (Date.now() < deadline + 25_000 && !intake.received.some((r) => r.path === '/api/v0.2/traces')) {
      await new Promise((r) => setTimeout(r, 300));
    }
    expect(intake.received.filter((r) => r.path === '/api/v0.2/traces').map((r) => r.headers['dd-api-key'])).toContain(DD_KEY);
  }, 60_000);

  it('the `helm test` script passes against this stack: the API answers and its trace is in Jaeger', async () => {
    const smoke = runNode(join(chartDir, 'files/smoke-test.mjs'), [], { API_URL: base, JAEGER_URL: jaeger.queryUrl });
    expect(await smoke.exited, smoke.stdout() + smoke.stderr()).toBe(0);
    expect(smoke.stdout()).toMatch(/ok {3}trace [0-9a-f]{32} in Jaeger: \d+ spans\nPASS/);
  }, 60_000);

  it('and fails, saying why, when the trace never arrives', async () => {
    const empty = await startJaeger();
    try {
      const smoke = runNode(join(chartDir, 'files/smoke-test.mjs'), [], { API_URL: base, JAEGER_URL: empty.queryUrl, SMOKE_TEST_TIMEOUT_MS: '2000' });
      expect(await smoke.exited).toBe(1);
      expect(smoke.stderr()).toMatch(/FAIL trace [0-9a-f]{32} did not reach Jaeger within 2000 ms/);
    } finally {
      await empty.stop();
    }
  }, 30_000);
});
