import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collectorArgs, DESTINATIONS, type Destination } from '../../collector/fragments.ts';
import { toolBinary } from '../support/tools.ts';

const run = promisify(execFile);
const otelcol = () => toolBinary('OTELCOL_BIN');

/** Every non-empty subset of the destinations (63 pipelines). */
const combinations: Destination[][] = Array.from({ length: 2 ** DESTINATIONS.length - 1 }, (_, i) =>
  DESTINATIONS.filter((_, bit) => ((i + 1) >> bit) & 1),
);

const credentials = {
  // The addresses whoever runs the collector sets (the fragments give them no default).
  OTLP_GRPC_ENDPOINT: '127.0.0.1:4317',
  OTLP_HTTP_ENDPOINT: '127.0.0.1:4318',
  COLLECTOR_HEALTH_ENDPOINT: '127.0.0.1:13133',
  COLLECTOR_METRICS_HOST: '127.0.0.1',
  COLLECTOR_METRICS_PORT: '8888',
  API_METRICS_TARGET: '127.0.0.1:9464',
  JAEGER_OTLP_ENDPOINT: '127.0.0.1:14317',
  GRAFANA_CLOUD_INSTANCE_ID: '123456',
  GRAFANA_CLOUD_API_TOKEN: 'glc_test',
  GRAFANA_CLOUD_OTLP_ENDPOINT: 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp',
  DD_API_KEY: 'dd-test-key',
  OTLP_DESTINATION_ENDPOINT: 'tempo.example:4317',
  PATH: process.env.PATH ?? '',
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracebridge-validate-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the shipped collector pipeline: the fragments as the collector merges them', () => {
  it('covers every combination of the destinations', () => {
    expect(combinations).toHaveLength(63);
  });

  it.concurrent.each(combinations.map((c) => [c.join('+'), c] as const))('%s passes the real collector’s validate', async (_name, destinations) => {
    // Resolves only on exit code 0 (the validator's verdict); the negative cases below show failures surface.
    await expect(run(otelcol(), ['validate', ...collectorArgs(destinations)], { env: credentials })).resolves.toBeDefined();
  });

  it('the validator is not a rubber stamp: a pipeline naming a missing exporter fails', async () => {
    const file = join(dir, 'broken.yaml');
    await writeFile(file, JSON.stringify({ service: { pipelines: { 'traces/nowhere': { receivers: ['forward/traces'], exporters: ['otlp_grpc/nowhere'] } } } }));
    await expect(run(otelcol(), ['validate', ...collectorArgs(['debug']), '--config', file], { env: credentials })).rejects.toThrow(/otlp_grpc\/nowhere/);
  });

  it('a connector no pipeline receives from fails: why base.yaml discards what no destination takes', async () => {
    const file = join(dir, 'orphan.yaml');
    await writeFile(file, JSON.stringify({ connectors: { 'forward/orphan': {} }, service: { pipelines: { 'traces/orphan': { receivers: ['otlp'], exporters: ['forward/orphan'] } } } }));
    await expect(run(otelcol(), ['validate', ...collectorArgs(['jaeger']), '--config', file], { env: credentials })).rejects.toThrow(/forward\/orphan/);
  });
});
