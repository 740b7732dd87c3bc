import { execFile } from 'node:child_process';
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { chartDir, dataOf, find, renderChart, renderError, renderExample, type K8sObject, type PodSpec } from '../support/chart.ts';
import { withoutSource } from '../support/cdk8s.ts';
import { KUBERNETES_VERSIONS, kubectlValidate } from '../support/manifests.ts';
import { toolBinary } from '../support/tools.ts';

/**
 * prometheus-operator integration: the ServiceMonitors and PodMonitors scrape the pods the chart's
 * own Prometheus scrapes, under the job names the dashboards and alerts select on; the objects
 * are valid against the operator's CRDs (the pinned v0.85.0 ones, offline); the PrometheusRule
 * ships files/alerts.yaml, which the real promtool checks and whose every alert its unit tests
 * (alerts.promtool.yaml) fire from synthetic series.
 */

const run = promisify(execFile);
const ALERTS_FILE = join(chartDir, 'files/alerts.yaml');
const PROMTOOL_TESTS = join(import.meta.dirname, 'alerts.promtool.yaml');
const DASHBOARDS = join(chartDir, 'files/dashboards');

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleFile {
  groups: { name: string; rules: Rule[] }[];
}
interface Endpoint {
  port: string;
  path?: string;
  interval?: string;
  scrapeTimeout?: string;
  relabelings?: Record<string, unknown>[];
  metricRelabelings?: Record<string, unknown>[];
}
interface MonitorSpec {
  namespaceSelector: { matchNames: string[] };
  selector: { matchLabels: Record<string, string> };
  endpoints?: Endpoint[];
  podMetricsEndpoints?: Endpoint[];
}

const alertsFile = parse(readFileSync(ALERTS_FILE, 'utf8')) as RuleFile;
const ALERT_NAMES = alertsFile.groups.flatMap((g) => g.rules.map((r) => r.alert));
const monitors = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind);
const specOf = (o: K8sObject) => o.spec as MonitorSpec;
const endpointOf = (o: K8sObject) => (specOf(o).endpoints ?? specOf(o).podMetricsEndpoints)![0]!;
/** The job a monitor's endpoint gives its targets (its relabeling to `job`). */
const jobOf = (o: K8sObject) => endpointOf(o).relabelings!.find((r) => r.targetLabel === 'job')!.replacement as string;
const matches = (labels: Record<string, string> | undefined, selector: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels?.[k] === v);

/** The relabeling that labels the collector's metrics with its pods' tier (tracebridge.io/collector-tier), as the operator spells it. */
const TIER_RELABELING = { action: 'replace', sourceLabels: ['__meta_kubernetes_pod_label_tracebridge_io_collector_tier'], targetLabel: 'collector_tier' };
const podLabelsOf = (o: K8sObject) => (o.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracebridge-monitoring-'));
});

async function promtool(args: string[], cwd = dir): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run(toolBinary('PROMTOOL_BIN'), args, { cwd });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

