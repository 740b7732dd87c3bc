import { startCollector, startJaeger } from '../support/backends.ts';
import { startTracedApi } from '../support/process.ts';
import { ms, now, startLoad, statsOf, statusText } from './support/load.ts';
import { check, round, timedDrill, type DrillOptions, type DrillResult } from './support/result.ts';
import { completeInJaeger, createDatabase, seed, sleep } from './support/stack.ts';

/**
 * Drill 4: SIGTERM under load, as Kubernetes sends it. A table lock holds a few requests in
 * flight at the moment of the signal, so there is something to drain. No request sent before the
 * signal may fail; after it the API refuses new connections (a client retries elsewhere) but
 * never answers a request it accepted with an error; and every finished request's spans reach
 * Jaeger through the real collector before the process exits.
 */

const SERVICE = 'drill-sigterm';
const SPANS_PER_REQUEST = 3;

export async function sigtermUnderLoad(options: DrillOptions & { ratePerS?: number }): Promise<DrillResult> {
  const rate = options.ratePerS ?? 50;
  const log = options.log ?? (() => undefined);

  return timedDrill('SIGTERM under load', `${options.durationS} s of load, then SIGTERM with requests in flight, ${rate} req/s`, async (figures, checks, defer) => {
    const database = await createDatabase(options.adminDatabaseUrl);
    defer(() => database.drop());
    const ids = await seed(database.db, 20, 2);
    const jaeger = await startJaeger();
    defer(() => jaeger.stop());
    const collector = await startCollector(['jaeger'], { JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint });
    defer(() => collector.stop());
    const { api, base } = await startTracedApi({
      databaseUrl: database.url,
      otlpEndpoint: collector.otlpGrpcEndpoint,
      service: SERVICE,
      // The SDK's default batch delay: SIGTERM must flush what is still queued.
      env: { OTEL_BSP_SCHEDULE_DELAY: '5000', SHUTDOWN_TIMEOUT_MS: '10000' },
    });
    defer(() => api.stop());

    const load = startLoad({ base, ratePerS: rate, path: (i) => `/users/${ids[i % ids.length]!}` });
    await sleep(Math.max(1, options.durationS - 1) * 1000);
    // Slow queries for a moment: requests pile up at their posts query.
    const trx = await database.db.transaction();
    await trx.raw('LOCK TABLE posts IN ACCESS EXCLUSIVE MODE');
    await sleep(400);
    const inFlightAtSignal = load.inFlight;
    const signalled = now();
    log(`SIGTERM with ${inFlightAtSignal} requests in flight`);
    api.child.kill('SIGTERM');
    await sleep(300);
    await trx.commit();
    const exitCode = await api.exited;
    const exited = now();
    // The load goes on for a moment after the exit, as a load balancer's would.
    await sleep(500);
    const records = await load.stop();

    const before = records.filter((r) => r.start < signalled);
    const after = records.filter((r) => r.start >= signalled);
    const failedBefore = before.filter((r) => r.status !== 200);
    // After the signal: answered normally, or never accepted by the API: refused at connect, or
    // reset on a new connection (one the kernel queued as the listener closed; the API never saw
    // it). A reset on a kept-alive connection, or a 5xx, is a request the API dropped.
    const neverAccepted = (r: (typeof records)[number]) => r.error === 'ECONNREFUSED' || (r.error === 'ECONNRESET' && r.reused === false);
    const badAfter = after.filter((r) => r.status !== 200 && !neverAccepted(r));
    const finished = records.filter((r) => r.status === 200);
    log(`waiting for ${finished.length} traces in Jaeger`);
    const complete = await completeInJaeger(jaeger.queryUrl, SERVICE, finished.map((r) => r.traceId), SPANS_PER_REQUEST, 30_000);
    const stdout = api.stdout();
    const clean = /"clean":true,"msg":"shutdown complete"/.test(stdout);

    Object.assign(figures, {
      'requests before / after the signal': `${before.length} / ${after.length}`,
      'in flight at the signal': inFlightAtSignal,
      'before: statuses': statusText(statsOf(before).statuses),
      'after: statuses': statusText(statsOf(after).statuses),
      'after: resets on new / kept-alive connections': `${after.filter((r) => r.error === 'ECONNRESET' && r.reused === false).length} / ${after.filter((r) => r.error === 'ECONNRESET' && r.reused !== false).length}`,
      'exit code, clean shutdown, time to exit': `${String(exitCode)}, ${clean}, ${ms(exited - signalled)}`,
      'finished requests with their trace complete in Jaeger': `${complete}/${finished.length}`,
    });
    checks.push(
      check('requests were in flight at the signal', inFlightAtSignal > 0, `${inFlightAtSignal} in flight`),
      check('zero failed in-flight requests: every request sent before SIGTERM answers 200', failedBefore.length === 0, `${failedBefore.length} failed: ${statusText(statsOf(failedBefore).statuses) || 'none'}`),
      check(
        'after SIGTERM a request is served or never accepted (refused, or reset on a new connection); never reset on a kept-alive one, never a 5xx',
        badAfter.length === 0,
        `${badAfter.length} bad: ${statusText(statsOf(badAfter).statuses) || 'none'}`,
      ),
      check('the process exits 0 after a clean drain', exitCode === 0 && clean, `exit ${String(exitCode)}, clean ${clean}, after ${round((exited - signalled) / 1000)} s`),
      check("every finished request's spans arrive in Jaeger", complete === finished.length, `${complete}/${finished.length} traces complete`),
    );
  });
}
