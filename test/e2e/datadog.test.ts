import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCollector, type Collector } from '../support/backends.ts';
import { startDatadogIntake, type DatadogIntake } from '../support/datadog-intake.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { startTracedApi, type ManagedProcess } from '../support/process.ts';

/**
 * The Datadog destination with the real datadog exporter and connector; only the intake is a
 * stand-in (a loopback HTTP server recording what it is sent), reached by rewriting the
 * exporter's endpoints in the otherwise shipped pipeline.
 */

const API_KEY = 'dd0123456789abcdef0123456789abcd';

let intake: DatadogIntake;
let database: TestDatabase;
let collector: Collector;
let api: ManagedProcess;
let base: string;

beforeAll(async () => {
  intake = await startDatadogIntake();
  database = await createTestDatabase();
  await database.db('users').insert({ name: 'Alice', email: 'alice@example.com' });
  const apiMetricsPort = await freePort();
  collector = await startCollector(
    ['datadog'],
    { DD_API_KEY: API_KEY, DD_SITE: 'datadoghq.eu', API_METRICS_TARGET: `127.0.0.1:${apiMetricsPort}`, API_SCRAPE_INTERVAL: '1s' },
    [intake.override],
  );
  ({ api, base } = await startTracedApi({
    databaseUrl: database.url,
    otlpEndpoint: collector.otlpGrpcEndpoint,
    service: 'tracebridge-datadog',
    metricsPort: apiMetricsPort,
  }));
});

afterAll(async () => {
  await api.stop();
  await collector.stop();
  await intake.close();
  await database.drop();
});

async function waitFor(predicate: () => boolean, what: string, timeoutMs = 45_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(`${what} not received; intake saw: ${[...new Set(intake.received.map((r) => `${r.method} ${r.path}`))].join(', ')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

// The exporter flushes APM stats about every 10 s: these tests wait for real payloads.
describe('Datadog destination (datadog exporter + connector)', () => {
  it('trace payloads arrive with the API key, carrying our service and operation', async () => {
    for (let i = 0; i < 5; i++) expect((await fetch(`${base}/users/1`)).status).toBe(200);
    await waitFor(() => intake.received.some((r) => r.path.endsWith('/traces') && r.body.includes('tracebridge-datadog')), 'trace payload');
    const traces = intake.received.filter((r) => r.path.endsWith('/traces'));
    expect(traces.every((r) => r.headers['dd-api-key'] === API_KEY)).toBe(true);
    expect(traces.some((r) => r.body.includes('GET /users/:id'))).toBe(true);
  }, 60_000);

  it('APM stats computed by the connector arrive', async () => {
    await waitFor(() => intake.received.some((r) => r.path.endsWith('/stats')), 'APM stats payload');
    const stats = intake.received.filter((r) => r.path.endsWith('/stats'));
    expect(stats.every((r) => r.headers['dd-api-key'] === API_KEY)).toBe(true);
    expect(stats.some((r) => r.body.includes('tracebridge-datadog'))).toBe(true);
  }, 60_000);

  it("the API's metrics arrive as Datadog series", async () => {
    await waitFor(
      // Scraped from the API's /metrics by the collector's prometheus receiver: Prometheus names.
      () => intake.received.some((r) => r.path.includes('/series') && r.body.includes('db_client_connection_count')),
      'metric series with the pool metrics',
    );
    expect(intake.received.filter((r) => r.path.includes('/series')).every((r) => r.headers['dd-api-key'] === API_KEY)).toBe(true);
  }, 60_000);
});
