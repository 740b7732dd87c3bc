import { ValueType, type Attributes, type BatchObservableResult, type Meter } from '@opentelemetry/api';
import type { Knex } from 'knex';

/**
 * Connection-pool metrics for Knex, after the OpenTelemetry semantic conventions "Database client
 * connection pool metrics" (development status). @opentelemetry/instrumentation-pg only observes
 * pg.Pool, but Knex pools its pg clients with tarn, so without this module the pool that decides
 * whether a request waits, times out or gets a 503 would be invisible.
 *
 * The pool size is `db.client.connection.limit`, the current name (semantic-conventions 1.45
 * deprecates `db.client.connection.max` in its favour).
 */
export const POOL_METRIC = {
  count: 'db.client.connection.count',
  idleMax: 'db.client.connection.idle.max',
  idleMin: 'db.client.connection.idle.min',
  limit: 'db.client.connection.limit',
  pendingRequests: 'db.client.connection.pending_requests',
  timeouts: 'db.client.connection.timeouts',
  createTime: 'db.client.connection.create_time',
  waitTime: 'db.client.connection.wait_time',
  useTime: 'db.client.connection.use_time',
} as const;

export const ATTR_POOL_NAME = 'db.client.connection.pool.name';
export const ATTR_CONNECTION_STATE = 'db.client.connection.state';

/**
 * A warm pool hands out a connection in well under a millisecond, a saturated one makes callers
 * wait up to the acquire timeout (seconds), and connecting costs a few milliseconds locally and
 * tens across a network: the boundaries cover 0.5 ms to 10 s with about three per decade.
 */
export const POOL_TIME_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface PoolMetricsOptions {
  /** `db.client.connection.pool.name`; by default `<host>:<port>/<database>` of the connection. */
  poolName?: string;
}

export interface PoolObservation {
  /** Removes the callbacks and event listeners; idempotent. Call it before or after `db.destroy()`. */
  stop(): void;
}

type Listener = (first: unknown, second: unknown) => void;

/** The part of a tarn Pool this module reads. tarn declares min and max protected; they are plain fields. */
interface TarnPool {
  readonly min: number;
  readonly max: number;
  numUsed(): number;
  numFree(): number;
  numPendingAcquires(): number;
  on(event: string, listener: Listener): void;
  removeListener(event: string, listener: Listener): void;
}

/** Knex's Client as far as this module relies on it (typed `any` by Knex). */
interface KnexClient {
  pool?: unknown;
  connectionSettings?: unknown;
  config?: { client?: unknown };
}

// A pool given to Knex through `connectionPool` may be a wrapped pg.Pool without tarn's events
// and counters; such a pool is left unobserved rather than misreported.
function asTarnPool(pool: unknown): TarnPool | undefined {
  if (typeof pool !== 'object' || pool === null) return undefined;
  const p = pool as Partial<Record<keyof TarnPool, unknown>>;
  const fits =
    typeof p.numUsed === 'function' &&
    typeof p.numFree === 'function' &&
    typeof p.numPendingAcquires === 'function' &&
    typeof p.on === 'function' &&
    typeof p.removeListener === 'function' &&
    typeof p.min === 'number' &&
    typeof p.max === 'number';
  return fits ? (pool as TarnPool) : undefined;
}

// tarn's TimeoutError sets no `name`, and importing the class would make tarn (a dependency of
// Knex, not of this project) a direct dependency; its class name identifies it just as well.
const isTimeout = (error: unknown): boolean => error instanceof Error && error.constructor.name === 'TimeoutError';

const text = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : typeof value === 'number' ? String(value) : undefined;

/**
 * `<host>:<port>/<database>`, the form the conventions suggest when the pool has no name of its
 * own. Only those three parts are read, so user and password never reach a label. As in pg, a
 * connection string wins over separate fields.
 */
export function poolNameOf(db: Knex): string {
  const client = db.client as KnexClient;
  const settings = client.connectionSettings;
  const fields: Record<string, unknown> =
    typeof settings === 'string' ? { connectionString: settings } : typeof settings === 'object' && settings !== null ? { ...settings } : {};
  let host = text(fields.host);
  let port = text(fields.port);
  let database = text(fields.database);
  const connectionString = text(fields.connectionString);
  if (connectionString !== undefined) {
    try {
      const url = new URL(connectionString);
      // A Unix socket is given as ?host=/path because a URL host cannot hold a path.
      host = text(url.hostname) ?? text(url.searchParams.get('host')) ?? host;
      port = text(url.port) ?? port;
      database = text(decodeURIComponent(url.pathname.slice(1))) ?? database;
    } catch {
      // Not a URL (pg also accepts "socket:" and key=value forms): keep the separate fields.
    }
  }
  if (host === undefined && database === undefined) return text(client.config?.client) ?? 'knex';
  const address = `${host ?? 'localhost'}:${port ?? '5432'}`;
  return database === undefined ? address : `${address}/${database}`;
}

/**
 * Records the pool metrics of `db` on `meter` until `stop()`.
 *
 * The gauges are read from the pool at collection time. The three timing histograms come from
 * tarn's events: create = createRequest → createSuccess, wait = acquireRequest → acquireSuccess
 * or acquireFail, use = acquireSuccess → release. Knex may replace its pool (`destroy()` then
 * `initialize()`): a destroyed pool is dropped when tarn reports it destroyed, and a new pool is
 * picked up at the next collection, so timings of the new pool count from then on. While Knex
 * has no pool nothing is observed; the SDK (3.0, cumulative) keeps exporting the last values.
 */
