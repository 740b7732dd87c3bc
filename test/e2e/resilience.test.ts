import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jaegerTraces, startCollector, startJaeger, type Collector, type Jaeger } from '../support/backends.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { closedPort } from '../support/ports.ts';
import { startTracedApi } from '../support/process.ts';

/** Faults between the API and Jaeger, with every part real: nothing the contract promises is lost. */

let database: TestDatabase;
let jaeger: Jaeger;
const stoppers: Array<() => Promise<void>> = [];

beforeAll(async () => {
  database = await createTestDatabase();
  await database.db('users').insert({ name: 'Alice', email: 'alice@example.com' });
  jaeger = await startJaeger();
});
afterAll(async () => {
  for (const stop of stoppers.reverse()) await stop();
  await jaeger.stop();
  await database.drop();
});

async function startApi(collector: Collector, service: string): Promise<string> {
  const { api, base } = await startTracedApi({ databaseUrl: database.url, otlpEndpoint: collector.otlpGrpcEndpoint, service });
  stoppers.push(() => api.stop());
  return base;
}

/**
 * Waits until Jaeger holds `count` complete traces of GET /users/:id for the service: all three
 * spans, the server span, db.query.find and db.relationship.load.
 */
async function tracesInJaeger(service: string, count: number, timeoutMs = 45_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const traces = await jaegerTraces(jaeger.queryUrl, service, 'GET /users/:id');
    const complete = traces.filter((t) => t.length === 3).length;
    if (complete >= count || Date.now() > deadline) return complete;
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('fan-out isolation', () => {
  it('with the Grafana Cloud destination unreachable, Jaeger still receives every span', async () => {
    const collector = await startCollector(['jaeger', 'grafanaCloud'], {
      JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint,
      GRAFANA_CLOUD_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
      GRAFANA_CLOUD_INSTANCE_ID: '1',
      GRAFANA_CLOUD_API_TOKEN: 'x',
    });
    stoppers.push(() => collector.stop());
    const base = await startApi(collector, 'tracebridge-fanout');
    for (let i = 0; i < 20; i++) expect((await fetch(`${base}/users/1`)).status).toBe(200);
    expect(await tracesInJaeger('tracebridge-fanout', 20)).toBe(20);
  }, 60_000);
});

describe('collector restart mid-traffic', () => {
  it('no span is lost: the API buffers while the collector is down and delivers after', async () => {
    const collector = await startCollector(['jaeger'], { JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint });
    stoppers.push(() => collector.stop());
    const base = await startApi(collector, 'tracebridge-restart');
    let sent = 0;
    const burst = async (n: number) => {
      for (let i = 0; i < n; i++) {
        expect((await fetch(`${base}/users/1`)).status).toBe(200);
        sent++;
      }
    };
    await burst(10);
    await collector.stop();
    await burst(10); // the collector is down: requests must not notice
    await new Promise((r) => setTimeout(r, 3000));
    await collector.start();
    await burst(10);
    expect(await tracesInJaeger('tracebridge-restart', sent)).toBe(sent);
  }, 90_000);
});
