import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { startCollector, startJaeger } from '../support/backends.ts';
import { EXAMPLES, exampleValues, parseManifest, renderChart, type K8sObject } from '../support/chart.ts';
import { startDatadogIntake } from '../support/datadog-intake.ts';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
import { freePort } from '../support/ports.ts';
import { repoRoot, startTracedApi } from '../support/process.ts';
import { leaksOutsideSecrets, secretValues } from '../support/secret-leaks.ts';
import { startGrafanaCloudGateway } from '../support/standins.ts';
import { check, timedDrill, type DrillOptions, type DrillResult } from './support/result.ts';
import { createDatabase, jaegerSpanCounts, poll, sleep } from './support/stack.ts';

/**
 * Drill 7: secret scans. At runtime: traffic carrying marked secrets (bound SQL values, emails,
 * Authorization and Cookie headers) runs through the API and the real collector to every
 * destination, whose own credentials are marked too; then every span that arrived anywhere,
 * every log line of every process and every metric (the API's, the collector's, and what the
 * metric destinations received) is searched for them, and for any email address at all.
 * Rendered: the Helm chart and the cdk8s app with every credential given as a value, and every
 * example: no credential appears outside a Secret.
 */

const SERVICE = 'drill-secret-scan';
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;

/** Marked values that must never leave the request or the credential store. */
const MARK = {
  name: 'Mallory-bound-7c1f',
  email: 'leak.7c1f@example.org',
  content: 'post-body-bound-7c1f',
  title: 'post-title-bound-7c1f',
  age: 117,
  authorization: 'Bearer authz-7c1f-secret',
  cookie: 'session=cookie-7c1f-secret',
  otlpHeader: 'otlp-header-7c1f-secret',
  grafanaToken: 'glc_grafana_7c1f_secret',
  datadogKey: 'dd7c1fdd7c1fdd7c1fdd7c1fdd7c1fdd',
  otlpDestination: 'Bearer otlp-destination-7c1f-secret',
} as const;

/** Needles: each marked value, and base64 of the credentials (basic auth, Secrets' encoding). */
function needles(extra: string[]): string[] {
  const values = [...Object.values(MARK).flatMap((v) => (typeof v === 'string' ? [v] : [])), ...extra];
  const b64 = [MARK.grafanaToken, `424242:${MARK.grafanaToken}`, MARK.datadogKey].map((v) => Buffer.from(v).toString('base64'));
  return [...values, ...b64];
}

function findLeaks(corpus: Record<string, string | Buffer>, search: string[], emails: boolean): string[] {
  const found: string[] = [];
  for (const [where, text] of Object.entries(corpus)) {
    const s = Buffer.isBuffer(text) ? text.toString('latin1') : text;
    for (const needle of search) if (s.includes(needle)) found.push(`${where} contains ${needle.slice(0, 12)}…`);
    if (emails) for (const m of s.matchAll(EMAIL)) found.push(`${where} contains an email address (${m[0].slice(0, 3)}…)`);
  }
  return found;
}

// ---- rendered objects ------------------------------------------------------------------------

const CREDENTIALS = {
  instanceId: 'gc-instance-7c1f91',
  apiToken: 'glc_secret_token_7c1f77',
  apiKey: 'dd_api_key_7c1f1234',
  authorization: 'Bearer otlp_secret_7c1f7b',
};

