import { setTimeout as sleep } from 'node:timers/promises';
import type { Meter } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import knexFactory from 'knex';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Config } from '../../api/src/config.ts';
import { createDb, type Db } from '../../api/src/db/knex.ts';
import { observePool, poolNameOf, type PoolObservation } from '../../api/src/telemetry/pool-metrics.ts';
import { testPool } from '../support/config.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { parseFamilies, parsePrometheus, sampleValue, type Family, type Sample } from '../support/prometheus.ts';

// The names as a Prometheus user sees them: dots become underscores, a monotonic counter gets
// `_total`, a histogram `_bucket`/`_sum`/`_count`. This exporter adds no unit suffix (no `_seconds`).
const COUNT = 'db_client_connection_count';
const IDLE_MAX = 'db_client_connection_idle_max';
const IDLE_MIN = 'db_client_connection_idle_min';
const LIMIT = 'db_client_connection_limit';
const PENDING = 'db_client_connection_pending_requests';
const TIMEOUTS = 'db_client_connection_timeouts_total';
const CREATE_TIME = 'db_client_connection_create_time';
const WAIT_TIME = 'db_client_connection_wait_time';
const USE_TIME = 'db_client_connection_use_time';

interface Scrape {
  text: string;
  samples: Sample[];
  families: Map<string, Family>;
  /** The sample of this pool; undefined when the series is absent. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  used(): number | undefined;
  idle(): number | undefined;
  /** Histogram observation count (0 when nothing was recorded yet). */
  observations(histogram: string): number;
  /** Observations at or below `le` seconds. */
  atMost(histogram: string, le: string): number;
}

interface Harness {
  db: Db;
  meter: Meter;
  observation: PoolObservation;
  poolName: string;
  scrape(): Promise<Scrape>;
  /** Scrapes until `ready` holds (bounded), for state that settles a few ticks after a promise. */
  until(ready: (scrape: Scrape) => boolean, what: string): Promise<Scrape>;
}

let database: TestDatabase;
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.drop());
// Every cleanup runs (observation, then Knex, then the MeterProvider) even when one fails.
afterEach(async () => {
  const failures: unknown[] = [];
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw new AggregateError(failures, 'cleanup failed');
});

/** `<host>:<port>/<database>` of the test database, written out independently of the module. */
function expectedPoolName(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}/${u.pathname.slice(1)}`;
}

async function harness(pool: Partial<Config['pool']> = {}, options: { poolName?: string } = {}): Promise<Harness> {
  const port = await freePort();
  const exporter = new PrometheusExporter({ host: '127.0.0.1', port, preventServerStart: true });
  const provider = new MeterProvider({ readers: [exporter] });
  cleanups.push(() => provider.shutdown());
  await exporter.startServer();
  const db = createDb(database.url, { ...testPool, max: 2, acquireTimeoutMs: 300, ...pool }, {
    applicationName: 'tracebridge-pool-metrics-test',
  });
  cleanups.push(() => db.destroy());
  const meter = provider.getMeter('tracebridge-test');
  const observation = observePool(db, meter, options);
  cleanups.push(() => Promise.resolve(observation.stop()));
  const poolName = options.poolName ?? expectedPoolName(database.url);
  const ofPool = { db_client_connection_pool_name: poolName };

  const scrape = async (): Promise<Scrape> => {
    const response = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    const samples = parsePrometheus(text);
    const value = (name: string, labels: Record<string, string> = {}) => sampleValue(samples, name, { ...ofPool, ...labels });
    return {
      text,
      samples,
      families: parseFamilies(text),
      value,
      used: () => value(COUNT, { db_client_connection_state: 'used' }),
      idle: () => value(COUNT, { db_client_connection_state: 'idle' }),
      observations: (histogram) => value(`${histogram}_count`) ?? 0,
      atMost: (histogram, le) => value(`${histogram}_bucket`, { le }) ?? 0,
    };
  };
  const until = async (ready: (s: Scrape) => boolean, what: string): Promise<Scrape> => {
    const deadline = performance.now() + 10_000;
    for (;;) {
      const s = await scrape();
      if (ready(s)) return s;
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}; last scrape:\n${s.text}`);
      await sleep(20);
    }
  };
  return { db, meter, observation, poolName, scrape, until };
}

