import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dataOf, EXAMPLES, exampleValues, find, renderExample } from '../support/chart.ts';
import { KUBERNETES_VERSIONS, kubeLint, kubectlValidate } from '../support/manifests.ts';
import { toolBinary } from '../support/tools.ts';

/**
 * Every object of every example is valid Kubernetes for each version we support (the official
 * OpenAPI schemas, offline) and passes kube-linter; both tools are shown to reject bad input.
 */

const run = promisify(execFile);
const manifests = new Map<string, string>();
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tracebridge-manifests-'));
  for (const example of EXAMPLES) {
    const file = join(dir, `${example}.yaml`);
    await writeFile(file, (await renderExample(example)).text);
    manifests.set(example, file);
  }
});

describe('kubectl-validate against the Kubernetes OpenAPI schemas', () => {
  const cases = EXAMPLES.flatMap((example) => KUBERNETES_VERSIONS.map((version) => [example, version] as const));
  it.each(cases)('examples/%s is valid on Kubernetes %s', async (example, version) => {
    expect(await kubectlValidate(manifests.get(example)!, version)).toEqual({ ok: true, output: expect.any(String) as string });
  });

  it.each(KUBERNETES_VERSIONS)('rejects a wrong type and an unknown field on %s', async (version) => {
    const bad = join(dir, 'bad.yaml');
    const text = (await run('cat', [manifests.get('kind')!])).stdout;
    await writeFile(bad, text.replace('revisionHistoryLimit: 3', 'revisionHistoryLimit: three').replace('automountServiceAccountToken: false', 'automountServiceAccountTokens: false'));
    const result = await kubectlValidate(bad, version);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/revisionHistoryLimit/);
    expect(result.output).toMatch(/automountServiceAccountTokens/);
  });
});

describe('kube-linter', () => {
  it.each(EXAMPLES)('examples/%s has no findings', async (example) => {
    const result = await kubeLint(manifests.get(example)!);
    expect(result.output).toContain('No lint errors found');
    expect(result.ok).toBe(true);
  });

  it('flags what it should: containers with a writable root filesystem', async () => {
    const bad = join(dir, 'bad-lint.yaml');
    const text = (await run('cat', [manifests.get('kind')!])).stdout;
    await writeFile(bad, text.replace(/readOnlyRootFilesystem: true/g, 'readOnlyRootFilesystem: false'));
    const result = await kubeLint(bad);
    expect(result.ok).toBe(false);
    expect(result.output).toMatch(/check: no-read-only-root-fs/);
  });
});

describe('promtool check config', () => {
  const promtool = () => toolBinary('PROMTOOL_BIN');

  // The examples that run the in-cluster Prometheus (the others use an existing one).
  const withPrometheus = EXAMPLES.filter((example) => (parse(readFileSync(exampleValues(example), 'utf8')) as { prometheus?: { enabled?: boolean } }).prometheus?.enabled !== false);

  it('most examples run the in-cluster Prometheus', () => {
    expect(withPrometheus.length).toBeGreaterThan(EXAMPLES.length / 2);
  });

  it.each(withPrometheus)("examples/%s: the in-cluster Prometheus configuration is valid", async (example) => {
    const config = dataOf(find((await renderExample(example)).objects, 'ConfigMap', 'tracebridge-prometheus'))['prometheus.yml']!;
    const file = join(dir, `prometheus-${example}.yml`);
    await writeFile(file, config);
    const { stdout } = await run(promtool(), ['check', 'config', file]);
    expect(stdout).toContain('SUCCESS');
  });

  it('and rejects an invalid one', async () => {
    const file = join(dir, 'prometheus-bad.yml');
    await writeFile(file, 'scrape_configs:\n  - job_name: x\n    kubernetes_sd_configs:\n      - role: pods\n');
    await expect(run(promtool(), ['check', 'config', file])).rejects.toThrow();
  });
});
