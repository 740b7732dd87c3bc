import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderChart, type K8sObject } from '../support/chart.ts';
import { kubectlValidate } from '../support/manifests.ts';

/**
 * Object names for any release name helm accepts (at most 53 characters, dots allowed, a digit
 * first allowed), with and without nameOverride/fullnameOverride, checked with the rules the
 * API server applies.
 */

// Every optional object the chart has, so that every name is rendered.
const EVERYTHING = {
  'networkPolicy.enabled': 'true',
  'api.autoscaling.enabled': 'true',
  'api.autoscaling.minReplicas': '2',
  'api.podDisruptionBudget.enabled': 'true',
  'destinations.datadog.enabled': 'true',
  'destinationCredentials.create': 'true',
  'destinationCredentials.datadog.apiKey': 'k',
};

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** What the API server (and the StatefulSet controller) would refuse in these objects. */
function nameProblems(objects: K8sObject[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const labels = (at: string, map: Record<string, string> | undefined) => {
    for (const [key, value] of Object.entries(map ?? {})) if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) problems.push(`${at}: label ${key}=${value}`);
  };
  for (const o of objects) {
    const { name } = o.metadata;
    const at = `${o.kind}/${name}`;
    if (seen.has(at)) problems.push(`${at}: twice`);
    seen.add(at);
    if (name.length > 253 || !DNS1123_SUBDOMAIN.test(name)) problems.push(`${at}: not a DNS-1123 subdomain`);
    // One rule for every name the chart makes: at most 52, what a StatefulSet needs.
    if (name.length > 52) problems.push(`${at}: ${name.length} characters`);
    if (o.kind === 'Service' && !DNS1035_LABEL.test(name)) problems.push(`${at}: not a DNS-1035 label`);
    if (['StatefulSet', 'Pod'].includes(o.kind) && !DNS1123_LABEL.test(name)) problems.push(`${at}: not a DNS-1123 label (pod host name)`);
    labels(at, o.metadata.labels);
    const spec = o.spec as { template?: { metadata?: { labels?: Record<string, string> } }; selector?: { matchLabels?: Record<string, string> }; serviceName?: string } | undefined;
    labels(`${at} pod template`, spec?.template?.metadata?.labels);
    labels(`${at} selector`, spec?.selector?.matchLabels);
    if (o.kind === 'StatefulSet' && !objects.some((s) => s.kind === 'Service' && s.metadata.name === spec?.serviceName)) problems.push(`${at}: serviceName ${spec?.serviceName} is no Service`);
  }
  return problems;
}

// Names whose cut falls right after a "-" for the components' lengths: the prefix before
// "-api" is cut at 48, before "-postgresql" at 41, before "-destination-credentials" at 28.
const dashAt = (position: number, length = 53) => `${'a'.repeat(position - 1)}-${'b'.repeat(length - position)}`;
const RELEASES = [
  'x',
  'ab',
  '1st',
  '123',
  'a.b',
  'obs',
  'tracebridge',
  'my-tracebridge-prod',
  'r'.repeat(30),
  'r'.repeat(40),
  'r'.repeat(41),
  'r'.repeat(52),
  'r'.repeat(53),
  dashAt(48),
  dashAt(41),
  dashAt(40),
  dashAt(28),
  `${'1'.repeat(40)}.${'2'.repeat(12)}`, // a YAML number unless quoted
  `${'t'.repeat(30)}-tracebridge-${'u'.repeat(10)}`,
];
const OVERRIDES: [string, Record<string, string>][] = [
  ['no override', {}],
  ['nameOverride of 40', { nameOverride: `n${'-'.repeat(1)}${'o'.repeat(38)}` }],
  ['fullnameOverride of 52', { fullnameOverride: `${'f'.repeat(39)}-${'g'.repeat(12)}` }],
];

describe('object names for release names of any length', () => {
  it.each(OVERRIDES)('every name, label and Service is valid: %s', async (_case, overrides) => {
    const problems: string[] = [];
    for (const release of RELEASES) {
      const { objects } = await renderChart({ release, set: { ...EVERYTHING, ...overrides } });
      expect(objects.length).toBeGreaterThan(30);
      problems.push(...nameProblems(objects).map((p) => `${release}: ${p}`));
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it('a 53-character release keeps a recognisable prefix and a full component suffix, one per component', async () => {
    const { objects } = await renderChart({ release: 'r'.repeat(53), set: EVERYTHING });
    const byKind = (kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name).sort();
    expect(byKind('StatefulSet')).toEqual([`${'r'.repeat(41)}-postgresql`]);
    expect(byKind('Secret')).toContain(`${'r'.repeat(28)}-destination-credentials`);
    expect(byKind('Service')).toEqual(
      ['api', 'collector', 'grafana', 'jaeger', 'postgresql', 'prometheus'].map((c) => `${'r'.repeat(51 - c.length)}-${c}`).sort(),
    );
    // The name app.kubernetes.io/instance selects by is the release itself.
    for (const o of objects) expect(o.metadata.labels?.['app.kubernetes.io/instance'], `${o.kind}/${o.metadata.name}`).toBe('r'.repeat(53));
  });

  it('a prefix cut right before a "-" leaves no "--" in the name', async () => {
    const { objects } = await renderChart({ release: dashAt(41), set: EVERYTHING });
    const names = objects.map((o) => o.metadata.name);
    expect(names).toContain(`${'a'.repeat(40)}-postgresql`);
    expect(names.filter((n) => n.includes('--'))).toEqual([]);
  });

  it('dots and a leading digit, which helm allows in release names, still give DNS-1035 Service names', async () => {
    const names = async (release: string) => (await renderChart({ release })).objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.name);
    expect(await names('a.b')).toContain('a-b-tracebridge-api');
    expect(await names('1st')).toContain('tracebridge-1st-api');
  });

  it('short names are unchanged: the release name plus the chart name', async () => {
    const { objects } = await renderChart({ release: 'demo' });
    expect(objects.filter((o) => o.kind === 'StatefulSet').map((o) => o.metadata.name)).toEqual(['demo-tracebridge-postgresql']);
  });

  it('kubectl-validate accepts the render of a 53-character release', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'tracebridge-names-')), 'long.yaml');
    await writeFile(file, (await renderChart({ release: dashAt(41), set: EVERYTHING })).text);
    const result = await kubectlValidate(file, '1.35');
    expect(result.output).not.toMatch(/error/i);
    expect(result.ok).toBe(true);
  });

  it('the checks above reject what the API server would: the names before this rule', () => {
    const old = (release: string, component: string) => `${`${release}-tracebridge`.slice(0, 52)}-${component}`;
    const objects: K8sObject[] = [
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: old('r'.repeat(53), 'postgresql') }, spec: { serviceName: 'x' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: '1st-tracebridge-api' } },
    ];
    expect(nameProblems(objects)).toEqual([
      `StatefulSet/${old('r'.repeat(53), 'postgresql')}: 63 characters`,
      `StatefulSet/${old('r'.repeat(53), 'postgresql')}: serviceName x is no Service`,
      'Service/1st-tracebridge-api: not a DNS-1035 label',
    ]);
  });
});
