import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { collectorArgs, configDir, DESTINATIONS, fragmentsFor, parseDestinations, type Yaml } from '../../collector/fragments.ts';

/**
 * The collector merges the fragments itself (mappings merge, lists are replaced), so the
 * fragments must never rely on a list growing: these tests hold every fragment to that. That
 * the merged result is a working collector is proven by `otelcol validate` (test/e2e).
 */

type Mapping = { [key: string]: Yaml };
const read = (fragment: string) => parse(readFileSync(join(configDir, fragment), 'utf8')) as Mapping;
const isMapping = (v: Yaml | undefined): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Every value that is not a mapping, by its dotted path. */
function leaves(value: Mapping, path = ''): Map<string, Yaml> {
  const out = new Map<string, Yaml>();
  for (const [key, child] of Object.entries(value)) {
    const at = path ? `${path}.${key}` : key;
    if (isMapping(child) && Object.keys(child).length > 0) for (const [p, v] of leaves(child, at)) out.set(p, v);
    else out.set(at, child);
  }
  return out;
}

const shared = new Map([...leaves(read('base.yaml')), ...leaves(read('scrape/static.yaml')), ...leaves(read('scrape/kubernetes.yaml'))]);
type Pipeline = { receivers: string[]; processors?: string[]; exporters: string[] };
const pipelinesOf = (fragment: string) => ((read(fragment).service as { pipelines: Record<string, Pipeline> }).pipelines);

describe('the collector configuration fragments', () => {
  it('finds every destination from its fragment', () => {
    expect(DESTINATIONS).toEqual(['datadog', 'debug', 'grafanaCloud', 'jaeger', 'otlp', 'otlpHttp']);
  });

  it.each(DESTINATIONS)('destinations/%s.yaml only adds keys: whatever it sets, no other fragment sets', (destination) => {
    const own = leaves(read(`destinations/${destination}.yaml`));
    const others = DESTINATIONS.filter((d) => d !== destination).map((d) => leaves(read(`destinations/${d}.yaml`)));
    for (const [path, value] of own) {
      for (const other of others) expect(other.has(path), `${path} is set by two destinations`).toBe(false);
      // A key the shared fragments have, or one under a value they set, would replace theirs.
      const clash = [...shared.keys()].find((p) => p === path || path.startsWith(`${p}.`) || p.startsWith(`${path}.`));
      if (clash === undefined) continue;
      // The one exception allowed: restating a shared list with additions (an authenticator
      // must be a running extension), which replaces it with a superset.
      expect(clash, `${path} replaces ${clash} of the shared fragments`).toBe(path);
      expect(Array.isArray(value) && (shared.get(path) as Yaml[]).every((v) => value.includes(v)), `${path} drops an entry of the shared list`).toBe(true);
    }
  });

  it.each(DESTINATIONS)("destinations/%s.yaml's pipelines are its own, fed from the shared intake", (destination) => {
    const pipelines = pipelinesOf(`destinations/${destination}.yaml`);
    const connectors = Object.keys(read(`destinations/${destination}.yaml`).connectors ?? {});
    expect(Object.keys(pipelines).length).toBeGreaterThan(0);
    for (const [name, pipeline] of Object.entries(pipelines)) {
      expect(name).toMatch(/^(traces|metrics)\/\w+$/);
      for (const receiver of pipeline.receivers) expect([`forward/${name.split('/')[0]}`, ...connectors]).toContain(receiver);
    }
  });

  it('the intake processes each signal once and hands it on; what no destination takes is discarded', () => {
    const pipelines = pipelinesOf('base.yaml');
    expect(pipelines.traces).toEqual({
      receivers: ['otlp'],
      processors: ['memory_limiter', 'resource_detection', 'attributes/redact', 'transform/redact', 'batch'],
      exporters: ['forward/traces'],
    });
    expect(pipelines.metrics).toEqual({
      receivers: ['otlp', 'prometheus/api'],
      processors: ['memory_limiter', 'resource_detection', 'attributes/redact', 'batch'],
      exporters: ['forward/metrics'],
    });
    expect(pipelines['metrics/discard']).toEqual({ receivers: ['forward/metrics'], exporters: ['nop'] });
  });

  it('credentials are references to the environment, never values', () => {
    const text = DESTINATIONS.map((d) => readFileSync(join(configDir, `destinations/${d}.yaml`), 'utf8')).join('\n');
    expect(text).toContain('${env:GRAFANA_CLOUD_API_TOKEN}');
    expect(text).toContain('${env:DD_API_KEY}');
    expect(text).toContain('${env:OTLP_DESTINATION_AUTHORIZATION:-}');
  });

  it('scrapes the API at one address by default, every API pod in Kubernetes', () => {
    type Receivers = Record<string, { config: { scrape_configs: Record<string, unknown>[] } }>;
    const job = (scrape: 'static' | 'kubernetes') => (read(`scrape/${scrape}.yaml`).receivers as Receivers)['prometheus/api']!.config.scrape_configs[0]!;
    expect(job('static')).toMatchObject({ job_name: 'tracebridge-api', static_configs: [{ targets: ['${env:API_METRICS_TARGET}'] }] });
    expect(job('kubernetes')).toMatchObject({
      job_name: 'tracebridge-api',
      kubernetes_sd_configs: [{ role: 'pod', namespaces: { own_namespace: true }, selectors: [{ role: 'pod', label: '${env:API_POD_SELECTOR}' }] }],
    });
    expect(job('kubernetes')).not.toHaveProperty('static_configs');
  });
});

describe('the files a collector is given', () => {
  it('base first, then the scrape, then each destination once', () => {
    expect(fragmentsFor(['jaeger', 'debug', 'jaeger'])).toEqual(['base.yaml', 'scrape/static.yaml', 'destinations/jaeger.yaml', 'destinations/debug.yaml']);
    expect(fragmentsFor(['otlp'], 'kubernetes')).toEqual(['base.yaml', 'scrape/kubernetes.yaml', 'destinations/otlp.yaml']);
    expect(collectorArgs(['jaeger'])).toEqual(['--config', join(configDir, 'base.yaml'), '--config', join(configDir, 'scrape/static.yaml'), '--config', join(configDir, 'destinations/jaeger.yaml')]);
  });

  it('refuses an empty or unknown destination list', () => {
    expect(() => fragmentsFor([])).toThrow('enable at least one destination');
    expect(() => parseDestinations('')).toThrow('enable at least one destination');
    expect(() => parseDestinations('jaeger,zipkin')).toThrow('unknown destination(s) zipkin; known: datadog, debug, grafanaCloud, jaeger, otlp, otlpHttp');
    expect(parseDestinations(' jaeger , debug ')).toEqual(['jaeger', 'debug']);
  });
});
