import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configArgs, configDir } from '../../collector/fragments.ts';
import { collectorOf, exampleValues, find, renderChart, renderError, renderExample, renderNotes, writeCollectorFiles, type K8sObject } from '../support/chart.ts';
import { freePort } from '../support/ports.ts';
import { runProcess, waitForHttp, type ManagedProcess } from '../support/process.ts';
import { prometheusBinary } from '../support/prometheus-server.ts';
import { toolBinary } from '../support/tools.ts';

/**
 * The collector scraping other workloads (collector.scrape.pods): the chart adds
 * collector/config/scrape/annotated-pods.yaml unchanged, with the env it reads; RBAC reaches
 * exactly the namespaces listed; and the configuration the real collector resolves from it keeps
 * and addresses the pods the prometheus.io annotations say, shown by a real Prometheus (the same
 * scrape and relabel code the collector's prometheus receiver embeds) applying its
 * relabel_configs to pods described as Kubernetes discovery would.
 */

const run = promisify(execFile);
const FRAGMENT = 'scrape/annotated-pods.yaml';
const ON = { 'collector.scrape.pods.enabled': 'true' };

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const rbac = (objects: K8sObject[]) => objects.filter((o) => o.source === 'templates/collector/rbac-scrape-pods.yaml' || o.kind.startsWith('Cluster'));

describe('collector.scrape.pods in the chart', () => {
  it('off by default: no fragment, no env, no cluster-scoped RBAC', async () => {
    const { objects } = await renderChart();
    const collector = collectorOf(objects);
    expect(collector.fragments.map(([key]) => key)).not.toContain('scrape-annotated-pods.yaml');
    expect(Object.keys(collector.env).filter((name) => name.startsWith('POD_SCRAPE_'))).toEqual([]);
    expect(rbac(objects)).toEqual([]);
  });

  it('on: the file of collector/config/ unchanged after the API\'s scrape, and the env it reads (the release\'s namespace by default)', async () => {
    const { objects } = await renderChart({ set: ON });
    const collector = collectorOf(objects);
    const keys = collector.fragments.map(([key]) => key);
    expect(keys.indexOf('scrape-annotated-pods.yaml')).toBe(keys.indexOf('scrape-kubernetes.yaml') + 1);
    expect(Object.fromEntries(collector.fragments)['scrape-annotated-pods.yaml']).toBe(readFileSync(join(configDir, FRAGMENT), 'utf8'));
    expect(collector.env).toMatchObject({ POD_SCRAPE_NAMESPACES: '["tracebridge"]', POD_SCRAPE_SELECTOR: '', POD_SCRAPE_INTERVAL: '30s' });
    // The release's namespace is covered by the collector's Role already.
    expect(rbac(objects)).toEqual([]);
    const role = find(objects, 'Role', 'tracebridge-collector');
    expect(role.rules as Rule[]).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
  });

  it('other namespaces: a ClusterRole that only reads pods, bound in each of them and nowhere else', async () => {
    const { objects } = await renderExample('shared-collector');
    expect(collectorOf(objects).env).toMatchObject({ POD_SCRAPE_NAMESPACES: '["tracebridge","shop","billing"]', POD_SCRAPE_SELECTOR: 'app.kubernetes.io/part-of=shop' });
    const role = find(objects, 'ClusterRole', 'tracebridge-collector-pod-discovery');
    expect(role.rules as Rule[]).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
    const bindings = objects.filter((o) => o.kind === 'RoleBinding' && o.metadata.name === 'tracebridge-collector-pod-discovery');
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual(['billing', 'shop']);
    for (const binding of bindings) {
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'tracebridge-collector-pod-discovery' });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'tracebridge-collector', namespace: 'tracebridge' }]);
    }
    expect(objects.filter((o) => o.kind === 'ClusterRoleBinding')).toEqual([]);
  });

  it('rbac.create=false leaves the RBAC to the cluster admin', async () => {
    const { objects } = await renderExample('shared-collector', { set: { 'collector.scrape.pods.rbac.create': 'false' } });
    expect(rbac(objects)).toEqual([]);
    expect(collectorOf(objects).env.POD_SCRAPE_NAMESPACES).toBe('["tracebridge","shop","billing"]');
  });

  it('NOTES.txt tells other apps where to send OTLP and which pods are scraped', async () => {
    const text = await renderNotes({ valuesFiles: [exampleValues('shared-collector')], namespace: 'tracebridge' });
    expect(text).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://tracebridge-collector.tracebridge.svc:4317  (OTLP/gRPC)');
    expect(text).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://tracebridge-collector.tracebridge.svc:4318  (OTLP/HTTP, with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf)');
    expect(text).toContain('in tracebridge, shop, billing matching app.kubernetes.io/part-of=shop.');
    expect(await renderNotes()).not.toContain('Their /metrics');
  });

  it('a namespace that is no namespace name fails naming the key', async () => {
    const error = await renderError({ set: { ...ON, 'collector.scrape.pods.namespaces[0]': 'Shop_EU' } });
    expect(error).toContain("at '/collector/scrape/pods/namespaces/0'");
  });
});

// ---------------------------------------------------------------------------------------------
// What the resolved configuration keeps and scrapes.

interface ScrapeConfig {
  job_name: string;
  scrape_interval: string;
  kubernetes_sd_configs: { role: string; namespaces: { names: string[] }; selectors?: { role: string; label?: string }[] }[];
  relabel_configs: Record<string, unknown>[];
}

