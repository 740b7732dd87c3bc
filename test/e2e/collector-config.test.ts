import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assembleCollectorConfig, DESTINATIONS, toYaml, type Destination } from '../../collector/assemble.ts';
import { toolBinary } from '../support/tools.ts';

const run = promisify(execFile);
const otelcol = () => toolBinary('OTELCOL_BIN');

/** Every non-empty subset of the destinations (63 pipelines). */
const combinations: Destination[][] = Array.from({ length: 2 ** DESTINATIONS.length - 1 }, (_, i) =>
  DESTINATIONS.filter((_, bit) => ((i + 1) >> bit) & 1),
);

const credentials = {
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

describe('the shipped collector pipeline', () => {
  it.concurrent.each(combinations.map((c) => [c.join('+'), c] as const))('%s passes the real collector’s validate', async (name, destinations) => {
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, toYaml(assembleCollectorConfig(destinations)));
    // Resolves only on exit code 0 (the validator's verdict); the negative case below shows failures surface.
    await expect(run(otelcol(), ['validate', '--config', file], { env: credentials })).resolves.toBeDefined();
  });

  it('the validator is not a rubber stamp: a pipeline naming a missing exporter fails', async () => {
    const config = assembleCollectorConfig(['debug']);
    const service = config.service as { pipelines: { traces: { exporters: string[] } } };
    service.pipelines.traces.exporters.push('otlp_grpc/nowhere');
    const file = join(dir, 'broken.yaml');
    await writeFile(file, toYaml(config));
    await expect(run(otelcol(), ['validate', '--config', file], { env: credentials })).rejects.toThrow(/otlp_grpc\/nowhere/);
  });
});
