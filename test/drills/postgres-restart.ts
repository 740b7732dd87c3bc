import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDb } from '../../api/src/db/knex.ts';
import { migrateLatest } from '../../api/src/db/migrations/index.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../api/src/dev/embedded-postgres.ts';
import { testPool } from '../support/config.ts';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
import { freePort } from '../support/ports.ts';
import { startTracedApi } from '../support/process.ts';
import { ms, now, startLoad, statsOf, statusText } from './support/load.ts';
import { check, round, timedDrill, type DrillOptions, type DrillResult } from './support/result.ts';
import { poll, scrape, seed, sleep, total } from './support/stack.ts';

/**
 * Drill 2: PostgreSQL stops under steady load and starts again. While it is down every request
 * answers 503 + Retry-After within the acquire timeout (nothing hangs), /readyz goes 503 and
 * back, the service recovers within 5 s of the database returning, and at idle the pool holds
 * no connection in use. The server is the drill's own (a real PostgreSQL in a temporary directory).
 */

const ACQUIRE_TIMEOUT_MS = 2000;

export async function postgresRestart(options: DrillOptions & { ratePerS?: number }): Promise<DrillResult> {
  const rate = options.ratePerS ?? 40;
  const downS = Math.max(2, Math.round(options.durationS / 3));
  const steadyS = Math.max(2, Math.round(options.durationS / 3));
  const log = options.log ?? (() => undefined);

  return timedDrill('postgres restart', `down ${downS} s between ${steadyS} s of steady load, ${rate} req/s`, async (figures, checks, defer) => {
    const baseDir = await mkdtemp(join(tmpdir(), 'tracebridge-drill-pg-'));
    defer(() => rm(baseDir, { recursive: true, force: true }));
    const port = await freePort();
    const startPg = () => startEmbeddedPostgres({ baseDir, port, database: 'app', persistent: true });
    let server: EmbeddedDatabase | undefined = await startPg();
    defer(() => server?.stop());
    const url = server.url;
    const setup = createDb(url, testPool);
    await migrateLatest(setup);
    const ids = await seed(setup, 20, 2);
    await setup.destroy();

    const receiver = await startOtlpReceiver();
    defer(() => receiver.close());
    const { api, base, metrics } = await startTracedApi({
      databaseUrl: url,
      otlpEndpoint: receiver.endpoint,
      service: 'drill-postgres-restart',
      env: { DB_POOL_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS), RETRY_AFTER_SECONDS: '1' },
    });
    defer(() => api.stop());

    const readiness: { t: number; status: number }[] = [];
    const readyz = setInterval(() => {
      void fetch(`${base}/readyz`).then(
        (r) => readiness.push({ t: now(), status: r.status }),
        () => readiness.push({ t: now(), status: 0 }),
      );
    }, 100);
    defer(() => clearInterval(readyz));

    const load = startLoad({ base, ratePerS: rate, path: (i) => `/users/${ids[i % ids.length]!}` });
    const t0 = now();
    await sleep(steadyS * 1000);
    log(`postgres: stopping for ${downS} s`);
    const down = now();
    await server.stop();
    server = undefined;
    const stopped = now();
    await sleep(downS * 1000);
    const starting = now();
    server = await startPg();
    const up = now();
    log(`postgres: back after ${round((up - down) / 1000)} s`);
    await sleep(steadyS * 1000);
    const records = await load.stop();
    clearInterval(readyz);
    // Idle: nothing in flight. The pool must hold no connection in use, and no request waiting.
    await sleep(500);
    const idle = await poll(async () => {
      const s = await scrape(metrics);
      return total(s, 'db_client_connection_count', { db_client_connection_state: 'used' }) === 0 ? s : undefined;
    }, 5000);
    const samples = idle ?? (await scrape(metrics));
    const used = total(samples, 'db_client_connection_count', { db_client_connection_state: 'used' });
    const idleCount = total(samples, 'db_client_connection_count', { db_client_connection_state: 'idle' });
    const pending = total(samples, 'db_client_connection_pending_requests');
    const limit = total(samples, 'db_client_connection_limit');
    // Server-side backends of the API; a connection the pool has just discarded takes a moment
    // to end, so this is polled for 5 s: a leaked one stays.
    const admin = createDb(url, testPool);
    let backends = -1;
    try {
      await poll(async () => {
        const { rows } = await admin.raw<{ rows: { n: string }[] }>(
          "SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'tracebridge-api'",
        );
        backends = Number(rows[0]?.n ?? -1);
        return backends <= limit ? true : undefined;
      }, 5000);
    } finally {
      await admin.destroy();
    }

    const before = statsOf(records, t0, down);
    const outage = statsOf(records, stopped, starting);
    const all = statsOf(records);
    const notOk = records.filter((r) => r.status !== 200);
    const unexpected = notOk.filter((r) => !(r.status === 503 && r.retryAfter === '1'));
    const lastFailure = Math.max(up, ...notOk.map((r) => r.end));
    const recoveryMs = lastFailure - up;
    const firstOkAfter = records.filter((r) => r.start >= up && r.status === 200).map((r) => r.end).sort((a, b) => a - b)[0];
    const readyDuring = readiness.filter((r) => r.t > stopped && r.t < starting).map((r) => r.status);
    const readyBefore = readiness.filter((r) => r.t < down).map((r) => r.status);
    const readyBack = readiness.find((r) => r.t > up && r.status === 200)?.t;
    const readyAfter = readiness.filter((r) => readyBack !== undefined && r.t >= readyBack).map((r) => r.status);
    const logLines = api.stdout().split('\n').filter((l) => l.includes('"status":500'));
    // What a logged 500 was (the error's type, code and message): the drill's failure names its cause.
    const describeLogged = (line: string): string => {
      try {
        const { error, msg } = JSON.parse(line) as { error?: { type?: string; code?: string; message?: string }; msg?: string };
        return `${error?.type ?? '?'}${error?.code ? ` ${error.code}` : ''}: ${error?.message ?? msg ?? ''}`;
      } catch {
        return line.slice(0, 200);
      }
    };

    Object.assign(figures, {
      requests: all.requests,
      statuses: statusText(all.statuses),
      'during the outage': `${statusText(outage.statuses)}, p50 ${ms(outage.p50)}, max ${ms(outage.max)}`,
      'before: p50 / max': `${ms(before.p50)} / ${ms(before.max)}`,
      '/readyz before / during / after': `${[...new Set(readyBefore)].join(',')} / ${[...new Set(readyDuring)].join(',')} / ${[...new Set(readyAfter)].join(',')}`,
      'recovered (last failure after the database returned)': ms(recoveryMs),
      'first 200 after the database returned': firstOkAfter === undefined ? 'none' : ms(firstOkAfter - up),
      '/readyz 200 again after': readyBack === undefined ? 'never' : ms(readyBack - up),
      'pool at idle: used / idle / pending / limit': `${used} / ${idleCount} / ${pending} / ${limit}`,
      'server backends of the API at idle': backends,
    });
    checks.push(
      check('every failed request is a 503 with Retry-After (no 500, no reset, no timeout)', unexpected.length === 0 && logLines.length === 0, `${statusText(statsOf(unexpected).statuses) || 'none'} unexpected; ${logLines.length} logged 500s${logLines.length ? `: ${logLines.slice(0, 3).map(describeLogged).join(' | ')}` : ''}`),
      check('the outage is visible: requests during it answer 503', (outage.statuses['503'] ?? 0) > 0, statusText(outage.statuses)),
      check(
        `no hang: every request answers within the acquire timeout (${ACQUIRE_TIMEOUT_MS} ms) + 500 ms`,
        all.max <= ACQUIRE_TIMEOUT_MS + 500,
        `slowest ${ms(all.max)}`,
      ),
      check(
        '/readyz goes 503 while the database is down and 200 again (for good) within 5 s of its return',
        readyBefore.every((s) => s === 200) &&
          readyDuring.includes(503) &&
          readyDuring.every((s) => s === 503) &&
          readyBack !== undefined &&
          readyBack - up <= 5000 &&
          readyAfter.every((s) => s === 200),
        `before ${[...new Set(readyBefore)].join(',')}, during ${[...new Set(readyDuring)].join(',')}, after ${[...new Set(readyAfter)].join(',')}`,
      ),
      check('recovers within 5 s of the database returning', recoveryMs <= 5000 && firstOkAfter !== undefined, `last failure ${ms(recoveryMs)} after`),
      check(
        'no connection leaked: at idle the pool has 0 in use, none pending, and the server no more backends than the limit',
        limit > 0 && used === 0 && pending === 0 && backends <= limit && idleCount <= limit,
        `used ${used}, pending ${pending}, idle ${idleCount}, backends ${backends}, limit ${limit}`,
      ),
    );
  });
}
