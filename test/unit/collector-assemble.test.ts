import { describe, expect, it } from 'vitest';
import {
  assembleCollectorConfig,
  DESTINATIONS,
  mergeFragments,
  parseDestinations,
  type Destination,
} from '../../collector/assemble.ts';

type Pipelines = Record<string, { receivers: string[]; processors: string[]; exporters: string[] }>;
const pipelinesOf = (destinations: Destination[]) =>
  (assembleCollectorConfig(destinations).service as { pipelines: Pipelines }).pipelines;

describe('mergeFragments', () => {
  it('merges mappings, appends lists without repeats, and refuses conflicting scalars', () => {
    expect(mergeFragments({ a: { b: [1, 2], c: 'x' } }, { a: { b: [2, 3], d: true } })).toEqual({
      a: { b: [1, 2, 3], c: 'x', d: true },
    });
    expect(() => mergeFragments({ a: { c: 'x' } }, { a: { c: 'y' } })).toThrow('disagree at a.c');
  });
});

describe('assembleCollectorConfig', () => {
  it('jaeger alone: a traces pipeline to Jaeger; the metrics pipeline, with no exporter, is dropped', () => {
    const pipelines = pipelinesOf(['jaeger']);
    expect(Object.keys(pipelines)).toEqual(['traces']);
    expect(pipelines.traces).toEqual({
      receivers: ['otlp'],
      processors: ['memory_limiter', 'resource_detection', 'attributes/redact', 'transform/redact', 'batch'],
      exporters: ['otlp_grpc/jaeger'],
    });
  });

  it('every destination at once: each exporter in its pipelines, the Datadog connector feeding APM stats', () => {
    const config = assembleCollectorConfig([...DESTINATIONS]);
    const { pipelines, extensions } = config.service as { pipelines: Pipelines; extensions: string[] };
    expect(pipelines.traces!.exporters).toEqual([
      'otlp_grpc/jaeger', 'otlp_http/grafana_cloud', 'datadog/connector', 'datadog', 'otlp_grpc/otlp', 'otlp_http/otlp', 'debug',
    ]);
    expect(pipelines.metrics!.exporters).toEqual(['otlp_http/grafana_cloud', 'datadog', 'otlp_grpc/otlp', 'otlp_http/otlp', 'debug']);
    expect(pipelines['metrics/datadog_apm_stats']!.receivers).toEqual(['datadog/connector']);
    expect(extensions).toEqual(['health_check', 'basicauth/grafana_cloud']);
    // memory_limiter first, batch last, in every pipeline.
    for (const p of Object.values(pipelines)) {
      expect(p.processors[0]).toBe('memory_limiter');
      expect(p.processors.at(-1)).toBe('batch');
    }
  });

  it('credentials are references to the environment, never values', () => {
    const text = JSON.stringify(assembleCollectorConfig([...DESTINATIONS]));
    expect(text).toContain('${env:GRAFANA_CLOUD_API_TOKEN}');
    expect(text).toContain('${env:DD_API_KEY}');
    expect(text).toContain('${env:OTLP_DESTINATION_AUTHORIZATION:-}');
  });

  it('does not depend on the order destinations are given in', () => {
    expect(assembleCollectorConfig(['debug', 'jaeger'])).toEqual(assembleCollectorConfig(['jaeger', 'debug']));
  });

  it('refuses an empty or unknown destination list', () => {
    expect(() => assembleCollectorConfig([])).toThrow('enable at least one destination');
    expect(() => parseDestinations('jaeger,zipkin')).toThrow('unknown destination(s) zipkin');
    expect(parseDestinations(' jaeger , debug ')).toEqual(['jaeger', 'debug']);
  });

  it('scrapes the API at one address by default, every API pod in Kubernetes', () => {
    type Receivers = Record<string, { config: { scrape_configs: Record<string, unknown>[] } }>;
    const job = (scrape?: 'static' | 'kubernetes') =>
      (assembleCollectorConfig(['debug'], scrape ? { scrape } : {}).receivers as Receivers)['prometheus/api']!.config.scrape_configs[0]!;
    expect(job()).toMatchObject({ job_name: 'tracebridge-api', static_configs: [{ targets: ['${env:API_METRICS_TARGET:-127.0.0.1:9464}'] }] });
    expect(job('kubernetes')).toMatchObject({
      job_name: 'tracebridge-api',
      kubernetes_sd_configs: [{ role: 'pod', namespaces: { own_namespace: true }, selectors: [{ role: 'pod', label: '${env:API_POD_SELECTOR}' }] }],
    });
    expect(job('kubernetes')).not.toHaveProperty('static_configs');
  });
});