describe('ServiceMonitor and PodMonitor', () => {
  it('scrape, per monitor, the same pods and job names as the chart\'s own Prometheus', async () => {
    const { objects } = await renderChart({ set: { 'serviceMonitor.enabled': 'true' } });
    const prometheusJobs = (parse(dataOf(find(objects, 'ConfigMap', 'tracebridge-prometheus'))['prometheus.yml']!) as { scrape_configs: { job_name: string }[] }).scrape_configs.map((j) => j.job_name);
    const serviceMonitors = monitors(objects, 'ServiceMonitor');
    expect(serviceMonitors.map(jobOf).sort()).toEqual([...prometheusJobs].sort());
    expect(prometheusJobs.sort()).toEqual(['otel-collector', 'tracebridge-api']);
    for (const monitor of serviceMonitors) {
      const spec = specOf(monitor);
      expect(spec.namespaceSelector.matchNames).toEqual(['tracebridge']);
      // The selector picks exactly one Service, and it has the port the endpoint names.
      const services = objects.filter((o) => o.kind === 'Service' && matches(o.metadata.labels, spec.selector.matchLabels));
      expect(services.map((s) => s.metadata.name), monitor.metadata.name).toHaveLength(1);
      const ports = (services[0]!.spec as { ports: { name: string }[] }).ports.map((p) => p.name);
      expect(ports).toContain(endpointOf(monitor).port);
      expect(endpointOf(monitor)).toMatchObject({ port: 'metrics', path: '/metrics' });
    }
    const api = find(serviceMonitors, 'ServiceMonitor', 'tracebridge-api');
    expect(jobOf(api)).toBe('tracebridge-api');
    expect(endpointOf(api).interval).toBeUndefined();
  });

  it('the job names are the ones the dashboards query', () => {
    const queried = new Set(
      readdirSync(DASHBOARDS).flatMap((f) => [...readFileSync(join(DASHBOARDS, f), 'utf8').matchAll(/job=\\"([^\\]+)\\"/g)].map((m) => m[1])),
    );
    expect([...queried].sort()).toEqual(['otel-collector', 'tracebridge-api']);
  });

  it('PodMonitors select the pods that have the metrics port, whatever the release is called', async () => {
    const { objects } = await renderChart({ release: 'shop-observability', set: { 'podMonitor.enabled': 'true' } });
    const podMonitors = monitors(objects, 'PodMonitor');
    expect(podMonitors.map((m) => m.metadata.name).sort()).toEqual(['shop-observability-tracebridge-api', 'shop-observability-tracebridge-collector']);
    expect(podMonitors.map(jobOf).sort()).toEqual(['otel-collector', 'tracebridge-api']);
    for (const monitor of podMonitors) {
      const workloads = objects.filter((o) => o.kind === 'Deployment' && matches((o.spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels, specOf(monitor).selector.matchLabels));
      expect(workloads, monitor.metadata.name).toHaveLength(1);
      const containers = (workloads[0]!.spec as { template: { spec: PodSpec } }).template.spec.containers as { ports?: { name: string }[] }[];
      expect(containers.flatMap((c) => c.ports ?? []).map((p) => p.name)).toContain(endpointOf(monitor).port);
    }
  });

  it('take the options kube-prometheus-stack users set', async () => {
    const { objects } = await renderChart({
      set: {
        'serviceMonitor.enabled': 'true',
        'serviceMonitor.namespace': 'monitoring',
        'serviceMonitor.labels.release': 'kube-prometheus-stack',
        'serviceMonitor.interval': '30s',
        'serviceMonitor.scrapeTimeout': '10s',
        'serviceMonitor.relabelings[0].targetLabel': 'cluster',
        'serviceMonitor.relabelings[0].replacement': 'eu-1',
        'serviceMonitor.metricRelabelings[0].sourceLabels[0]': '__name__',
        'serviceMonitor.metricRelabelings[0].regex': 'go_.*',
        'serviceMonitor.metricRelabelings[0].action': 'drop',
      },
    });
    const monitor = find(objects, 'ServiceMonitor', 'tracebridge-collector');
    expect(monitor.metadata.namespace).toBe('monitoring');
    expect(monitor.metadata.labels).toMatchObject({ release: 'kube-prometheus-stack', 'app.kubernetes.io/instance': 'tracebridge' });
    // Watched from the monitors' namespace, the pods stay in the release's.
    expect(specOf(monitor).namespaceSelector.matchNames).toEqual(['tracebridge']);
    expect(endpointOf(monitor)).toMatchObject({
      interval: '30s',
      scrapeTimeout: '10s',
      relabelings: [{ action: 'replace', targetLabel: 'job', replacement: 'otel-collector' }, TIER_RELABELING, { targetLabel: 'cluster', replacement: 'eu-1' }],
      metricRelabelings: [{ sourceLabels: ['__name__'], regex: 'go_.*', action: 'drop' }],
    });
  });

  it('are off by default, and not both at once', async () => {
    const { objects } = await renderChart();
    expect(objects.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'))).toEqual([]);
    expect(await renderError({ set: { 'serviceMonitor.enabled': 'true', 'podMonitor.enabled': 'true' } })).toContain(
      'serviceMonitor.enabled and podMonitor.enabled: choose one (both would scrape every pod twice)',
    );
    expect(await renderError({ set: { 'serviceMonitor.enabled': 'true', 'serviceMonitor.interval': '30 seconds' } })).toContain("at '/serviceMonitor/interval'");
  });
});

describe('examples/agent-gateway: every scrape of the collector labels its metrics with the tier', () => {
  let objects: K8sObject[];
  beforeAll(async () => {
    ({ objects } = await renderExample('agent-gateway'));
  });
  const tiers = () => [find(objects, 'DaemonSet', 'tracebridge-collector-agent'), find(objects, 'Deployment', 'tracebridge-collector-gateway')];

  it('from the pod label each tier\'s pods carry, under the name Kubernetes discovery gives it', () => {
    expect(tiers().map((w) => podLabelsOf(w)['tracebridge.io/collector-tier'])).toEqual(['agent', 'gateway']);
    // Discovery turns every character outside [a-zA-Z0-9_] of a pod label's name into _.
    expect(TIER_RELABELING.sourceLabels).toEqual([`__meta_kubernetes_pod_label_${'tracebridge.io/collector-tier'.replace(/[^a-zA-Z0-9_]/g, '_')}`]);
  });

  it('the chart\'s Prometheus: the collector job, and no other', () => {
    const jobs = (parse(dataOf(find(objects, 'ConfigMap', 'tracebridge-prometheus'))['prometheus.yml']!) as { scrape_configs: { job_name: string; relabel_configs: Record<string, unknown>[] }[] }).scrape_configs;
    const snake = { action: 'replace', source_labels: TIER_RELABELING.sourceLabels, target_label: TIER_RELABELING.targetLabel };
    expect(jobs.find((j) => j.job_name === 'otel-collector')!.relabel_configs).toContainEqual(snake);
    expect(jobs.find((j) => j.job_name === 'tracebridge-api')!.relabel_configs.filter((r) => r.target_label === 'collector_tier')).toEqual([]);
  });

  it.each(['serviceMonitor', 'podMonitor'])('%s: the collector\'s endpoint, and it reaches the pods of both tiers', async (key) => {
    const { objects: rendered } = await renderExample('agent-gateway', { set: { [`${key}.enabled`]: 'true', [`${key}.relabelings[0].targetLabel`]: 'cluster', [`${key}.relabelings[0].replacement`]: 'eu-1' } });
    const kind = key === 'serviceMonitor' ? 'ServiceMonitor' : 'PodMonitor';
    const collector = find(rendered, kind, 'tracebridge-collector');
    // After the job, before the user's own (which may override it).
    expect(endpointOf(collector).relabelings).toEqual([{ action: 'replace', targetLabel: 'job', replacement: 'otel-collector' }, TIER_RELABELING, { targetLabel: 'cluster', replacement: 'eu-1' }]);
    expect(endpointOf(find(rendered, kind, 'tracebridge-api')).relabelings).not.toContainEqual(TIER_RELABELING);
    // The pods the monitor scrapes: directly (PodMonitor), or behind the Services it selects that have the port (ServiceMonitor).
    const selectors = kind === 'PodMonitor'
      ? [specOf(collector).selector.matchLabels]
      : rendered
        .filter((o) => o.kind === 'Service' && matches(o.metadata.labels, specOf(collector).selector.matchLabels))
        .filter((svc) => (svc.spec as { ports: { name: string }[] }).ports.some((p) => p.name === endpointOf(collector).port))
        .map((svc) => (svc.spec as { selector: Record<string, string> }).selector);
    const scraped = tiers().filter((w) => selectors.some((sel) => matches(podLabelsOf(w), sel)));
    expect(scraped.map((w) => w.metadata.name)).toEqual(['tracebridge-collector-agent', 'tracebridge-collector-gateway']);
  });
});

describe('against the prometheus-operator CRDs (kubectl-validate --local-crds)', () => {
  const monitoringObjects = async (set: Record<string, string>) => {
    const { objects } = await renderChart({ set });
    const file = join(dir, `crs-${Object.keys(set).join('-')}-${Math.random().toString(36).slice(2)}.yaml`);
    const crs = withoutSource(objects).filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'));
    await writeFile(file, crs.map((o) => stringify(o)).join('---\n'));
    return { file, kinds: crs.map((o) => o.kind).sort() };
  };

  it.each(KUBERNETES_VERSIONS)('every kind the chart renders is valid (Kubernetes %s)', async (version) => {
    const cases: Record<string, string>[] = [
      { 'serviceMonitor.enabled': 'true', 'serviceMonitor.interval': '30s', 'prometheusRule.enabled': 'true', 'prometheusRule.alertLabels.team': 'shop' },
      { 'podMonitor.enabled': 'true', 'podMonitor.scrapeTimeout': '5s' },
    ];
    for (const set of cases) {
      const { file, kinds } = await monitoringObjects(set);
      expect(kinds.length).toBeGreaterThan(1);
      expect(await kubectlValidate(file, version)).toEqual({ ok: true, output: expect.any(String) as string });
    }
  });

  it('and the CRDs catch what the values schema lets through: a relabeling action the operator does not know', async () => {
    const { file } = await monitoringObjects({ 'serviceMonitor.enabled': 'true', 'serviceMonitor.relabelings[0].action': 'explode' });
    const result = await kubectlValidate(file, '1.35');
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/relabelings\[1\]\.action: Unsupported value: "explode"/);
  });
});

describe('PrometheusRule: the alerts of files/alerts.yaml', () => {
  it('cover what operators page on: error rate, p99, pool saturation and timeouts, N+1, export drops, the collector', () => {
    expect(ALERT_NAMES).toEqual([
      'TracebridgeApiHighErrorRate',
      'TracebridgeApiHighLatencyP99',
      'TracebridgeDbPoolSaturated',
      'TracebridgeDbPoolAcquireTimeouts',
      'TracebridgeNPlusOneDetected',
      'TracebridgeApiSpanExportDrops',
      'TracebridgeCollectorRefusingData',
      'TracebridgeCollectorDroppingData',
      'TracebridgeCollectorExportFailing',
      'TracebridgeTargetDown',
    ]);
    for (const rule of alertsFile.groups.flatMap((g) => g.rules)) {
      expect(rule.labels?.severity, rule.alert).toMatch(/^(info|warning|critical)$/);
      expect(rule.annotations?.summary, rule.alert).toMatch(/\S/);
      expect(rule.annotations?.description, rule.alert).toMatch(/\S/);
    }
  });

  it('name only metrics the dashboards query (dashboards.test.ts proves each exists on a real Prometheus), besides up', () => {
    // A metric name is what stands before a selector's { or a range's [ (PromQL functions take a paren).
    const names = (text: string) => new Set([...text.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{[]/g)].map((m) => m[1]!));
    const dashboardText = readdirSync(DASHBOARDS).map((f) => readFileSync(join(DASHBOARDS, f), 'utf8').replace(/\\"/g, '"')).join('\n');
    const queried = names(dashboardText);
    const used = new Set(alertsFile.groups.flatMap((g) => g.rules.flatMap((r) => [...names(r.expr)])));
    expect(used.size).toBeGreaterThan(10);
    expect([...used].filter((name) => name !== 'up' && !queried.has(name))).toEqual([]);
  });

  it('the collector alerts keep the tier (collector_tier) in every aggregation', () => {
    const collectorRules = alertsFile.groups.flatMap((g) => g.rules).filter((r) => /\botelcol_/.test(r.expr));
    expect(collectorRules.map((r) => r.alert)).toEqual(['TracebridgeCollectorRefusingData', 'TracebridgeCollectorDroppingData', 'TracebridgeCollectorExportFailing']);
    for (const rule of collectorRules) {
      const groupings = [...rule.expr.matchAll(/\b(?:sum|min|max|avg|count)\s*(?:by\s*\(([^)]*)\))?\s*\(/g)].map((m) => m[1]?.split(',').map((l) => l.trim()) ?? []);
      expect(groupings.length, rule.alert).toBeGreaterThan(0);
      for (const labels of groupings) expect(labels, rule.alert).toContain('collector_tier');
      expect(rule.annotations?.description, rule.alert).toContain('{{ with $labels.collector_tier }}');
    }
  });

  it('ship unchanged as the PrometheusRule spec, which promtool accepts', async () => {
    const { objects } = await renderChart({ set: { 'prometheusRule.enabled': 'true' } });
    const rule = find(objects, 'PrometheusRule', 'tracebridge-alerts');
    expect(rule.metadata.namespace).toBe('tracebridge');
    expect(rule.spec).toEqual(alertsFile);
    const file = join(dir, 'rendered-rules.yaml');
    await writeFile(file, stringify(rule.spec));
    const checked = await promtool(['check', 'rules', file]);
    expect(checked.output).toContain(`SUCCESS: ${ALERT_NAMES.length} rules found`);
    expect(checked.ok).toBe(true);
  });

  it('promtool check rules refuses a broken expression (so the check above can fail)', async () => {
    const file = join(dir, 'broken-rules.yaml');
    await writeFile(file, readFileSync(ALERTS_FILE, 'utf8').replace('> 0.05', '> > 0.05'));
    const checked = await promtool(['check', 'rules', file]);
    expect(checked.ok).toBe(false);
    expect(checked.output).toMatch(/parse error/);
  });

  it('every alert fires in promtool test rules (alerts.promtool.yaml) from synthetic series', async () => {
    const tests = parse(readFileSync(PROMTOOL_TESTS, 'utf8')) as { rule_files: string[]; tests: { alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[] }[] };
    const fired = new Set(tests.tests.flatMap((t) => (t.alert_rule_test ?? []).filter((a) => a.exp_alerts.length > 0).map((a) => a.alertname)));
    expect([...fired].sort()).toEqual([...ALERT_NAMES].sort());
    expect(tests.rule_files).toEqual(['alerts.yaml']);
    const work = await mkdtemp(join(dir, 'promtool-test-'));
    copyFileSync(ALERTS_FILE, join(work, 'alerts.yaml'));
    copyFileSync(PROMTOOL_TESTS, join(work, 'tests.yaml'));
    const result = await promtool(['test', 'rules', 'tests.yaml'], work);
    expect(result.output).toContain('SUCCESS');
    expect(result.ok).toBe(true);
  });

  it('the unit tests fail when a threshold changes (they test the rules, not themselves)', async () => {
    const work = await mkdtemp(join(dir, 'promtool-threshold-'));
    await writeFile(join(work, 'alerts.yaml'), readFileSync(ALERTS_FILE, 'utf8').replace('> 0.05', '> 0.5'));
    copyFileSync(PROMTOOL_TESTS, join(work, 'tests.yaml'));
    const result = await promtool(['test', 'rules', 'tests.yaml'], work);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/alertname: TracebridgeApiHighErrorRate/);
  });

  it('the unit tests fail when a collector alert drops the tier (they prove the alert says which one)', async () => {
    const work = await mkdtemp(join(dir, 'promtool-tier-'));
    await writeFile(join(work, 'alerts.yaml'), readFileSync(ALERTS_FILE, 'utf8').replaceAll('collector_tier, ', ''));
    copyFileSync(PROMTOOL_TESTS, join(work, 'tests.yaml'));
    const result = await promtool(['test', 'rules', 'tests.yaml'], work);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/alertname: TracebridgeCollectorRefusingData/);
    expect(result.output).toMatch(/alertname: TracebridgeCollectorExportFailing/);
  });

  it('alertLabels label every alert (over its own) and disabled leaves alerts out', async () => {
    const { objects } = await renderChart({
      set: {
        'prometheusRule.enabled': 'true',
        'prometheusRule.namespace': 'monitoring',
        'prometheusRule.labels.release': 'kube-prometheus-stack',
        'prometheusRule.alertLabels.team': 'shop',
        'prometheusRule.alertLabels.severity': 'page',
        'prometheusRule.disabled.TracebridgeNPlusOneDetected': 'true',
        'prometheusRule.disabled.TracebridgeTargetDown': 'true',
      },
    });
    const rule = find(objects, 'PrometheusRule', 'tracebridge-alerts');
    expect(rule.metadata).toMatchObject({ namespace: 'monitoring', labels: { release: 'kube-prometheus-stack' } });
    const spec = rule.spec as RuleFile;
    const rules = spec.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(ALERT_NAMES.filter((n) => n !== 'TracebridgeNPlusOneDetected' && n !== 'TracebridgeTargetDown'));
    // A group whose every alert is disabled is left out.
    expect(spec.groups.map((g) => g.name)).toEqual(['tracebridge-api', 'tracebridge-collector']);
    for (const r of rules) expect(r.labels).toEqual({ severity: 'page', team: 'shop' });
    // Only labels change: expressions stay those of the file.
    const byName = new Map(alertsFile.groups.flatMap((g) => g.rules).map((r) => [r.alert, r]));
    for (const r of rules) expect({ ...r, labels: byName.get(r.alert)!.labels }).toEqual(byName.get(r.alert));
  });

  it('an alert name that does not exist fails, listing the real ones', async () => {
    const error = await renderError({ set: { 'prometheusRule.enabled': 'true', 'prometheusRule.disabled.TracebridgeHighErrorRate': 'true' } });
    expect(error).toContain(`prometheusRule.disabled.TracebridgeHighErrorRate: no such alert (the alerts: ${ALERT_NAMES.join(', ')})`);
  });
});

describe('examples/prometheus-operator', () => {
  it('replaces the in-cluster Prometheus and Grafana with kube-prometheus-stack\'s', async () => {
    const { objects } = await renderExample('prometheus-operator');
    expect(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort()).toEqual(['tracebridge-api', 'tracebridge-collector', 'tracebridge-jaeger']);
    const crs = objects.filter((o) => o.apiVersion.startsWith('monitoring.coreos.com/'));
    expect(crs.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'PrometheusRule/tracebridge-alerts',
      'ServiceMonitor/tracebridge-api',
      'ServiceMonitor/tracebridge-collector',
    ]);
    for (const cr of crs) expect(cr.metadata.labels?.release).toBe('kube-prometheus-stack');
    expect(objects.filter((o) => o.metadata.labels?.grafana_dashboard === '1')).toHaveLength(4);
  });
});
