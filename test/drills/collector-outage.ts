import { startCollector, startJaeger } from '../support/backends.ts';
import { startTracedApi } from '../support/process.ts';
import { check, round, timedDrill, type DrillOptions, type DrillResult } from './support/result.ts';
import { ms, now, startLoad, statsOf, type LoadStats } from './support/load.ts';
import { completeInJaeger, createDatabase, poll, sampleRss, scrape, seed, sleep, total } from './support/stack.ts';

/**
 * Drill 1: the collector stops under steady load, twice. The first outage is shorter than the
 * API's retry window (TRACEBRIDGE_EXPORT_MAX_RETRY_MS): every span of it must reach Jaeger. The
 * second is longer: spans are dropped, counted, and memory stays flat. Requests never notice.
 */

const SERVICE = 'drill-collector-outage';
/** GET /users/:id: SERVER, find, lazy posts load (each ORM span carries its SQL). */
const SPANS_PER_REQUEST = 3;

export interface CollectorOutageOptions extends DrillOptions {
  ratePerS?: number;
}

export async function collectorOutage(options: CollectorOutageOptions): Promise<DrillResult> {
  const rate = options.ratePerS ?? 40;
  // Phases scale with the length: a retry window W, a short outage of about W/2 (stopping and
  // starting the collector add 2-3 s to the time it sleeps), and a long one of 2 W.
  const windowS = Math.max(6, Math.round(options.durationS / 4));
  const baselineS = Math.max(2, Math.round(windowS / 4));
  const shortS = Math.max(1, windowS / 2 - 2);
  const longS = windowS * 2;
  const log = options.log ?? (() => undefined);

  return timedDrill('collector outage', `retry window ${windowS} s; outages of about ${round(shortS + 2)} s and ${round(longS)} s; ${rate} req/s`, async (figures, checks, defer) => {
    const database = await createDatabase(options.adminDatabaseUrl);
    defer(() => database.drop());
    const jaeger = await startJaeger();
    defer(() => jaeger.stop());
    const collector = await startCollector(['jaeger'], { JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint });
    defer(() => collector.stop());
    const { api, base, metrics } = await startTracedApi({
      databaseUrl: database.url,
      otlpEndpoint: collector.otlpGrpcEndpoint,
      service: SERVICE,
      env: { TRACEBRIDGE_EXPORT_MAX_RETRY_MS: String(windowS * 1000) },
    });
    defer(() => api.stop());
    const rss = sampleRss(api.child.pid!);
    defer(() => rss.stop());
    {
      const ids = await seed(database.db, 20, 2);
      // Warm up (JIT, pool) before measuring; these spans count too.
      const warmup = 20;
      for (let i = 0; i < warmup; i++) await fetch(`${base}/users/${ids[i % ids.length]!}`);

      const load = startLoad({ base, ratePerS: rate, path: (i) => `/users/${ids[i % ids.length]!}` });
      const t0 = now();
      await sleep(baselineS * 1000);
      log(`collector: stopping for ${shortS} s (shorter than the retry window)`);
      const a0 = now();
      await collector.stop();
      await sleep(shortS * 1000);
      await collector.start();
      // Down from the stop signal until it answers its health check again.
      const a1 = now();
      // The backlog goes out once the exporter's next retry finds the collector (its backoff is
      // at most 5 s, and gRPC's own reconnect backoff comes on top): wait for it, and time it.
      const drained = await poll(async () => (total(await scrape(metrics), 'tracebridge_export_buffer_size') === 0 ? now() : undefined), 30_000);
      const backlogS = drained === undefined ? Infinity : (drained - a1) / 1000;
      log(`backlog delivered ${round(backlogS)} s after the collector was back`);
      await sleep(baselineS * 1000);
      log(`collector: stopping for ${longS} s (longer than the retry window)`);
      const b0 = now();
      await collector.stop();
      // Buffered spans once the window has passed, and at the end: flat if the window bounds them.
      let bufferAfterWindow = 0;
      let bufferPeak = 0;
      const watch = setInterval(() => {
        void scrape(metrics).then((s) => {
          const size = total(s, 'tracebridge_export_buffer_size');
          bufferPeak = Math.max(bufferPeak, size);
          if (now() - b0 >= (windowS + 1) * 1000) bufferAfterWindow = Math.max(bufferAfterWindow, size);
        }, () => undefined);
      }, 250);
      await sleep(longS * 1000);
      clearInterval(watch);
      const bufferAtEnd = total(await scrape(metrics), 'tracebridge_export_buffer_size');
      await collector.start();
      const b1 = now();
      await sleep(baselineS * 1000);
      const records = await load.stop();
      const t1 = now();
      rss.stop();

      const okRequests = records.filter((r) => r.status === 200);
      const created = (okRequests.length + warmup) * SPANS_PER_REQUEST;
      // Everything is delivered or dropped within the exporter's backoff. An empty export buffer
      // alone is not the end: the last requests' spans may still sit in the SDK's batch processor.
      const settled = await poll(async () => {
        const s = await scrape(metrics);
        const accounted = total(s, 'tracebridge_export_spans_total');
        return total(s, 'tracebridge_export_buffer_size') === 0 && accounted >= created ? s : undefined;
      }, 20_000);
      const samples = settled ?? (await scrape(metrics));
      const exported = total(samples, 'tracebridge_export_spans_total', { outcome: 'exported' });
      const dropped = total(samples, 'tracebridge_export_spans_total', { outcome: 'dropped' });
      const expired = total(samples, 'tracebridge_export_spans_total', { outcome: 'dropped', reason: 'retry_expired' });

      const baseline = statsOf(records, t0 + 500, a0);
      const during: Record<string, LoadStats> = { short: statsOf(records, a0, a1), long: statsOf(records, b0, b1) };
      const all = statsOf(records, -Infinity, Infinity);
      // A request finishing just before the long outage may still have its spans in the SDK's batch
      // (OTEL_BSP_SCHEDULE_DELAY 100 ms) or the collector's (1 s) when it stops: those belong to it.
      const beforeLong = okRequests.filter((r) => r.end < b0 - 1500).map((r) => r.traceId);
      const ofShort = okRequests.filter((r) => r.start >= a0 && r.start < a1).map((r) => r.traceId);
      log(`waiting for ${beforeLong.length} traces in Jaeger`);
      const complete = await completeInJaeger(jaeger.queryUrl, SERVICE, beforeLong, SPANS_PER_REQUEST, 30_000);
      const shortComplete = complete === beforeLong.length ? ofShort.length : await completeInJaeger(jaeger.queryUrl, SERVICE, ofShort, SPANS_PER_REQUEST, 1);

      // The exporter keeps at most a window's worth, plus what arrives during one backoff (≤ 5 s).
      const bufferBound = (windowS + 6) * SPANS_PER_REQUEST * rate;
      const rssBaseline = rss.max(t0, a0);
      const rssShort = rss.max(a0, a1 + 2000);
      const rssLongEarly = rss.max(b0, b0 + (windowS + 1) * 1000);
      const rssLongLate = rss.max(b0 + (windowS + 1) * 1000, b1);
      const rssPeak = rss.max(t0, t1);

      Object.assign(figures, {
        requests: all.requests,
        'outages as the API saw them (stop → healthy)': `${round((a1 - a0) / 1000)} s / ${round((b1 - b0) / 1000)} s`,
        'failed (baseline / short / long outage)': `${baseline.failed} / ${during.short!.failed} / ${during.long!.failed}`,
        'p50 baseline / short / long': `${ms(baseline.p50)} / ${ms(during.short!.p50)} / ${ms(during.long!.p50)}`,
        'p99 baseline / short / long': `${ms(baseline.p99)} / ${ms(during.short!.p99)} / ${ms(during.long!.p99)}`,
        'RSS MiB baseline / short / long early / long late / peak': `${round(rssBaseline)} / ${round(rssShort)} / ${round(rssLongEarly)} / ${round(rssLongLate)} / ${round(rssPeak)}`,
        'backlog of the short outage delivered after': `${round(backlogS)} s`,
        'traces before the long outage complete in Jaeger': `${complete}/${beforeLong.length}`,
        'of the short outage': `${shortComplete}/${ofShort.length}`,
        'spans created': created,
        'exported / dropped (retry_expired)': `${exported} / ${dropped} (${expired})`,
        'export buffer: peak / after the window / at the end': `${bufferPeak} / ${bufferAfterWindow} / ${bufferAtEnd}`,
      });

      const latencyOk = (s: LoadStats) => s.p50 <= baseline.p50 * 2 + 5 && s.p99 <= baseline.p99 * 3 + 50;
      checks.push(
        check('the short outage was shorter than the retry window, the long one longer', a1 - a0 < windowS * 1000 && b1 - b0 > windowS * 1000, `${round((a1 - a0) / 1000)} s and ${round((b1 - b0) / 1000)} s, window ${windowS} s`),
        check('error rate unchanged during both outages (no failed request)', all.failed === 0, `failed ${all.failed} of ${all.requests}`),
        check(
          'latency unchanged within noise (p50 ≤ 2×+5 ms, p99 ≤ 3×+50 ms of the baseline)',
          latencyOk(during.short!) && latencyOk(during.long!),
          `p50 ${ms(baseline.p50)} → ${ms(during.short!.p50)}, ${ms(during.long!.p50)}; p99 ${ms(baseline.p99)} → ${ms(during.short!.p99)}, ${ms(during.long!.p99)}`,
        ),
        check(
          'RSS bounded: at most 64 MiB above the baseline at any time',
          rssPeak - rssBaseline <= 64,
          `baseline ${round(rssBaseline)} MiB, peak ${round(rssPeak)} MiB`,
        ),
        check(
          'every span of the outage shorter than the retry window reaches Jaeger',
          complete === beforeLong.length && shortComplete === ofShort.length && ofShort.length > 0,
          `${complete}/${beforeLong.length} traces complete, ${shortComplete}/${ofShort.length} of the outage`,
        ),
        check('the backlog of the short outage is delivered within 15 s of the collector\'s return', backlogS <= 15, `${round(backlogS)} s`),
        check('the longer outage drops spans, counted as retry_expired', expired > 0, `dropped ${dropped}, retry_expired ${expired}`),
        check(
          'every span is accounted for: exported + dropped = spans created',
          exported + dropped === created,
          `${exported} + ${dropped} vs ${created}`,
        ),
        // The buffer's span count is the test of boundedness: at this rate an unbounded buffer
        // would add a few MiB after the window, less than the steps in which the heap grows, so
        // RSS cannot tell it apart. RSS is held to the coarse bound above and printed.
        check(
          'memory stays flat in the longer outage: the buffer never exceeds (window + max backoff + 1 s) of spans',
          bufferPeak <= bufferBound,
          `buffer peak ${bufferPeak} ≤ ${bufferBound} spans, RSS ${round(rssLongEarly)} → ${round(rssLongLate)} MiB`,
        ),
      );
    }
  });
}
