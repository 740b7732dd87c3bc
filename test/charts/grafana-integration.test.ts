import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { chartDir, dataOf, exampleValues, find, renderChart, renderError, renderExample, renderNotes, type K8sObject } from '../support/chart.ts';

/**
 * Grafana integration: the dashboards as ConfigMaps for an existing Grafana's sidecar (the same
 * JSON files as our Grafana's), and our Grafana on an existing Prometheus.
 */

const DASHBOARDS = join(chartDir, 'files/dashboards');
const FILES = readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json')).sort();
const sidecarMaps = (objects: K8sObject[], label = 'grafana_dashboard') => objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.labels?.[label] !== undefined);

interface Datasource {
  name: string;
  uid: string;
  url: string;
}
const datasources = (objects: K8sObject[]) =>
  (parse(dataOf(find(objects, 'ConfigMap', 'tracebridge-grafana-datasources'))['datasources.yaml']!) as { datasources: Datasource[] }).datasources;

describe('dashboards for an existing Grafana (grafana.dashboards.sidecar)', () => {
  it('one ConfigMap per dashboard file, with the sidecar label and the file unchanged, without our Grafana', async () => {
    const { objects } = await renderChart({ set: { 'grafana.enabled': 'false', 'grafana.dashboards.sidecar.enabled': 'true' } });
    expect(objects.filter((o) => o.metadata.name.startsWith('tracebridge-grafana'))).toEqual([]);
    const maps = sidecarMaps(objects);
    expect(FILES.length).toBeGreaterThanOrEqual(4);
    expect(maps.map((m) => Object.keys(dataOf(m))).flat().sort()).toEqual(FILES);
    for (const map of maps) {
      expect(map.metadata.labels?.grafana_dashboard).toBe('1');
      expect(map.metadata.namespace).toBe('tracebridge');
      expect(map.metadata.annotations).toBeUndefined();
      for (const [file, text] of Object.entries(dataOf(map))) {
        expect(text).toBe(readFileSync(join(DASHBOARDS, file), 'utf8'));
        expect(map.metadata.name).toBe(`tracebridge-dashboard-${file.replace(/\.json$/, '')}`);
        // Below the 1 MiB a ConfigMap can hold, with room to grow.
        expect(Buffer.byteLength(text)).toBeLessThan(256 * 1024);
      }
    }
  });

  it('the same JSON our own Grafana provisions', async () => {
    const { objects } = await renderChart({ set: { 'grafana.dashboards.sidecar.enabled': 'true' } });
    const ours = dataOf(find(objects, 'ConfigMap', 'tracebridge-grafana-dashboards'));
    for (const map of sidecarMaps(objects)) for (const [file, text] of Object.entries(dataOf(map))) expect(text).toBe(ours[file]);
  });

  it('dashboards pick their Prometheus through a datasource variable, so any Grafana\'s datasource works', () => {
    for (const file of FILES) {
      const dashboard = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as { templating: { list: { name: string; type: string; query: string }[] } };
      expect(dashboard.templating.list.find((v) => v.type === 'datasource'), file).toMatchObject({ name: 'datasource', query: 'prometheus' });
      expect(readFileSync(join(DASHBOARDS, file), 'utf8'), file).not.toMatch(/"uid":\s*"prometheus"/);
    }
  });

  it('label, value, folder annotation and namespace as the sidecar is configured', async () => {
    const { objects } = await renderChart({
      set: {
        'grafana.enabled': 'false',
        'grafana.dashboards.sidecar.enabled': 'true',
        'grafana.dashboards.sidecar.label': 'example.com/dashboard',
        'grafana.dashboards.sidecar.labelValue': 'tracebridge',
        'grafana.dashboards.sidecar.folder': 'Observability/Tracebridge',
        'grafana.dashboards.sidecar.folderAnnotation': 'k8s-sidecar-target-directory',
        'grafana.dashboards.sidecar.namespace': 'monitoring',
      },
    });
    const maps = sidecarMaps(objects, 'example.com/dashboard');
    expect(maps).toHaveLength(FILES.length);
    for (const map of maps) {
      expect(map.metadata.labels?.['example.com/dashboard']).toBe('tracebridge');
      expect(map.metadata.labels?.grafana_dashboard).toBeUndefined();
      expect(map.metadata.annotations).toEqual({ 'k8s-sidecar-target-directory': 'Observability/Tracebridge' });
      expect(map.metadata.namespace).toBe('monitoring');
    }
  });

  it('NOTES.txt says where the dashboards are', async () => {
    const text = await renderNotes({ valuesFiles: [exampleValues('existing-grafana')] });
    expect(text).toContain('Dashboards for your Grafana\'s sidecar: ConfigMaps labelled grafana_dashboard=1 in namespace monitoring, folder Tracebridge.');
    expect(await renderNotes()).not.toContain('sidecar');
  });

  it('off by default; a label that is no label key fails naming it', async () => {
    expect(sidecarMaps((await renderChart()).objects)).toEqual([]);
    expect(await renderError({ set: { 'grafana.dashboards.sidecar.enabled': 'true', 'grafana.dashboards.sidecar.label': 'grafana dashboard' } })).toContain(
      "at '/grafana/dashboards/sidecar/label'",
    );
  });

  it('examples/existing-grafana: the dashboards in the monitoring namespace, in folder Tracebridge, and no Grafana of ours', async () => {
    const { objects } = await renderExample('existing-grafana');
    expect(objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'tracebridge-grafana')).toBeUndefined();
    const maps = sidecarMaps(objects);
    expect(maps).toHaveLength(FILES.length);
    for (const map of maps) expect(map.metadata).toMatchObject({ namespace: 'monitoring', annotations: { grafana_folder: 'Tracebridge' } });
  });
});

describe('an existing Prometheus as our Grafana\'s datasource (grafana.datasources.prometheusUrl)', () => {
  it('by default the in-cluster Prometheus', async () => {
    const prometheus = datasources((await renderChart()).objects).find((d) => d.uid === 'prometheus')!;
    expect(prometheus.url).toBe('http://tracebridge-prometheus:9090');
  });

  it('the URL given instead, and no in-cluster Prometheus needed', async () => {
    const { objects } = await renderExample('external-prometheus');
    expect(objects.filter((o) => o.metadata.name === 'tracebridge-prometheus')).toEqual([]);
    const prometheus = datasources(objects).find((d) => d.uid === 'prometheus')!;
    expect(prometheus.url).toBe('http://prometheus-operated.monitoring.svc:9090');
    // The dashboards' exemplars still link to our Jaeger.
    expect(datasources(objects).map((d) => d.uid)).toEqual(['prometheus', 'jaeger']);
  });

  it('required without the in-cluster Prometheus; a URL without a scheme fails naming the key', async () => {
    const missing = await renderError({ set: { 'prometheus.enabled': 'false' } });
    expect(missing).toContain("- at '/grafana/datasources/prometheusUrl': minLength: got 0, want 1");
    const noScheme = await renderError({ set: { 'prometheus.enabled': 'false', 'grafana.datasources.prometheusUrl': 'prometheus.monitoring:9090' } });
    expect(noScheme).toContain("at '/grafana/datasources/prometheusUrl': 'prometheus.monitoring:9090' does not match pattern");
  });

  it('without Grafana either, no URL is needed', async () => {
    const { objects } = await renderChart({ set: { 'prometheus.enabled': 'false', 'grafana.enabled': 'false' } });
    expect(objects.filter((o) => o.metadata.name.startsWith('tracebridge-grafana') || o.metadata.name.startsWith('tracebridge-prometheus'))).toEqual([]);
  });
});
