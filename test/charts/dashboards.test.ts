import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startCollector, startJaeger, type Collector, type Jaeger } from '../support/backends.ts';
import { dataOf, find, renderExample } from '../support/chart.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { repoRoot, startTracedApi, type ManagedProcess } from '../support/process.ts';
import { startPrometheus, type Prometheus, type PrometheusQueryResponse, type PromSeries } from '../support/prometheus-server.ts';

/**
 * The chart's Grafana dashboards (charts/tracebridge/files/dashboards/*.json), checked two ways:
 * statically (unique uid and title, every panel titled, described, with a unit and the
 * Prometheus datasource) and live: every query of every panel, its Grafana macros replaced, is
 * evaluated by a real Prometheus scraping the real traced API and the real collector (shipped
 * pipeline) after traffic that exercises what the panels chart, and must return a series with a
 * finite value. The job names are those of collector/prometheus.yaml, which the chart's
 * Prometheus uses too. The collector is scraped twice, through the chart's own relabeling of the
 * collector job: once as a pod with the tier label of agent-gateway mode (gateway), once as one
 * without (deployment mode), so the collector dashboard's Tier variable is tried both ways.
 */

const DASHBOARDS = join(repoRoot, 'charts/tracebridge/files/dashboards');
const EXPECTED_FILES = ['api-red.json', 'collector.json', 'db-pool.json', 'n-plus-one.json'];
const API_JOB = 'tracebridge-api';
const COLLECTOR_JOB = 'otel-collector';
/** The uid the chart provisions its Prometheus datasource with. */
const PROMETHEUS_UID = 'prometheus';
/** The label the chart's scrapes give the collector's metrics from its pods' tier label, and the dashboard variable filtering on it. */
const TIER_LABEL = 'collector_tier';
const TIER_FILTER = `${TIER_LABEL}=~"$tier"`;
/** What the collector panels call a collector without a tier (deployment mode). */
const UNTIERED = 'collector';

/**
 * What Grafana substitutes for its macros. $__rate_interval is max($__interval + scrape interval,
 * 4 × scrape interval): 1m with Grafana's default 15 s scrape interval for a Prometheus
 * datasource. A 1m window also spans the whole of this test's traffic.
 */
const MACROS: Record<string, string> = {
  __rate_interval: '1m',
  __rate_interval_ms: '60000',
  __interval: '15s',
  __interval_ms: '15000',
  __range: '5m',
  __range_s: '300',
  __range_ms: '300000',
};

/**
 * Collector metrics that exist only after their event (a full sending queue, a memory-limiter
 * refusal, a batch reaching send_batch_size), which this test does not provoke. Their names are
 * those of the 0.155.0 components' metadata.yaml (exporterhelper, memorylimiterprocessor,
 * batchprocessor), and every query using them falls back to a zero series built from a metric
 * that does exist. Every other metric a panel names must exist in Prometheus.
 */
const EVENT_ONLY_METRICS = new Set([
  'otelcol_exporter_enqueue_failed_spans',
  'otelcol_exporter_enqueue_failed_metric_points',
  'otelcol_processor_memory_limiter_refused_spans',
  'otelcol_processor_memory_limiter_refused_metric_points',
  'otelcol_processor_batch_batch_size_trigger_send',
]);

interface DatasourceRef {
  type?: string;
  uid?: string;
}

interface Target {
  refId?: string;
  expr?: string;
  legendFormat?: string;
  hide?: boolean;
  datasource?: DatasourceRef | string | null;
}

interface Panel {
  id?: number;
  type: string;
  title?: string;
  description?: string;
  datasource?: DatasourceRef | string | null;
  fieldConfig?: { defaults?: { unit?: string } };
  targets?: Target[];
  panels?: Panel[];
}

interface Variable {
  name: string;
  type: string;
  query?: unknown;
  current?: { value?: string | string[] };
  allValue?: string | null;
}