const withEveryCredential = {
  destinations: {
    grafanaCloud: { enabled: true, endpoint: 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp' },
    datadog: { enabled: true },
    otlp: { enabled: true, endpoint: 'tempo:4317' },
  },
  destinationCredentials: {
    create: true,
    grafanaCloud: { instanceId: CREDENTIALS.instanceId, apiToken: CREDENTIALS.apiToken },
    datadog: { apiKey: CREDENTIALS.apiKey },
    otlp: { authorization: CREDENTIALS.authorization },
  },
};

const run = promisify(execFile);

/** The cdk8s app's synth output for these values files, as objects. */
async function synthCdk8s(valuesFiles: string[]): Promise<K8sObject[]> {
  const out = await mkdtemp(join(tmpdir(), 'tracebridge-cdk8s-scan-'));
  try {
    await run(process.execPath, ['cdk8s/src/main.ts', ...valuesFiles.flatMap((f) => ['--values', f]), '--out', out], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
    return readdirSync(out)
      .filter((f) => f.endsWith('.k8s.yaml'))
      .flatMap((f) => parseManifest(readFileSync(join(out, f), 'utf8')));
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

async function scanRendered(): Promise<{ scanned: string[]; leaks: string[]; errors: string[] }> {
  const scanned: string[] = [];
  const leaks: string[] = [];
  const errors: string[] = [];
  const dir = await mkdtemp(join(tmpdir(), 'tracebridge-values-'));
  try {
    const valuesFile = join(dir, 'every-credential.yaml');
    writeFileSync(valuesFile, stringify(withEveryCredential));
    const given = Object.values(CREDENTIALS);
    const renders: [string, () => Promise<K8sObject[]>][] = [
      ['chart, every credential as values', async () => (await renderChart({ valuesFiles: [valuesFile] })).objects],
      ...EXAMPLES.map((e): [string, () => Promise<K8sObject[]>] => [`chart, examples/${e}`, async () => (await renderChart({ valuesFiles: [exampleValues(e)] })).objects]),
    ];
    if (existsSync(join(repoRoot, 'cdk8s/src/main.ts'))) {
      renders.push(['cdk8s, every credential as values', () => synthCdk8s([valuesFile])]);
      for (const e of EXAMPLES) renders.push([`cdk8s, examples/${e}`, () => synthCdk8s([exampleValues(e)])]);
    }
    for (const [label, render] of renders) {
      try {
        const objects = await render();
        scanned.push(`${label} (${objects.length} objects)`);
        if (label.includes('every credential')) {
          const inSecrets = secretValues(objects);
          for (const c of given) if (!inSecrets.includes(c)) leaks.push(`${label}: ${c.slice(0, 6)}… is in no Secret`);
        }
        leaks.push(...leaksOutsideSecrets(objects, [...given, ...secretValues(objects)], label));
      } catch (error) {
        errors.push(`${label}: ${String((error as { stderr?: string }).stderr ?? error).slice(0, 300)}`);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { scanned, leaks, errors };
}

// ---- the drill -------------------------------------------------------------------------------

export async function secretScan(options: DrillOptions): Promise<DrillResult> {
  return timedDrill('secret scans', `${options.durationS} s of marked traffic through every destination; chart and cdk8s renders`, async (figures, checks, defer) => {
    const database = await createDatabase(options.adminDatabaseUrl);
    defer(() => database.drop());
    const jaeger = await startJaeger();
    defer(() => jaeger.stop());
    const otlp = await startOtlpReceiver();
    defer(() => otlp.close());
    const grafanaSink = await startOtlpReceiver();
    defer(() => grafanaSink.close());
    const gateway = await startGrafanaCloudGateway({ instanceId: '424242', token: MARK.grafanaToken, sinkPort: grafanaSink.port });
    defer(() => gateway.process.stop());
    const intake = await startDatadogIntake();
    defer(() => intake.close());
    const apiMetricsPort = await freePort();
    const collector = await startCollector(
      ['jaeger', 'grafanaCloud', 'datadog', 'otlp'],
      {
        JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint,
        GRAFANA_CLOUD_OTLP_ENDPOINT: gateway.otlpHttp,
        GRAFANA_CLOUD_INSTANCE_ID: '424242',
        GRAFANA_CLOUD_API_TOKEN: MARK.grafanaToken,
        DD_API_KEY: MARK.datadogKey,
        DD_SITE: 'datadoghq.eu',
        OTLP_DESTINATION_ENDPOINT: `127.0.0.1:${otlp.port}`,
        OTLP_DESTINATION_INSECURE: 'true',
        OTLP_DESTINATION_AUTHORIZATION: MARK.otlpDestination,
        API_METRICS_TARGET: `127.0.0.1:${apiMetricsPort}`,
        API_SCRAPE_INTERVAL: '1s',
      },
      [intake.override],
    );
    defer(() => collector.stop());
    const { api, base, metrics } = await startTracedApi({
      databaseUrl: database.url,
      otlpEndpoint: collector.otlpGrpcEndpoint,
      service: SERVICE,
      metricsPort: apiMetricsPort,
      env: { OTEL_EXPORTER_OTLP_HEADERS: `authorization=${encodeURIComponent(`Bearer ${MARK.otlpHeader}`)}` },
    });
    defer(() => api.stop());

    // Marked traffic: success, conflict and not-found paths, with secret headers on every request.
    const headers = { 'content-type': 'application/json', authorization: MARK.authorization, cookie: MARK.cookie };
    const created = await fetch(`${base}/users`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ name: MARK.name, email: MARK.email, age: MARK.age, posts: [{ title: MARK.title, content: MARK.content }] }),
    });
    const { id } = (await created.json()) as { id: number };
    const deadline = Date.now() + options.durationS * 1000;
    let requests = 1;
    while (Date.now() < deadline) {
      const batch = [
        fetch(`${base}/users/${id}`, { headers }),
        fetch(`${base}/posts?limit=5`, { headers }),
        fetch(`${base}/posts?eager=true`, { headers }),
        fetch(`${base}/users`, { method: 'POST', headers, body: JSON.stringify({ name: MARK.name, email: MARK.email.toUpperCase() }) }),
        fetch(`${base}/posts`, { method: 'POST', headers, body: JSON.stringify({ title: MARK.title, content: MARK.content, author_id: 2_000_000_000 }) }),
        fetch(`${base}/users/${id + 1000}`, { headers }),
      ];
      for (const r of await Promise.all(batch)) await r.arrayBuffer();
      requests += batch.length;
      await sleep(200);
    }
    // Everything arrives, and the metric destinations get at least one more scrape.
    await poll(async () => ((await jaegerSpanCounts(jaeger.queryUrl, SERVICE)).size > 0 && grafanaSink.spans.length > 0 && otlp.spans.length > 0 ? true : undefined), 30_000);
    await poll(() => Promise.resolve(intake.received.some((r) => r.path.endsWith('/traces')) ? true : undefined), 30_000);
    await sleep(3000);

    const jaegerTraces = await (await fetch(`${jaeger.queryUrl}/api/traces?${new URLSearchParams({ service: SERVICE, limit: '10000', lookback: '1h' }).toString()}`)).text();
    const bigint = (_k: string, v: unknown) => (typeof v === 'bigint' ? String(v) : v);
    const spans: Record<string, string | Buffer> = {
      'Jaeger traces': jaegerTraces,
      'Grafana Cloud spans': JSON.stringify(grafanaSink.spans, bigint),
      'OTLP backend spans': JSON.stringify(otlp.spans, bigint),
      'OTLP backend request metadata': JSON.stringify(otlp.headers.map((h) => ({ ...h, authorization: undefined }))),
      'Datadog trace payloads': Buffer.concat(intake.received.filter((r) => !r.path.includes('series') && !r.path.includes('metrics')).map((r) => r.body)),
    };
    const logs: Record<string, string> = {
      'API log': api.stdout() + api.stderr(),
      'collector log': collector.process.stdout() + collector.process.stderr(),
      'gateway log': gateway.process.stdout() + gateway.process.stderr(),
    };
    const metricTexts: Record<string, string | Buffer> = {
      'API /metrics': await (await fetch(metrics)).text(),
      'collector metrics': await (await fetch(collector.metricsUrl)).text(),
      'Grafana Cloud metrics': await (await fetch(gateway.metricsUrl)).text(),
      'Datadog series': Buffer.concat(intake.received.filter((r) => r.path.includes('series') || r.path.includes('metrics')).map((r) => r.body)),
    };
    const password = decodeURIComponent(new URL(database.url).password);
    const search = needles([password]);
    const spanLeaks = findLeaks(spans, search, true);
    const logLeaks = findLeaks(logs, search, true);
    const metricLeaks = findLeaks(metricTexts, search, true);
    const received = {
      jaeger: (await jaegerSpanCounts(jaeger.queryUrl, SERVICE)).size,
      grafana: grafanaSink.spans.length,
      otlp: otlp.spans.length,
      datadog: intake.received.filter((r) => r.path.endsWith('/traces')).length,
      series: intake.received.filter((r) => r.path.includes('series')).length,
    };
    const metricLabels = (text: string) => (text.match(/\{[^}]*\}/g) ?? []).length;
    const rendered = await scanRendered();

    Object.assign(figures, {
      'marked requests': requests,
      'scanned: traces in Jaeger, spans at Grafana Cloud / OTLP, Datadog trace payloads / series': `${received.jaeger}, ${received.grafana} / ${received.otlp}, ${received.datadog} / ${received.series}`,
      'scanned: log bytes (API, collector, gateway)': Object.values(logs).map((l) => l.length).join(', '),
      'scanned: labelled series (API, collector, Grafana Cloud)': ['API /metrics', 'collector metrics', 'Grafana Cloud metrics'].map((k) => metricLabels(String(metricTexts[k]))).join(', '),
      'renders scanned': rendered.scanned.length,
      leaks: spanLeaks.length + logLeaks.length + metricLeaks.length + rendered.leaks.length,
    });
    checks.push(
      check('every destination received the marked traffic (the scan has something to scan)', received.jaeger > 0 && received.grafana > 0 && received.otlp > 0 && received.datadog > 0 && received.series > 0, JSON.stringify(received)),
      check('no span attribute carries a bound SQL value, an email, an Authorization/Cookie value or a credential', spanLeaks.length === 0, spanLeaks.slice(0, 8).join('; ') || 'none'),
      check('no log line does', logLeaks.length === 0, logLeaks.slice(0, 8).join('; ') || 'none'),
      check('no metric (name, label or value) does', metricLeaks.length === 0, metricLeaks.slice(0, 8).join('; ') || 'none'),
      check(
        'no rendered chart or cdk8s object carries a credential outside a Secret',
        rendered.leaks.length === 0 && rendered.errors.length === 0 && rendered.scanned.some((s) => s.startsWith('cdk8s')),
        [...rendered.errors, ...rendered.leaks.slice(0, 8)].join('; ') || rendered.scanned.join(', '),
      ),
    );
  });
}