/** The prometheus/pods scrape job as the real collector resolves it from the rendered files and env. */
async function resolvedScrapeConfig(objects: K8sObject[]): Promise<ScrapeConfig> {
  const chart = collectorOf(objects);
  const files = writeCollectorFiles(chart, await mkdtemp(join(tmpdir(), 'tracebridge-scrape-pods-')));
  const { stdout } = await run(toolBinary('OTELCOL_BIN'), ['print-config', '--validate=false', ...configArgs(files)], {
    env: { PATH: process.env.PATH, ...chart.env },
  });
  const config = parse(stdout) as { receivers: Record<string, { config: { scrape_configs: ScrapeConfig[] } }>; service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> } };
  expect(config.service.pipelines['metrics/pods']).toMatchObject({ receivers: ['prometheus/pods'], exporters: ['forward/metrics'] });
  return config.receivers['prometheus/pods']!.config.scrape_configs[0]!;
}

const servers: Server[] = [];
let prometheus: ManagedProcess | undefined;
afterAll(async () => {
  await prometheus?.stop();
  for (const server of servers) server.close();
});

async function metricsServer(path: string, body: string): Promise<number> {
  const port = await freePort();
  const server = createServer((request, response) => {
    if (request.url === path) response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(body);
    else response.writeHead(404).end();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return port;
}

describe('the resolved configuration', () => {
  it('looks in the listed namespaces, with the selector, as the real collector reads the env', async () => {
    const job = await resolvedScrapeConfig((await renderExample('shared-collector')).objects);
    expect(job.scrape_interval).toBe('30s');
    expect(job.kubernetes_sd_configs).toMatchObject([
      { role: 'pod', namespaces: { names: ['tracebridge', 'shop', 'billing'] }, selectors: [{ role: 'pod', label: 'app.kubernetes.io/part-of=shop' }] },
    ]);
  });

  it('keeps annotated running pods, on the annotated port and path, labelled with namespace and pod (a real Prometheus relabels)', async () => {
    const job = await resolvedScrapeConfig((await renderChart({ set: ON })).objects);
    const [custom, plain, other] = await Promise.all([
      metricsServer('/custom/metrics', 'shop_orders_total 3\n'),
      metricsServer('/metrics', 'billing_invoices_total 7\n'),
      metricsServer('/metrics', 'not_annotated_total 1\n'),
    ]);
    // Pods as Kubernetes discovery describes them (one target per declared container port).
    const pod = (name: string, address: string, phase: string, annotations: Record<string, string>) => ({
      targets: [address],
      labels: {
        __meta_kubernetes_namespace: 'shop',
        __meta_kubernetes_pod_name: name,
        __meta_kubernetes_pod_phase: phase,
        ...Object.fromEntries(Object.entries(annotations).map(([k, v]) => [`__meta_kubernetes_pod_annotation_${k.replace(/[./]/g, '_')}`, v])),
      },
    });
    const dir = await mkdtemp(join(tmpdir(), 'tracebridge-scrape-pods-prometheus-'));
    writeFileSync(
      join(dir, 'pods.json'),
      JSON.stringify([
        // The annotation names another port than the one declared, and a path.
        pod('shop-a', '127.0.0.1:1', 'Running', { 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(custom), 'prometheus.io/path': '/custom/metrics' }),
        pod('shop-b', `127.0.0.1:${plain}`, 'Running', { 'prometheus.io/scrape': 'true' }),
        pod('shop-c', `127.0.0.1:${other}`, 'Running', {}),
        pod('shop-d', `127.0.0.1:${other}`, 'Succeeded', { 'prometheus.io/scrape': 'true' }),
        pod('shop-e', `127.0.0.1:${other}`, 'Running', { 'prometheus.io/scrape': 'false' }),
      ]),
    );
    // The job as resolved, its Kubernetes discovery replaced by the pods above.
    const rest = { job_name: job.job_name, relabel_configs: job.relabel_configs };
    writeFileSync(
      join(dir, 'prometheus.yml'),
      JSON.stringify({ scrape_configs: [{ ...rest, scrape_interval: '1s', scrape_timeout: '1s', file_sd_configs: [{ files: [join(dir, 'pods.json')] }] }] }),
    );
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    prometheus = runProcess(prometheusBinary(), [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], {});
    await waitForHttp(`${url}/-/ready`, prometheus);

    interface Target {
      scrapeUrl: string;
      labels: Record<string, string>;
      health: string;
    }
    let active: Target[];
    const deadline = Date.now() + 20_000;
    for (;;) {
      const body = (await (await fetch(`${url}/api/v1/targets`)).json()) as { data: { activeTargets: Target[] } };
      active = body.data.activeTargets;
      if ((active.length === 2 && active.every((t) => t.health === 'up')) || Date.now() > deadline) break;
      await sleep(200);
    }
    expect(active.map((t) => ({ url: t.scrapeUrl, pod: t.labels.k8s_pod_name, namespace: t.labels.k8s_namespace_name, health: t.health })).sort((a, b) => a.pod!.localeCompare(b.pod!))).toEqual([
      { url: `http://127.0.0.1:${custom}/custom/metrics`, pod: 'shop-a', namespace: 'shop', health: 'up' },
      { url: `http://127.0.0.1:${plain}/metrics`, pod: 'shop-b', namespace: 'shop', health: 'up' },
    ]);
    const value = async (metric: string) => {
      const body = (await (await fetch(`${url}/api/v1/query?query=${metric}`)).json()) as { data: { result: { value: [number, string] }[] } };
      return body.data.result.map((r) => r.value[1]);
    };
    expect(await value('shop_orders_total')).toEqual(['3']);
    expect(await value('billing_invoices_total')).toEqual(['7']);
    expect(await value('not_annotated_total')).toEqual([]);
  });
});