interface Dashboard {
  uid?: string;
  title?: string;
  schemaVersion?: number;
  panels?: Panel[];
  templating?: { list?: Variable[] };
}

interface DashboardFile {
  file: string;
  dashboard: Dashboard;
  /** Every panel that is not a row, including those nested in collapsed rows. */
  panels: Panel[];
  rows: Panel[];
}

function flatten(panels: Panel[] = []): Panel[] {
  return panels.flatMap((p) => [p, ...flatten(p.panels)]);
}

const dashboardFiles: DashboardFile[] = readdirSync(DASHBOARDS)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((file) => {
    const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as Dashboard;
    const all = flatten(dashboard.panels);
    return { file, dashboard, panels: all.filter((p) => p.type !== 'row'), rows: all.filter((p) => p.type === 'row') };
  });

const queryCases = dashboardFiles.flatMap(({ file, dashboard, panels }) =>
  panels.flatMap((panel) =>
    (panel.targets ?? [])
      .filter((t) => t.hide !== true)
      .map((target) => ({ name: `${file} › ${panel.title ?? '(untitled)'} [${target.refId ?? '?'}]`, dashboard, target })),
  ),
);

/** True when a datasource reference points at the chart's Prometheus (directly or through ${datasource}). */
function isPrometheus(ref: DatasourceRef | string | null | undefined, dashboard: Dashboard): boolean {
  if (ref === undefined || ref === null || typeof ref === 'string') return false;
  if (ref.type !== 'prometheus') return false;
  if (ref.uid === PROMETHEUS_UID) return true;
  const variable = /^\$\{?(\w+)\}?$/.exec(ref.uid ?? '')?.[1];
  const declared = dashboard.templating?.list?.find((v) => v.name === variable);
  return declared?.type === 'datasource' && declared.query === 'prometheus';
}

/** The expression as Grafana would send it: macros and template variables (their current values, or `chosen`) replaced. */
function expand(expr: string, dashboard: Dashboard, chosen: Record<string, string> = {}): string {
  const variables = new Map<string, string>();
  for (const v of dashboard.templating?.list ?? []) {
    if (v.type === 'datasource') continue;
    const value = chosen[v.name] ?? v.current?.value;
    const values = Array.isArray(value) ? value : value === undefined ? [] : [value];
    variables.set(v.name, values.includes('$__all') ? (v.allValue ?? '.*') : values.join('|'));
  }
  const lookup = (name: string, whole: string) => MACROS[name] ?? variables.get(name) ?? whole;
  return expr
    .replace(/\$\{(\w+)(?::\w+)?\}/g, (whole, name: string) => lookup(name, whole))
    .replace(/\[\[(\w+)\]\]/g, (whole, name: string) => lookup(name, whole))
    .replace(/\$(\w+)/g, (whole, name: string) => lookup(name, whole));
}

