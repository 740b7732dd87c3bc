import autocannon from 'autocannon';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
import { startTracedApi } from '../support/process.ts';
import { ms, now, percentile, statusText } from './support/load.ts';
import { check, round, timedDrill, type DrillOptions, type DrillResult } from './support/result.ts';
import { createDatabase, scrape, seed, sleep, total } from './support/stack.ts';

/**
 * Drill 3: slow queries saturate the pool. A table lock holds every GET /users/:id at its posts
 * query, so the pool's connections stay in use and the next requests wait for one: they must
 * answer 503 + Retry-After once the acquire timeout passes (fast, never a hang), each counted in
 * db.client.connection.timeouts, and the service must recover the moment the queries speed up.
 * The load is autocannon at a fixed overall rate.
 */

const POOL_MAX = 4;
const ACQUIRE_TIMEOUT_MS = 500;

interface Response {
  end: number;
  start: number;
  status: number;
}

export async function poolExhaustion(options: DrillOptions & { ratePerS?: number }): Promise<DrillResult> {
  const rate = options.ratePerS ?? 100;
  const phaseS = Math.max(2, Math.round(options.durationS / 3));
  const log = options.log ?? (() => undefined);

  return timedDrill('pool exhaustion', `pool of ${POOL_MAX} saturated for ${phaseS} s between ${phaseS} s of steady load, ${rate} req/s (autocannon)`, async (figures, checks, defer) => {
    const database = await createDatabase(options.adminDatabaseUrl);
    defer(() => database.drop());
    const ids = await seed(database.db, 20, 2);
    const receiver = await startOtlpReceiver();
    defer(() => receiver.close());
    const { api, base, metrics } = await startTracedApi({
      databaseUrl: database.url,
      otlpEndpoint: receiver.endpoint,
      service: 'drill-pool-exhaustion',
      env: {
        DB_POOL_MAX: String(POOL_MAX),
        DB_POOL_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_TIMEOUT_MS),
        // Longer than the lock: the held queries are slow, not cancelled.
        DB_STATEMENT_TIMEOUT_MS: String((phaseS + 30) * 1000),
        RETRY_AFTER_SECONDS: '1',
      },
    });
    defer(() => api.stop());
    const timeoutsBefore = total(await scrape(metrics), 'db_client_connection_timeouts_total');

    const responses: Response[] = [];
    let missingRetryAfter = 0;
    let errors = 0;
    let finish: (result: autocannon.Result) => void = () => undefined;
    let fail: (error: unknown) => void = () => undefined;
    const finished = new Promise<autocannon.Result>((resolve, reject) => {
      finish = resolve;
      fail = reject;
    });
    const instance = autocannon(
      {
        url: base,
        connections: 10,
        overallRate: rate,
        duration: phaseS * 3 + 1,
        // Longer than the lock: the held (slow) requests answer 200 once it is released.
        timeout: phaseS + 10,
        requests: ids.map((id) => ({
          method: 'GET' as const,
          path: `/users/${id}`,
          onResponse: (status: number, _body: string, _context: object, headers?: Record<string, unknown>) => {
            if (status === 503 && headers?.['retry-after'] !== '1') missingRetryAfter++;
          },
        })),
      },
      (error: unknown, result) => (error ? fail(error) : finish(result)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      const end = now();
      responses.push({ end, start: end - responseTime, status: statusCode });
    });
    instance.on('reqError', () => errors++);
    defer(() => instance.stop());

    await sleep(phaseS * 1000);
    log(`locking posts for ${phaseS} s: every GET /users/:id holds its connection`);
    const trx = await database.db.transaction();
    await trx.raw('LOCK TABLE posts IN ACCESS EXCLUSIVE MODE');
    const locked = now();
    await sleep(phaseS * 1000);
    await trx.commit();
    const released = now();
    log('released');
    const result = await finished;
    await sleep(300);
    const samples = await scrape(metrics);
    const timeouts = total(samples, 'db_client_connection_timeouts_total') - timeoutsBefore;
    const used = total(samples, 'db_client_connection_count', { db_client_connection_state: 'used' });

    const rejected = responses.filter((r) => r.status === 503);
    const rejectedLatency = rejected.map((r) => r.end - r.start).sort((a, b) => a - b);
    const other = responses.filter((r) => r.status !== 200 && r.status !== 503);
    const statuses: Record<string, number> = {};
    for (const r of responses) statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    const during = responses.filter((r) => r.start >= locked && r.start < released);
    const duringStatuses: Record<string, number> = {};
    for (const r of during) duringStatuses[r.status] = (duringStatuses[r.status] ?? 0) + 1;
    // Recovery: no request sent after the release fails, and 200s come back at once (the held
    // requests complete, the waiting ones get a connection).
    const failedAfter = responses.filter((r) => r.start >= released && r.status !== 200);
    const firstOkAfter = responses.filter((r) => r.end >= released && r.status === 200).sort((a, b) => a.end - b.end)[0];
    const beforeLatency = responses
      .filter((r) => r.end < locked && r.status === 200)
      .map((r) => r.end - r.start)
      .sort((a, b) => a - b);

    Object.assign(figures, {
      'responses (autocannon)': `${result.requests.total} (${statusText(statuses)}), ${errors} errors, ${result.timeouts} timeouts`,
      'while saturated': statusText(duringStatuses),
      '503 latency p50 / max': `${ms(percentile(rejectedLatency, 50))} / ${ms(rejectedLatency.at(-1) ?? 0)}`,
      'p50 before': ms(percentile(beforeLatency, 50)),
      'db.client.connection.timeouts (delta)': timeouts,
      'requests after the release: failed / first 200 after': `${failedAfter.length} / ${firstOkAfter ? ms(firstOkAfter.end - released) : 'none'}`,
      'pool used at the end': used,
    });
    checks.push(
      check('saturation answers 503s', rejected.length > 0, `${rejected.length} × 503 while saturated`),
      check('only 200s and 503s, no connection error or timeout', other.length === 0 && errors === 0, `${other.length} other statuses, ${errors} errors`),
      check('every 503 carries Retry-After', missingRetryAfter === 0, `${missingRetryAfter} without`),
      check(
        `503s are fast: within the acquire timeout (${ACQUIRE_TIMEOUT_MS} ms) + 250 ms`,
        (rejectedLatency.at(-1) ?? 0) <= ACQUIRE_TIMEOUT_MS + 250,
        `slowest 503 ${ms(rejectedLatency.at(-1) ?? 0)}`,
      ),
      check('db.client.connection.timeouts counts each one', timeouts === rejected.length, `${timeouts} counted, ${rejected.length} × 503`),
      check(
        'recovery is immediate: nothing sent after the release fails, 200s are back within 250 ms',
        failedAfter.length === 0 && firstOkAfter !== undefined && firstOkAfter.end - released <= 250,
        `${failedAfter.length} failed after; first 200 ${firstOkAfter ? ms(firstOkAfter.end - released) : 'never'} after`,
      ),
      check(
        'the pool drains: nothing in use at the end',
        used === 0 && samples.some((s) => s.name === 'db_client_connection_count'),
        `used ${used}`,
      ),
    );
    figures['length of the lock'] = `${round((released - locked) / 1000)} s`;
  });
}