describe('pool metrics over Prometheus', () => {
  it('reports an empty pool, then the idle connection and its timings after a query', async () => {
    const h = await harness();

    const empty = await h.scrape();
    expect(empty.used()).toBe(0);
    expect(empty.idle()).toBe(0);
    expect(empty.value(LIMIT)).toBe(2);
    expect(empty.value(IDLE_MAX)).toBe(2);
    expect(empty.value(IDLE_MIN)).toBe(0);
    expect(empty.value(PENDING)).toBe(0);
    // Instruments that never recorded have no series yet.
    expect(empty.value(`${CREATE_TIME}_count`)).toBeUndefined();
    expect(empty.value(TIMEOUTS)).toBeUndefined();

    await h.db.raw('select 1');
    const idle = await h.until((s) => s.observations(USE_TIME) === 1, 'the release of the connection');
    expect(idle.used()).toBe(0);
    expect(idle.idle()).toBe(1);
    expect(idle.value(LIMIT)).toBe(2);
    expect(idle.value(PENDING)).toBe(0);
    // min 0: the first query had to connect, exactly once.
    expect(idle.observations(CREATE_TIME)).toBe(1);
    expect(idle.value(`${CREATE_TIME}_sum`)).toBeGreaterThan(0);
    expect(idle.observations(WAIT_TIME)).toBe(1);
    expect(idle.atMost(WAIT_TIME, '+Inf')).toBe(1);

    // The semantic-convention units and the instrument kinds survive into the exposition.
    expect(idle.families.get(COUNT)).toEqual({ type: 'gauge', unit: '{connection}' });
    expect(idle.families.get(LIMIT)).toEqual({ type: 'gauge', unit: '{connection}' });
    expect(idle.families.get(PENDING)).toEqual({ type: 'gauge', unit: '{request}' });
    for (const histogram of [CREATE_TIME, WAIT_TIME, USE_TIME]) {
      expect(idle.families.get(histogram)).toEqual({ type: 'histogram', unit: 's' });
    }
    // Explicit pool-sized buckets, not the SDK's default 0..10000 ones.
    const boundaries = idle.samples.filter((s) => s.name === `${WAIT_TIME}_bucket`).map((s) => s.labels.le);
    expect(boundaries).toEqual(['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);

    // The pool is named after host, port and database only.
    const password = decodeURIComponent(new URL(database.url).password);
    if (password) expect(idle.text).not.toContain(password);
    expect(poolNameOf(h.db)).toBe(h.poolName);
  });

  it('reports used connections, waiting requests and wait/use times under load', async () => {
    // A long acquire timeout: the queued request must outlast any scheduling delay of a loaded machine.
    const h = await harness({ acquireTimeoutMs: 10_000 });

    const first = await h.db.transaction();
    const second = await h.db.transaction();
    const third = h.db.raw('select 1').then(() => 'done');
    const saturated = await h.until((s) => s.value(PENDING) === 1, 'the third request to queue');
    expect(saturated.used()).toBe(2);
    expect(saturated.idle()).toBe(0);
    expect(saturated.observations(WAIT_TIME)).toBe(2);
    expect(saturated.observations(USE_TIME)).toBe(0);

    // Held this long, the queued request's wait and both transactions' use land above 0.1 s
    // however slow the machine is (load only makes them longer).
    await sleep(200);
    await first.commit();
    expect(await third).toBe('done');
    await second.commit();

    const settled = await h.until((s) => s.observations(USE_TIME) === 3 && s.used() === 0, 'all three releases');
    expect(settled.idle()).toBe(2);
    expect(settled.value(PENDING)).toBe(0);
    expect(settled.observations(WAIT_TIME)).toBe(3);
    expect(settled.atMost(WAIT_TIME, '0.1')).toBeLessThanOrEqual(2);
    expect(settled.value(`${WAIT_TIME}_sum`)).toBeGreaterThanOrEqual(0.15);
    expect(settled.atMost(USE_TIME, '0.1')).toBeLessThanOrEqual(1);
    expect(settled.value(`${USE_TIME}_sum`)).toBeGreaterThanOrEqual(0.3);
    // Two connections were opened; the third request reused one.
    expect(settled.observations(CREATE_TIME)).toBe(2);
    expect(settled.value(TIMEOUTS)).toBeUndefined();
  });

  it('counts each acquire that times out, exactly, and recovers', async () => {
    const h = await harness({ acquireTimeoutMs: 300 });
    const held = [await h.db.transaction(), await h.db.transaction()];

    const attempts = await Promise.allSettled([1, 2, 3].map(() => h.db.raw('select 1').then(() => 'done')));
    for (const attempt of attempts) {
      expect(attempt.status).toBe('rejected');
      if (attempt.status === 'rejected') expect((attempt.reason as Error).name).toBe('KnexTimeoutError');
    }

    const timedOut = await h.scrape();
    expect(timedOut.value(TIMEOUTS)).toBe(3);
    expect(timedOut.families.get(TIMEOUTS)).toEqual({ type: 'counter', unit: '{timeout}' });
    expect(timedOut.used()).toBe(2);
    expect(timedOut.value(PENDING)).toBe(0);
    // A failed acquire's wait is recorded too, and lasted the 300 ms acquire timeout.
    expect(timedOut.observations(WAIT_TIME)).toBe(5);
    expect(timedOut.atMost(WAIT_TIME, '0.25')).toBeLessThanOrEqual(2);

    for (const trx of held) await trx.rollback();
    await h.db.raw('select 1');
    const recovered = await h.until((s) => s.used() === 0 && s.observations(USE_TIME) === 3, 'the pool to drain');
    expect(recovered.idle()).toBe(2);
    expect(recovered.value(PENDING)).toBe(0);
    expect(recovered.value(TIMEOUTS)).toBe(3);
    expect(recovered.observations(WAIT_TIME)).toBe(6);
  });

  it('stops observing on stop(), and the pool still closes cleanly', async () => {
    const h = await harness();
    await h.db.raw('select 1');
    const before = await h.until((s) => s.observations(USE_TIME) === 1, 'the release of the connection');

    h.observation.stop();
    h.observation.stop(); // idempotent

    const pool = (h.db.client as { pool: { numUsed(): number } }).pool;
    const numUsed = vi.spyOn(pool, 'numUsed');
    const trx = await h.db.transaction();
    await trx.raw('select 1');
    await trx.commit();
    const held = await h.db.transaction(); // one connection used (and a second one created)

    const after = await h.scrape();
    expect(numUsed).not.toHaveBeenCalled();
    // The SDK keeps exporting the last observed value of an unobserved series (used 0 here);
    // either that or no series is fine, the current 1 is not.
    expect(after.used()).not.toBe(1);
    for (const histogram of [CREATE_TIME, WAIT_TIME, USE_TIME]) {
      expect(after.observations(histogram)).toBe(before.observations(histogram));
    }

    await held.rollback();
    await expect(h.db.destroy()).resolves.toBeUndefined();
    expect((await h.scrape()).used()).not.toBe(1);
  });

  it('survives db.destroy() and follows the pool of db.initialize()', async () => {
    const h = await harness();
    await h.db.raw('select 1');
    await h.until((s) => s.observations(USE_TIME) === 1, 'the release of the connection');

    await h.db.destroy();
    const destroyed = await h.scrape();
    expect(destroyed.observations(WAIT_TIME)).toBe(1);

    h.db.initialize();
    const fresh = await h.scrape(); // the collection adopts the new pool
    expect(fresh.used()).toBe(0);
    expect(fresh.idle()).toBe(0);

    await h.db.raw('select 1');
    const reused = await h.until((s) => s.observations(USE_TIME) === 2, 'the release on the new pool');
    expect(reused.used()).toBe(0);
    expect(reused.idle()).toBe(1);
    expect(reused.observations(WAIT_TIME)).toBe(2);
    expect(reused.observations(CREATE_TIME)).toBe(2);
  });

  it('names the pool from host, port and database only, or as told', async () => {
    const fromUrl = createDb('postgresql://app_user:s3cret@db.example.internal:6432/orders?sslmode=disable', testPool);
    const ipv6 = createDb('postgresql://app_user:s3cret@[::1]/orders', testPool);
    const socket = createDb('postgresql:///orders?host=/var/run/postgresql', testPool);
    const fromFields = knexFactory({
      client: 'pg',
      connection: { host: 'db.example.internal', database: 'orders', user: 'app_user', password: 's3cret' },
    });
    try {
      expect(poolNameOf(fromUrl)).toBe('db.example.internal:6432/orders');
      expect(poolNameOf(ipv6)).toBe('[::1]:5432/orders');
      expect(poolNameOf(socket)).toBe('/var/run/postgresql:5432/orders');
      expect(poolNameOf(fromFields)).toBe('db.example.internal:5432/orders');
    } finally {
      await Promise.all([fromUrl, ipv6, socket, fromFields].map((db) => db.destroy()));
    }

    const h = await harness({}, { poolName: 'primary' });
    await h.db.raw('select 1');
    const named = await h.until((s) => s.observations(USE_TIME) === 1, 'the release of the connection');
    expect(named.idle()).toBe(1);
    expect(named.value(LIMIT)).toBe(2);
  });

  it('observes nothing, without failing, for a Knex that has no pool', async () => {
    const h = await harness();
    const poolless = knexFactory({ client: 'pg' }); // no connection: Knex creates no pool
    const observation = observePool(poolless, h.meter, { poolName: 'poolless' });
    try {
      const s = await h.scrape();
      expect(s.samples.filter((sample) => sample.labels.db_client_connection_pool_name === 'poolless')).toEqual([]);
      expect(s.value(LIMIT)).toBe(2); // the other pool on the same meter is unaffected
    } finally {
      observation.stop();
      await poolless.destroy();
    }
  });
});
