import { startCollector, startJaeger } from '../support/backends.ts';
import { startDatadogIntake } from '../support/datadog-intake.ts';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
import { closedPort } from '../support/ports.ts';
import { startTracedApi } from '../support/process.ts';
import { startGrafanaCloudGateway } from '../support/standins.ts';
import { now, startLoad, statsOf, statusText } from './support/load.ts';
import { check, timedDrill, type DrillOptions, type DrillResult } from './support/result.ts';
import { completeInJaeger, createDatabase, poll, scrape, seed, sleep } from './support/stack.ts';
import type { Sample } from '../support/prometheus.ts';

/**
 * Drill 5: one destination goes down under load. The collector fans out to Jaeger, Grafana
 * Cloud (its stand-in gateway: a second real collector requiring basic auth), Datadog (the real
 * exporter and connector, to a recording intake) and a generic OTLP backend; a third of the way
 * in, the Grafana Cloud gateway stops. The other three must keep receiving every span.
 */

const SERVICE = 'drill-destination-down';
const SPANS_PER_REQUEST = 3;

/** A collector counter summed over the series of one exporter or receiver (names vary by a _total suffix). */
function counter(samples: Sample[], prefix: string, labels: Record<string, string>): number {
  return samples
    .filter((s) => s.name.startsWith(prefix) && !s.name.endsWith('_created') && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

export async function destinationDown(options: DrillOptions & { ratePerS?: number }): Promise<DrillResult> {
  const rate = options.ratePerS ?? 30;
  const log = options.log ?? (() => undefined);

  return timedDrill('one destination down', `Grafana Cloud down for the last ${Math.round((options.durationS * 2) / 3)} of ${options.durationS} s, ${rate} req/s`, async (figures, checks, defer) => {
    const database = await createDatabase(options.adminDatabaseUrl);
    defer(() => database.drop());
    const ids = await seed(database.db, 20, 2);
    const jaeger = await startJaeger();
    defer(() => jaeger.stop());
    const otlp = await startOtlpReceiver();
    defer(() => otlp.close());
    const grafanaSink = await startOtlpReceiver();
    defer(() => grafanaSink.close());
    const gateway = await startGrafanaCloudGateway({ instanceId: '424242', token: 'glc_drill_token', sinkPort: grafanaSink.port });
    defer(() => gateway.process.stop());
    const intake = await startDatadogIntake();
    defer(() => intake.close());
    const collector = await startCollector(
      ['jaeger', 'grafanaCloud', 'datadog', 'otlp'],
      {
        JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint,
        GRAFANA_CLOUD_OTLP_ENDPOINT: gateway.otlpHttp,
        GRAFANA_CLOUD_INSTANCE_ID: '424242',
        GRAFANA_CLOUD_API_TOKEN: 'glc_drill_token',
        DD_API_KEY: 'dd0123456789abcdef0123456789abcd',
        DD_SITE: 'datadoghq.eu',
        OTLP_DESTINATION_ENDPOINT: `127.0.0.1:${otlp.port}`,
        OTLP_DESTINATION_INSECURE: 'true',
        // Traces are what this drill counts; the metrics pipeline scrapes nothing.
        API_METRICS_TARGET: `127.0.0.1:${await closedPort()}`,
      },
      [intake.override],
    );
    defer(() => collector.stop());
    const { api, base } = await startTracedApi({ databaseUrl: database.url, otlpEndpoint: collector.otlpGrpcEndpoint, service: SERVICE });
    defer(() => api.stop());

    const load = startLoad({ base, ratePerS: rate, path: (i) => `/users/${ids[i % ids.length]!}` });
    await sleep((options.durationS * 1000) / 3);
    // The destination works before it goes down (its first delivery can take a few seconds).
    await poll(() => Promise.resolve(grafanaSink.spans.length > 0 ? true : undefined), 20_000);
    log('stopping the Grafana Cloud gateway');
    const down = now();
    await gateway.process.stop();
    await sleep((options.durationS * 2000) / 3);
    const records = await load.stop();
    const finished = records.filter((r) => r.status === 200);
    const traceIds = finished.map((r) => r.traceId);

    log(`waiting for ${traceIds.length} traces at Jaeger, the OTLP backend and Datadog`);
    const jaegerComplete = await completeInJaeger(jaeger.queryUrl, SERVICE, traceIds, SPANS_PER_REQUEST, 30_000);
    const spansPerTrace = (spans: readonly { traceId: string }[]) => {
      const counts = new Map<string, number>();
      for (const s of spans) counts.set(s.traceId, (counts.get(s.traceId) ?? 0) + 1);
      return counts;
    };
    await poll(() => {
      const counts = spansPerTrace(otlp.spans);
      return Promise.resolve(traceIds.every((id) => (counts.get(id) ?? 0) >= SPANS_PER_REQUEST) ? true : undefined);
    }, 20_000);
    const otlpCounts = spansPerTrace(otlp.spans);
    const otlpComplete = traceIds.filter((id) => (otlpCounts.get(id) ?? 0) >= SPANS_PER_REQUEST).length;
    // Datadog's payloads are its own encoding: the collector's per-exporter counts say what it delivered.
    const expectedSpans = finished.length * SPANS_PER_REQUEST;
    let samples = await scrape(collector.metricsUrl);
    await poll(async () => {
      samples = await scrape(collector.metricsUrl);
      return counter(samples, 'otelcol_exporter_sent_spans', { exporter: 'datadog' }) >= expectedSpans ? true : undefined;
    }, 30_000);
    const accepted = counter(samples, 'otelcol_receiver_accepted_spans', { receiver: 'otlp' });
    const sent = (exporter: string) => counter(samples, 'otelcol_exporter_sent_spans', { exporter });
    const failed = (exporter: string) => counter(samples, 'otelcol_exporter_send_failed_spans', { exporter });
    const datadogPayloads = intake.received.filter((r) => r.path.endsWith('/traces') && r.body.includes(SERVICE)).length;
    const grafanaIds = new Set(grafanaSink.spans.map((s) => s.traceId));
    const grafanaBefore = finished.filter((r) => r.end < down);
    const grafanaBeforeReceived = grafanaBefore.filter((r) => grafanaIds.has(r.traceId)).length;
    const grafanaAfter = finished.filter((r) => r.start > down).filter((r) => grafanaIds.has(r.traceId)).length;
    const stats = statsOf(records);

    Object.assign(figures, {
      requests: `${stats.requests} (${statusText(stats.statuses)})`,
      'spans accepted by the collector': accepted,
      'Jaeger: complete traces': `${jaegerComplete}/${traceIds.length}`,
      'OTLP backend: complete traces': `${otlpComplete}/${traceIds.length}`,
      'Datadog: spans sent / failed, trace payloads': `${sent('datadog')} / ${failed('datadog')}, ${datadogPayloads}`,
      'Grafana Cloud: traces received of those before / after it went down': `${grafanaBeforeReceived}/${grafanaBefore.length} / ${grafanaAfter}`,
      'Grafana Cloud exporter: sent / failed or queued': `${sent('otlp_http/grafana_cloud')} / ${failed('otlp_http/grafana_cloud') + counter(samples, 'otelcol_exporter_queue_size', { exporter: 'otlp_http/grafana_cloud' })}`,
    });
    checks.push(
      check('no request failed', stats.failed === 0, statusText(stats.statuses)),
      check('Grafana Cloud received traces, then was down (nothing after)', grafanaBeforeReceived > 0 && grafanaAfter === 0, `${grafanaBeforeReceived} before, ${grafanaAfter} after`),
      check('Jaeger receives 100 % of the traces', jaegerComplete === traceIds.length, `${jaegerComplete}/${traceIds.length}`),
      check('the OTLP backend receives 100 % of the traces', otlpComplete === traceIds.length, `${otlpComplete}/${traceIds.length}`),
      check(
        'Datadog receives 100 % of the spans (the exporter sent all it accepted, none failed)',
        sent('datadog') === accepted && accepted === expectedSpans && failed('datadog') === 0 && datadogPayloads > 0,
        `sent ${sent('datadog')}, accepted ${accepted}, expected ${expectedSpans}, failed ${failed('datadog')}, ${datadogPayloads} payloads`,
      ),
    );
  });
}
