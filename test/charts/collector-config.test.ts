import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { assembleCollectorConfig, type Destination, type Yaml } from '../../collector/assemble.ts';
import { jaegerTraces, startCollector, startJaeger, toolBinary, type Collector, type Jaeger } from '../support/backends.ts';
import { chartDir, collectorOf, EXAMPLES, exampleValues, renderExample } from '../support/chart.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startDatadogIntake, type DatadogIntake } from '../support/datadog-intake.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { freePort } from '../support/ports.ts';
import { runNode, startTracedApi, type ManagedProcess } from '../support/process.ts';
import { startGrafanaCloudGateway, type GrafanaCloudGateway } from '../support/standins.ts';

/**
 * The collector configuration the chart ships is the one we test: the ConfigMap each example
 * renders passes the real collector's `validate`, equals what collector/assemble.ts builds from
 * the same fragments, and — for the example with every destination — runs end to end with
 * only the endpoints pointed at loopback.
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

describe('the collector configuration of every example', () => {
  it.each(EXAMPLES)("examples/%s: equals collector/assemble.ts's assembly of the same fragments", async (example) => {
    const { config } = collectorOf((await renderExample(example)).objects);
    expect(config).toEqual(assembleCollectorConfig(enabledDestinations(example), { scrape: 'kubernetes' }));
  });

  it.each(EXAMPLES)("examples/%s: passes the real collector's validate with the Deployment's env", async (example) => {
    const { config, env, secretRefs } = collectorOf((await renderExample(example)).objects);
    const dir = await mkdtemp(join(tmpdir(), 'tracebridge-chart-otelcol-'));
    await writeFile(join(dir, 'config.yaml'), JSON.stringify(config));
    const credentials = Object.fromEntries(Object.keys(secretRefs).map((name) => [name, 'test-credential']));
    const result = await run(toolBinary('OTELCOL_BIN'), ['validate', '--config', join(dir, 'config.yaml')], {
      env: { PATH: process.env.PATH, ...env, ...credentials },
    }).then(
      () => 'valid',
      (error: unknown) => stderrOf(error),
    );
    expect(result).toBe('valid');
  });

  it('validate is not a rubber stamp: a credential reference the Deployment does not set fails it', async () => {
    const { config, env } = collectorOf((await renderExample('datadog')).objects);
    const dir = await mkdtemp(join(tmpdir(), 'tracebridge-chart-otelcol-'));
    await writeFile(join(dir, 'config.yaml'), JSON.stringify(config));
    const failure = await run(toolBinary('OTELCOL_BIN'), ['validate', '--config', join(dir, 'config.yaml')], { env: { PATH: process.env.PATH, ...env } }).then(
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
      API_SCRAPE_INTERVAL: '1s',
    };
    // startCollector binds the receivers, health and metrics to free loopback ports itself.
    const rest = Object.fromEntries(Object.entries(chart.env).filter(([name]) => !/^(OTLP_(GRPC|HTTP)_ENDPOINT|COLLECTOR_(HEALTH_ENDPOINT|METRICS_HOST|METRICS_PORT))$/.test(name)));
    collector = await startCollector(chart.config, { ...rest, ...credentials, ...loopback }, (config) => {
      // Two endpoints are not env references: the API pods, found through the Kubernetes API
      // in a cluster (here: the one API process), and the Datadog site's intake hosts.
      const scrape = (config.receivers as Record<string, { config: { scrape_configs: Record<string, Yaml>[] } }>)['prometheus/api']!.config.scrape_configs[0]!;
      expect(scrape.kubernetes_sd_configs).toBeDefined();
      delete scrape.kubernetes_sd_configs;
      delete scrape.relabel_configs;
      scrape.static_configs = [{ targets: [`127.0.0.1:${apiMetricsPort}`] }];
      intake.rewrite(config);
    });
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
