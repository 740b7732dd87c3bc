import { describe, expect, it } from 'vitest';
import { GENERATED_PASSWORD_ANNOTATION } from '../../cdk8s/src/index.ts';
import { EXAMPLES, renderExample, type K8sObject, type RenderOptions } from '../support/chart.ts';
import { objectKey, synthExample, withoutSource, type SynthOptions } from '../support/cdk8s.ts';

/**
 * The cdk8s app synthesizes the chart's objects through helm, so for every example (whatever
 * charts/tracebridge/examples/ holds) `cdk8s synth` equals `helm template --skip-tests`, but for
 * the two things the app changes on purpose: app.kubernetes.io/managed-by says cdk8s, and the
 * generated passwords, new on every render, are compared by their keys.
 */

const MANAGED_BY = 'app.kubernetes.io/managed-by';

function comparable(object: K8sObject, manager: 'Helm' | 'cdk8s'): K8sObject {
  const o = structuredClone(object);
  const relabel = (labels?: Record<string, string>) => {
    if (labels?.[MANAGED_BY] === manager) labels[MANAGED_BY] = '<tool>';
  };
  relabel(o.metadata.labels);
  relabel((o.spec as { template?: { metadata?: { labels?: Record<string, string> } } } | undefined)?.template?.metadata?.labels);
  if (o.kind === 'Secret' && o.metadata.annotations?.[GENERATED_PASSWORD_ANNOTATION] === 'true') {
    o.data = Object.fromEntries(Object.entries(o.data as Record<string, string>).map(([k, v]) => [k, /^[A-Za-z0-9]{32}$/.test(Buffer.from(v, 'base64').toString()) ? '<generated>' : v]));
  }
  return o;
}

async function bothWays(example: string, options: RenderOptions & SynthOptions = {}) {
  const [helm, cdk8s] = await Promise.all([renderExample(example, { ...options, extraArgs: ['--skip-tests'] }), synthExample(example, options)]);
  return {
    helm: new Map(withoutSource(helm.objects).map((o) => [objectKey(o), comparable(o, 'Helm')])),
    cdk8s: new Map([...cdk8s.objects, ...cdk8s.secrets].map((o) => [objectKey(o), comparable(o, 'cdk8s')])),
  };
}

function expectSame({ helm, cdk8s }: Awaited<ReturnType<typeof bothWays>>) {
  expect([...cdk8s.keys()].sort()).toEqual([...helm.keys()].sort());
  for (const [key, object] of helm) expect(cdk8s.get(key), key).toEqual(object);
}

describe('cdk8s synth equals helm template', () => {
  it.each(EXAMPLES)('examples/%s', async (example) => {
    const both = await bothWays(example);
    expect(both.helm.size).toBeGreaterThan(15);
    expectSame(both);
  });

  it('with another release name and namespace', async () => {
    const both = await bothWays('kind', { release: 'demo', namespace: 'obs' });
    expect([...both.cdk8s.keys()]).toContain('Deployment/obs/demo-tracebridge-api');
    expectSame(both);
  });

  it('forgives nothing else: another field, or a generated password that is not 32 alphanumerics', async () => {
    const both = await bothWays('kind');
    const api = both.cdk8s.get('Deployment/tracebridge/tracebridge-api')!;
    (api.spec as { replicas: number }).replicas += 1;
    expect(() => expectSame(both)).toThrow(/Deployment\/tracebridge\/tracebridge-api/);
    const secret = both.helm.get('Secret/tracebridge/tracebridge-postgresql')!;
    expect(secret.data).toEqual({ password: '<generated>' });
    const short = Buffer.from('short').toString('base64');
    expect(comparable({ ...secret, data: { password: short } }, 'Helm').data).toEqual({ password: short });
  });
});