describe('dashboard files', () => {
  it('are the four dashboards, each with its own uid and title', () => {
    expect(dashboardFiles.map((d) => d.file)).toEqual(expect.arrayContaining(EXPECTED_FILES));
    const uids = dashboardFiles.map((d) => d.dashboard.uid);
    const titles = dashboardFiles.map((d) => d.dashboard.title);
    for (const uid of uids) expect(uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    for (const title of titles) expect(title).toMatch(/\S/);
    expect(new Set(uids).size).toBe(uids.length);
    expect(new Set(titles).size).toBe(titles.length);
  });

  for (const { file, dashboard, panels, rows } of dashboardFiles) {
    it(`${file}: schema 39+, unique panel ids and titles, every panel titled, described, with a unit, a query and the Prometheus datasource`, () => {
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
      expect(panels.length).toBeGreaterThan(0);
      const ids = [...panels, ...rows].map((p) => p.id);
      expect(new Set(ids).size).toBe(ids.length);
      // Unique titles: a failing query's test name says which panel it is.
      const titles = panels.map((p) => p.title);
      expect(new Set(titles).size, `duplicate panel titles in ${file}`).toBe(titles.length);
      for (const panel of panels) {
        const where = `${file} › ${panel.title ?? `panel ${panel.id ?? '?'}`}`;
        expect(panel.title, where).toMatch(/\S/);
        expect(panel.description, where).toMatch(/\S/);
        expect(panel.fieldConfig?.defaults?.unit, where).toMatch(/\S/);
        expect(panel.targets?.length, where).toBeGreaterThan(0);
        expect(isPrometheus(panel.datasource, dashboard), `${where}: panel datasource ${JSON.stringify(panel.datasource)}`).toBe(true);
        for (const target of panel.targets ?? []) {
          expect(target.expr, `${where} [${target.refId ?? '?'}]`).toMatch(/\S/);
          // A target without its own datasource uses the panel's.
          if (target.datasource !== undefined) {
            expect(isPrometheus(target.datasource, dashboard), `${where} [${target.refId ?? '?'}]: ${JSON.stringify(target.datasource)}`).toBe(true);
          }
        }
        const refIds = (panel.targets ?? []).map((t) => t.refId);
        expect(new Set(refIds).size, `${where}: refIds`).toBe(refIds.length);
      }
    });
  }

  it('every query of the collector\'s own metrics (otelcol_*) is filtered by the Tier variable and split by tier', () => {
    const collectorQueries = queryCases.filter(({ target }) => /\botelcol_/.test(target.expr ?? ''));
    expect(collectorQueries.length).toBeGreaterThan(30);
    for (const { name, dashboard, target } of collectorQueries) {
      const expr = target.expr!;
      // Every selector of an otelcol_* metric, whichever dashboard it is in.
      for (const [selector, matchers] of expr.matchAll(/\botelcol_\w+(\{[^}]*\})?/g)) {
        expect(matchers ?? '', `${name}: ${selector} has no ${TIER_FILTER}`).toContain(TIER_FILTER);
      }
      // Every aggregation keeps the tier, and the legend shows it.
      for (const [aggregation, grouping] of expr.matchAll(/\b(?:sum|min|max|avg|count|topk|bottomk|quantile)\b\s*(?:by\s*\(([^)]*)\))?\s*\(/g)) {
        expect(grouping?.split(',').map((l) => l.trim()) ?? [], `${name}: ${aggregation} drops ${TIER_LABEL}`).toContain(TIER_LABEL);
      }
      expect(target.legendFormat, name).toContain(`{{${TIER_LABEL}}}`);
      // A collector without a tier is named, not printed as "collector_tier" by Grafana's legend.
      expect(expr, name).toMatch(new RegExp(`^label_replace\\(.*, "${TIER_LABEL}", "${UNTIERED}", "${TIER_LABEL}", ""\\)$`));
      expect(dashboard.templating?.list?.map((v) => v.name), name).toContain('tier');
    }
  });

  it('the Tier variable lists the tiers the collector\'s metrics carry, and All also matches metrics without one', () => {
    const { dashboard } = dashboardFiles.find((d) => d.file === 'collector.json')!;
    const tier = dashboard.templating!.list!.find((v) => v.name === 'tier')!;
    expect(tier).toMatchObject({
      type: 'query',
      includeAll: true,
      // Grafana's default All value lists the values found: a metric without the label would match none.
      allValue: '.*',
      current: { value: '$__all' },
      datasource: { type: 'prometheus', uid: '${datasource}' },
      query: { query: `label_values(otelcol_process_uptime{job="${COLLECTOR_JOB}"}, ${TIER_LABEL})` },
    });
    // The datasource variable comes first: the Tier variable's query uses it.
    expect(dashboard.templating!.list!.map((v) => v.name)).toEqual(['datasource', 'tier']);
  });
});

// ---------------------------------------------------------------------------------------------
// Live: real Postgres, Jaeger, collector, traced API and Prometheus.

let database: TestDatabase | undefined;
let jaeger: Jaeger | undefined;
let collector: Collector | undefined;
let api: ManagedProcess | undefined;
let prometheus: Prometheus | undefined;
let base: string;
let aliceId: number;
let postId: number;
/** Until when a query may still be waiting for the last traffic to be scraped. */
let dataDeadline = 0;

