import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { KNOWN_ENV, loadConfig } from '../../api/src/config.ts';
import { EXAMPLES, exampleValues, find, podSpecs, renderExample, type Container } from '../support/chart.ts';

/**
 * Every variable the chart sets on the API's containers is one the API reads (api/src/config.ts
 * is its only reader of the environment), and the API accepts the chart's env as rendered: a
 * name the chart misspells would otherwise be ignored, or stop every pod. And the pod's
 * termination budget covers what the API does after SIGTERM.
 */

/** The env as the pod would get it: values as rendered, Secrets and the downward API stand-ins. */
function envOf(container: Container): Record<string, string> {
  return Object.fromEntries(
    (container.env ?? []).map((e) => [e.name, e.value ?? (e.name === 'DATABASE_URL' ? 'postgresql://u@h/db' : 'from-the-cluster')]),
  );
}

/** The examples that deploy the API (api.enabled is not false). */
const WITH_API = EXAMPLES.filter((example) => (parse(readFileSync(exampleValues(example), 'utf8')) as { api?: { enabled?: boolean } }).api?.enabled !== false);

describe.each(WITH_API)('examples/%s: the API containers', (example) => {
  it('set only variables the API reads, and the API accepts them', async () => {
    const { spec } = podSpecs([find((await renderExample(example)).objects, 'Deployment', 'tracebridge-api')])[0]!;
    // The chart's own containers; extraContainers and initContainers from values are the user's.
    const containers = [...spec.containers, ...(spec.initContainers ?? [])].filter((c) => ['api', 'migrate'].includes(c.name));
    expect(containers.map((c) => c.name).sort()).toEqual(['api', 'migrate']);
    for (const container of containers) {
      const env = envOf(container);
      expect(Object.keys(env).length, container.name).toBeGreaterThan(3);
      expect(Object.keys(env).filter((name) => !KNOWN_ENV.has(name)), container.name).toEqual([]);
      expect(() => loadConfig(env), container.name).not.toThrow();
    }
  });
});

describe('the API pod on termination', () => {
  // After the drain the API closes its pool (bounded at 1 s) and flushes spans (bounded at 5 s).
  const AFTER_DRAIN_MS = 6000;

  it.each(WITH_API)('examples/%s: the grace period covers preStop, the drain the API reads and the flush', async (example) => {
    const { spec } = podSpecs([find((await renderExample(example)).objects, 'Deployment', 'tracebridge-api')])[0]!;
    const pod = spec as typeof spec & { terminationGracePeriodSeconds: number };
    const api = pod.containers[0] as Container & { lifecycle: { preStop: { sleep: { seconds: number } } } };
    const preStopMs = api.lifecycle.preStop.sleep.seconds * 1000;
    const { shutdownTimeoutMs } = loadConfig(envOf(api));
    expect(preStopMs).toBeGreaterThan(0);
    expect(shutdownTimeoutMs).toBe(20_000);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(preStopMs + shutdownTimeoutMs + AFTER_DRAIN_MS);
  });
});

describe('the check is not a rubber stamp', () => {
  it('a misspelt name in api.extraEnv is caught', async () => {
    const rendered = await renderExample('kind', { set: { 'api.extraEnv[0].name': 'DB_POOL_MAXX', 'api.extraEnv[0].value': '20' } });
    const api = podSpecs([find(rendered.objects, 'Deployment', 'tracebridge-api')])[0]!.spec.containers[0]!;
    const env = envOf(api);
    expect(Object.keys(env).filter((name) => !KNOWN_ENV.has(name))).toEqual(['DB_POOL_MAXX']);
    expect(() => loadConfig(env)).toThrow('DB_POOL_MAXX: not a variable the API reads; did you mean DB_POOL_MAX?');
  });
});