export function observePool(db: Knex, meter: Meter, options: PoolMetricsOptions = {}): PoolObservation {
  const client = db.client as KnexClient;
  // Attribute objects are built once: every event reuses them.
  const poolAttributes: Attributes = { [ATTR_POOL_NAME]: options.poolName ?? poolNameOf(db) };
  const idleAttributes: Attributes = { ...poolAttributes, [ATTR_CONNECTION_STATE]: 'idle' };
  const usedAttributes: Attributes = { ...poolAttributes, [ATTR_CONNECTION_STATE]: 'used' };

  const connections = { unit: '{connection}', valueType: ValueType.INT };
  const count = meter.createObservableUpDownCounter(POOL_METRIC.count, {
    ...connections,
    description: 'The number of connections that are currently in state described by the `state` attribute.',
  });
  const idleMax = meter.createObservableUpDownCounter(POOL_METRIC.idleMax, {
    ...connections,
    description: 'The maximum number of idle open connections allowed.',
  });
  const idleMin = meter.createObservableUpDownCounter(POOL_METRIC.idleMin, {
    ...connections,
    description: 'The minimum number of idle open connections allowed.',
  });
  const limit = meter.createObservableUpDownCounter(POOL_METRIC.limit, {
    ...connections,
    description: 'The maximum number of open connections allowed.',
  });
  const pending = meter.createObservableUpDownCounter(POOL_METRIC.pendingRequests, {
    unit: '{request}',
    valueType: ValueType.INT,
    description: 'The number of current pending requests for an open connection.',
  });
  const timeouts = meter.createCounter(POOL_METRIC.timeouts, {
    unit: '{timeout}',
    valueType: ValueType.INT,
    description: 'The number of connection timeouts that have occurred trying to obtain a connection from the pool.',
  });
  const seconds = { unit: 's', advice: { explicitBucketBoundaries: POOL_TIME_BUCKETS_S } };
  const createTime = meter.createHistogram(POOL_METRIC.createTime, {
    ...seconds,
    description: 'The time it took to create a new connection.',
  });
  const waitTime = meter.createHistogram(POOL_METRIC.waitTime, {
    ...seconds,
    description: 'The time it took to obtain an open connection from the pool.',
  });
  const useTime = meter.createHistogram(POOL_METRIC.useTime, {
    ...seconds,
    description: 'The time between borrowing a connection and returning it to the pool.',
  });

  // Start times in ms by tarn event id (unique per pool, cleared with the pool) and, for use
  // time, by connection object: a connection lost while borrowed is not kept alive by its entry.
  const createStarts = new Map<unknown, number>();
  const waitStarts = new Map<unknown, number>();
  const useStarts = new WeakMap<object, number>();
  const retired = new WeakSet<TarnPool>();
  let pool: TarnPool | undefined;
  let stopped = false;

  const recordSince = (starts: Map<unknown, number>, eventId: unknown, now: number, histogram: typeof waitTime) => {
    const start = starts.get(eventId);
    if (start === undefined) return;
    starts.delete(eventId);
    histogram.record((now - start) / 1000, poolAttributes);
  };

  const listeners: [string, Listener][] = [
    ['createRequest', (eventId) => createStarts.set(eventId, performance.now())],
    ['createSuccess', (eventId) => recordSince(createStarts, eventId, performance.now(), createTime)],
    // A failed connect is no connection creation time; its cost shows in the wait of the request.
    ['createFail', (eventId) => createStarts.delete(eventId)],
    ['acquireRequest', (eventId) => waitStarts.set(eventId, performance.now())],
    [
      'acquireSuccess',
      (eventId, connection) => {
        const now = performance.now();
        recordSince(waitStarts, eventId, now, waitTime);
        if (typeof connection === 'object' && connection !== null) useStarts.set(connection, now);
      },
    ],
    [
      'acquireFail',
      (eventId, error) => {
        recordSince(waitStarts, eventId, performance.now(), waitTime);
        if (isTimeout(error)) timeouts.add(1, poolAttributes);
      },
    ],
    [
      'release',
      (connection) => {
        if (typeof connection !== 'object' || connection === null) return;
        const start = useStarts.get(connection);
        if (start === undefined) return;
        useStarts.delete(connection);
        useTime.record((performance.now() - start) / 1000, poolAttributes);
      },
    ],
    // Not poolDestroyRequest: a destroying pool still releases the connections it waits for.
    [
      'poolDestroySuccess',
      () => {
        if (pool) retired.add(pool);
        detach();
      },
    ],
  ];

  function detach(): void {
    if (pool) for (const [event, listener] of listeners) pool.removeListener(event, listener);
    pool = undefined;
    createStarts.clear();
    waitStarts.clear();
  }

  /** The pool Knex uses now, listened to; undefined while Knex has none (or none of tarn's). */
  function follow(): TarnPool | undefined {
    if (stopped) return undefined;
    const candidate = asTarnPool(client.pool);
    const current = candidate && !retired.has(candidate) ? candidate : undefined;
    if (current !== pool) {
      detach();
      if (current) for (const [event, listener] of listeners) current.on(event, listener);
      pool = current;
    }
    return current;
  }

  const observables = [count, idleMax, idleMin, limit, pending];
  const observe = (result: BatchObservableResult) => {
    const current = follow();
    if (!current) return;
    result.observe(count, current.numUsed(), usedAttributes);
    result.observe(count, current.numFree(), idleAttributes);
    // tarn keeps up to max connections idle until the idle timeout reaps them down to min.
    result.observe(idleMax, current.max, poolAttributes);
    result.observe(idleMin, current.min, poolAttributes);
    result.observe(limit, current.max, poolAttributes);
    result.observe(pending, current.numPendingAcquires(), poolAttributes);
  };
  meter.addBatchObservableCallback(observe, observables);
  follow();

  return {
    stop() {
      if (stopped) return;
      stopped = true;
      meter.removeBatchObservableCallback(observe, observables);
      detach();
    },
  };
}