const json = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Results of an instant query, or [] when it failed or is no vector. */
function seriesOf(response: PrometheusQueryResponse): PromSeries[] {
  return response.status === 'success' && response.data?.resultType === 'vector' ? (response.data.result as PromSeries[]) : [];
}

/** Polls until `expr` returns a series (bounded). */
async function until(expr: string, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (seriesOf(await prometheus!.query(expr)).length === 0) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (${expr})`);
    await sleep(200);
  }
}

/**
 * Makes the pool time out for real: a test transaction holds an exclusive lock on `users`, two
 * GET /users take both of the API's connections (DB_POOL_MAX=2) and wait on the lock, and a third
 * finds no connection within DB_POOL_ACQUIRE_TIMEOUT_MS: 503 and a pool timeout.
 */
async function exhaustPool(): Promise<void> {
  const db = database!.db;
  const lock = await db.transaction();
  try {
    await lock.raw('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
    const blocked = [1, 2].map(() => fetch(`${base}/users`));
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await db.raw<{ rows: { waiting: number }[] }>(
        "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'tracebridge-api' AND wait_event_type = 'Lock'",
      );
      if (rows[0]!.waiting === 2) break;
      if (Date.now() > deadline) throw new Error('the two GET /users never waited on the lock');
      await sleep(20);
    }
    expect((await fetch(`${base}/users`)).status).toBe(503);
    await lock.rollback();
    expect((await Promise.all(blocked)).map((r) => r.status)).toEqual([200, 200]);
  } finally {
    if (!lock.isCompleted()) await lock.rollback();
  }
}

/** One round of what the panels chart: every route, 404s, a 422, N+1 loads, 503s from the pool. */
async function traffic(wave: number): Promise<void> {
  const expectStatus = async (status: number, path: string, init?: RequestInit) =>
    expect((await fetch(`${base}${path}`, init)).status, `${init?.method ?? 'GET'} ${path}`).toBe(status);
  await expectStatus(200, '/');
  await expectStatus(200, '/users?limit=5');
  await expectStatus(200, `/users/${aliceId}`);
  await expectStatus(200, `/users/${aliceId}`);
  // Lazy: one author query per post, flagged N+1 (6 posts ≥ the threshold of 5).
  await expectStatus(200, '/posts');
  await expectStatus(200, '/posts');
  await expectStatus(200, '/posts?eager=true');
  await expectStatus(200, `/posts/${postId}`);
  await expectStatus(201, '/users', json({ name: `Wave ${wave}`, email: `wave${wave}@example.com` }));
  await expectStatus(201, '/posts', json({ title: `wave ${wave}`, content: 'c', author_id: aliceId }));
  await expectStatus(404, '/users/999999');
  await expectStatus(404, '/no-such-route');
  await expectStatus(422, '/users', json({}));
  await exhaustPool();
}

beforeAll(async () => {
  const [db, jaegerStarted, apiMetricsPort, prometheusPort] = await Promise.all([
    createTestDatabase(),
    startJaeger(),
    freePort(),
    freePort(),
  ]);
  database = db;
  jaeger = jaegerStarted;
  aliceId = (await db.db('users').insert({ name: 'Alice', email: 'alice@example.com' }).returning<{ id: number }[]>('id'))[0]!.id;
  const posts = await db.db('posts')
    .insert([1, 2, 3, 4, 5, 6].map((n) => ({ title: `p${n}`, content: 'c', author_id: aliceId })))
    .returning<{ id: number }[]>('id');
  postId = posts[0]!.id;

  // The shipped pipeline with three destinations: Jaeger (traces, with a sending queue), debug
  // (traces and metrics) and Grafana Cloud pointed at an address that is no OTLP endpoint (this
  // test's Prometheus, which answers 404 to /v1/traces and /v1/metrics): a misconfigured
  // destination whose every export fails permanently, so the exporter failure counters the
  // collector dashboard charts exist for real. The collector also scrapes the API every second.
  collector = await startCollector(['jaeger', 'debug', 'grafanaCloud'], {
    JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint,
    GRAFANA_CLOUD_OTLP_ENDPOINT: `http://127.0.0.1:${prometheusPort}`,
    GRAFANA_CLOUD_INSTANCE_ID: 'dashboards-test',
    GRAFANA_CLOUD_API_TOKEN: 'not-a-token',
    API_METRICS_TARGET: `127.0.0.1:${apiMetricsPort}`,
    API_SCRAPE_INTERVAL: '1s',
  });
  const collectorMetrics = new URL(collector.metricsUrl).host;
  // The collector as the chart's Prometheus finds it in agent-gateway mode: a pod with the tier
  // label, as Kubernetes discovery describes it, relabeled by the chart's own collector job; and
  // the same pod without the label (deployment mode).
  const { objects } = await renderExample('agent-gateway');
  const chartJob = (parseYaml(dataOf(find(objects, 'ConfigMap', 'tracebridge-prometheus'))['prometheus.yml']!) as { scrape_configs: { job_name: string; relabel_configs: unknown[] }[] })
    .scrape_configs.find((j) => j.job_name === COLLECTOR_JOB)!;
  const gatewayPodLabels = (find(objects, 'Deployment', 'tracebridge-collector-gateway').spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
  const tierKey = Object.keys(gatewayPodLabels).find((k) => gatewayPodLabels[k] === 'gateway')!;
  const pod = (name: string, labels: Record<string, string> = {}) => ({
    job: COLLECTOR_JOB,
    target: collectorMetrics,
    relabelConfigs: chartJob.relabel_configs,
    labels: {
      __meta_kubernetes_pod_name: name,
      __meta_kubernetes_pod_container_port_name: 'metrics',
      ...Object.fromEntries(Object.entries(labels).map(([k, v]) => [`__meta_kubernetes_pod_label_${k.replace(/[^a-zA-Z0-9_]/g, '_')}`, v])),
    },
  });
  const [traced, started] = await Promise.all([
    startTracedApi({
      databaseUrl: database.url,
      otlpEndpoint: collector.otlpGrpcEndpoint,
      service: 'tracebridge-api',
      metricsPort: apiMetricsPort,
      env: {
        DB_POOL_MAX: '2',
        DB_POOL_ACQUIRE_TIMEOUT_MS: '300',
        // Idle connections close between the two waves, so the second opens new ones and the
        // create-time histogram moves inside the rate window too.
        DB_POOL_IDLE_TIMEOUT_MS: '500',
      },
    }),
    startPrometheus(
      [
        { job: API_JOB, target: `127.0.0.1:${apiMetricsPort}` },
        pod('tracebridge-collector-gateway-0', { [tierKey]: 'gateway' }),
        pod('tracebridge-collector-0'),
      ],
      { scrapeIntervalS: 1, port: prometheusPort },
    ),
  ]);
  ({ api, base } = traced);
  prometheus = started;

  // Two waves: counters and histograms are created by the first (Prometheus' rate() ignores a
  // series' first sample) and must move again once Prometheus has scraped them.
  await traffic(1);
  for (const [expr, what] of [
    [`db_client_connection_timeouts_total{job="${API_JOB}"}`, 'the pool timeout counter'],
    [`tracebridge_db_n_plus_one_total{job="${API_JOB}"}`, 'the N+1 counter'],
    [`http_server_request_duration_count{job="${API_JOB}", http_response_status_code="503"}`, 'the 503 series'],
    [`otelcol_exporter_send_failed_spans{job="${COLLECTOR_JOB}"}`, 'the failed-spans counter of the misconfigured destination'],
    [`otelcol_exporter_send_failed_metric_points{job="${COLLECTOR_JOB}"}`, 'the failed-metric-points counter'],
    [`sum(db_client_connection_count{job="${API_JOB}"}) == 0`, 'the idle connections to close'],
  ] as const) {
    await until(expr, what);
  }
  await traffic(2);
  // The API's batch delay (100 ms), the collector's batch timeout (1 s) and a scrape or two.
  dataDeadline = Date.now() + 20_000;
}, 90_000);

