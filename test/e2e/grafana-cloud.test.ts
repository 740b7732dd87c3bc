import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../support/backends.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { freePort } from '../support/ports.ts';
import { startTracedApi, type ManagedProcess } from '../support/process.ts';
import { parsePrometheus } from '../support/prometheus.ts';
import { startGrafanaCloudGateway, type GrafanaCloudGateway } from '../support/standins.ts';

/**
 * The Grafana Cloud destination, for real but on loopback: the shipped pipeline's otlp_http +
 * basicauth exporter sends to a second real collector playing the Grafana Cloud OTLP gateway,
 * which requires those credentials (basicauth server side) and hands what it accepts to a
 * trace receiver and a Prometheus endpoint the test reads.
 */

const INSTANCE_ID = '123456';
const TOKEN = 'glc_eyJrIjoidGVzdCJ9';

let database: TestDatabase;
let sink: OtlpReceiver;
let gateway: GrafanaCloudGateway;
let api: ManagedProcess;
let base: string;
let apiMetricsPort: number;
const collectors: Collector[] = [];

const grafanaEnv = (token: string) => ({
  GRAFANA_CLOUD_OTLP_ENDPOINT: gateway.otlpHttp,
  GRAFANA_CLOUD_INSTANCE_ID: INSTANCE_ID,
  GRAFANA_CLOUD_API_TOKEN: token,
  API_METRICS_TARGET: `127.0.0.1:${apiMetricsPort}`,
  API_SCRAPE_INTERVAL: '1s',
});

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db('users').insert({ name: 'Alice', email: 'alice@example.com' });
  sink = await startOtlpReceiver();
  gateway = await startGrafanaCloudGateway({ instanceId: INSTANCE_ID, token: TOKEN, sinkPort: sink.port });
  apiMetricsPort = await freePort();
  const good = await startCollector(['grafanaCloud'], grafanaEnv(TOKEN));
  collectors.push(good);
  ({ api, base } = await startTracedApi({
    databaseUrl: database.url,
    otlpEndpoint: good.otlpGrpcEndpoint,
    service: 'tracebridge-grafana',
    metricsPort: apiMetricsPort,
  }));
});

afterAll(async () => {
  await api.stop();
  for (const c of collectors) await c.stop();
  await gateway.process.stop();
  await sink.close();
  await database.drop();
});

describe('Grafana Cloud destination (otlp_http + basicauth)', () => {
  it('traces arrive at the gateway with the credentials it requires', async () => {
    expect((await fetch(`${base}/users/1`)).status).toBe(200);
    const spans = await sink.waitForSpans((all) => all.some((s) => s.name === 'GET /users/:id'), 20_000);
    const server = spans.find((s) => s.name === 'GET /users/:id')!;
    expect(server.resource['service.name']).toBe('tracebridge-grafana');
    const names = spans.filter((s) => s.traceId === server.traceId).map((s) => s.name);
    expect(names.sort()).toEqual(['GET /users/:id', 'db.query.find', 'db.relationship.load']);
  });

  it("the API's pool metrics, scraped by the collector, arrive at the gateway", async () => {
    const deadline = Date.now() + 20_000;
    let names: string[] = [];
    while (Date.now() < deadline) {
      names = parsePrometheus(await (await fetch(gateway.metricsUrl)).text()).map((s) => s.name);
      if (names.includes('db_client_connection_count') && names.some((n) => n.startsWith('http_server_request_duration'))) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(names).toContain('db_client_connection_count');
    expect(names.some((n) => n.startsWith('http_server_request_duration'))).toBe(true);
  });

  it("wrong credentials are rejected by the gateway and show in the sending collector's own metrics", async () => {
    const wrong = await startCollector(['grafanaCloud'], grafanaEnv('not-the-token'));
    collectors.push(wrong);
    const before = sink.spans.length;
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-grpc');
    const { SimpleSpanProcessor, TracerProvider } = await import('@opentelemetry/sdk-trace');
    const provider = new TracerProvider({
      spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: wrong.otlpGrpcEndpoint }) })],
    });
    provider.getTracer('t').startSpan('rejected').end();
    await provider.shutdown();
    const deadline = Date.now() + 20_000;
    let failed = 0;
    while (Date.now() < deadline && failed === 0) {
      const samples = parsePrometheus(await (await fetch(wrong.metricsUrl)).text());
      failed = samples
        .filter((s) => /^otelcol_exporter_send_failed_spans/.test(s.name) && s.labels.exporter === 'otlp_http/grafana_cloud')
        .reduce((sum, s) => sum + s.value, 0);
      if (failed === 0) await new Promise((r) => setTimeout(r, 500));
    }
    expect(failed).toBeGreaterThan(0);
    expect(sink.spans.slice(before).some((s) => s.name === 'rejected')).toBe(false);
    expect(wrong.process.stderr()).toMatch(/401|Unauthorized/i);
    expect(wrong.process.stderr() + wrong.process.stdout()).not.toContain('not-the-token');
  });
});