afterAll(async () => {
  await prometheus?.stop();
  await api?.stop();
  await collector?.stop();
  await jaeger?.stop();
  await database?.drop();
});

/** What the expression refers to, from Prometheus' own parser: metric names and the labels aggregations keep. */
async function parse(expr: string): Promise<{ metrics: string[]; groupingLabels: string[] }> {
  const response = await fetch(`${prometheus!.url}/api/v1/parse_query`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ query: expr }).toString(),
  });
  const body = (await response.json()) as { status: string; error?: string; data?: unknown };
  if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? 'parse failed'}`);
  const metrics = new Set<string>();
  const groupingLabels = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (typeof node !== 'object' || node === null) return;
    const record = node as Record<string, unknown>;
    if ((record.type === 'vectorSelector' || record.type === 'matrixSelector') && typeof record.name === 'string') metrics.add(record.name);
    if (record.type === 'aggregation' && record.without === false && Array.isArray(record.grouping)) {
      for (const label of record.grouping) if (typeof label === 'string') groupingLabels.add(label);
    }
    Object.values(record).forEach(walk);
  };
  walk(body.data);
  return { metrics: [...metrics], groupingLabels: [...groupingLabels] };
}

const finite = (series: PromSeries[]) => series.filter((s) => Number.isFinite(Number(s.value[1])));

describe('every panel query returns data from a real Prometheus', () => {
  it.each(queryCases)('$name', async ({ dashboard, target }) => {
    const expr = expand(target.expr!, dashboard);
    expect(expr, 'a macro or variable left unreplaced').not.toMatch(/\$/);

    let response: PrometheusQueryResponse;
    for (;;) {
      response = await prometheus!.query(expr);
      expect(response.status, `${expr}\n${response.error ?? ''}`).toBe('success');
      if (finite(seriesOf(response)).length > 0 || Date.now() > dataDeadline) break;
      await sleep(250);
    }
    expect(response.data?.resultType, expr).toBe('vector');
    expect(finite(seriesOf(response)), `no series with a finite value for\n${expr}\ngot ${JSON.stringify(response.data)}`).not.toHaveLength(0);

    // A zero fallback (`or vector(0)`, `or ... * 0`) must not hide a misspelt metric name, and
    // grouping by a label no series has silently merges what the panel means to split.
    const { metrics, groupingLabels } = await parse(expr);
    const present = metrics.filter((name) => !EVENT_ONLY_METRICS.has(name));
    for (const name of present) {
      expect(seriesOf(await prometheus!.query(`count({__name__="${name}"})`)), `metric ${name} is not in Prometheus`).toHaveLength(1);
    }
    for (const label of groupingLabels) {
      const selectors = present.map((name) => `{__name__="${name}", ${JSON.stringify(label)}!=""}`);
      const carriers = await Promise.all(selectors.map(async (s) => seriesOf(await prometheus!.query(`count(${s})`)).length));
      expect(carriers.some((n) => n > 0), `no series of ${present.join(', ')} has the label ${label} the query groups by`).toBe(true);
    }
    // Every {{label}} of the legend is a label of the result (Grafana prints the name otherwise).
    for (const [, label] of (target.legendFormat ?? '').matchAll(/\{\{\s*(.+?)\s*\}\}/g)) {
      expect(seriesOf(response).some((s) => (s.metric[label!] ?? '') !== ''), `legend {{${label!}}}: no result series has that label`).toBe(true);
    }
  });
});

const tierCases = queryCases.filter(({ target }) => /\botelcol_/.test(target.expr ?? ''));

const tiersOf = (series: PromSeries[]) => [...new Set(finite(series).map((s) => s.metric[TIER_LABEL]))].sort();

/** Polls `expr` until its series with a finite value are of `tiers` (each scrape target's rates start after its second sample), or the data deadline passes. */
async function settled(expr: string, tiers: string[]): Promise<PromSeries[]> {
  for (;;) {
    const response = await prometheus!.query(expr);
    expect(response.status, `${expr}\n${response.error ?? ''}`).toBe('success');
    if (tiersOf(seriesOf(response)).join() === tiers.join() || Date.now() > dataDeadline) return seriesOf(response);
    await sleep(250);
  }
}

describe('the Tier variable selects the tiers on a real Prometheus (a gateway pod and a collector without a tier)', () => {
  it.each(tierCases)('$name', async ({ dashboard, target }) => {
    // All: both, the one without a tier named as the legend shows it.
    const all = await settled(expand(target.expr!, dashboard), [UNTIERED, 'gateway']);
    expect(tiersOf(all), target.expr).toEqual([UNTIERED, 'gateway']);
    // One tier: only its series.
    const gateway = await settled(expand(target.expr!, dashboard, { tier: 'gateway' }), ['gateway']);
    expect(tiersOf(gateway)).toEqual(['gateway']);
    expect(gateway.every((s) => s.metric[TIER_LABEL] === 'gateway')).toBe(true);
    // A tier no collector has: nothing at all (no zero fallback built from another tier).
    expect(seriesOf(await prometheus!.query(expand(target.expr!, dashboard, { tier: 'agent' })))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------
// The alerts (files/alerts.yaml, the chart's PrometheusRule) on the same real Prometheus.

const ALERTS = (parseYaml(readFileSync(join(repoRoot, 'charts/tracebridge/files/alerts.yaml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);

describe('every alert expression evaluates on a real Prometheus and names only metrics it has', () => {
  it.each(ALERTS)('$alert', async ({ expr }) => {
    const response = await prometheus!.query(expr);
    expect(response.status, `${expr}\n${response.error ?? ''}`).toBe('success');
    const { metrics } = await parse(expr);
    expect(metrics.length).toBeGreaterThan(0);
    for (const name of metrics.filter((m) => !EVENT_ONLY_METRICS.has(m))) {
      expect(seriesOf(await prometheus!.query(`count({__name__="${name}"})`)), `metric ${name} is not in Prometheus`).toHaveLength(1);
    }
  });

  // What this test's traffic provokes for real: 503s from pool timeouts, N+1 on GET /posts, and
  // a destination whose every export fails. (The alerts' `for` is Prometheus' business.)
  it.each(['TracebridgeDbPoolAcquireTimeouts', 'TracebridgeNPlusOneDetected', 'TracebridgeCollectorExportFailing'])('%s: its condition holds after the events it watches', async (name) => {
    const { expr } = ALERTS.find((a) => a.alert === name)!;
    let series: PromSeries[];
    for (;;) {
      series = seriesOf(await prometheus!.query(expr));
      if (series.length > 0 || Date.now() > dataDeadline) break;
      await sleep(250);
    }
    expect(series, expr).not.toHaveLength(0);
  });

  it('TracebridgeCollectorExportFailing says which tier fails: the gateway\'s alert carries collector_tier, the untiered collector\'s none', async () => {
    const { expr } = ALERTS.find((a) => a.alert === 'TracebridgeCollectorExportFailing')!;
    let series: PromSeries[];
    for (;;) {
      series = seriesOf(await prometheus!.query(expr));
      if (series.length >= 2 || Date.now() > dataDeadline) break;
      await sleep(250);
    }
    const byPod = new Map(series.map((s) => [s.metric.pod, s.metric[TIER_LABEL]]));
    expect(byPod.get('tracebridge-collector-gateway-0'), expr).toBe('gateway');
    expect(byPod.has('tracebridge-collector-0'), expr).toBe(true);
    expect(byPod.get('tracebridge-collector-0')).toBeUndefined();
  });
});
