import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { find, renderChart, renderError, renderExample, type K8sObject } from '../support/chart.ts';
import { kubectlValidate } from '../support/manifests.ts';

/**
 * The NetworkPolicies with the values' extensions: peers admitted to a component's client ports,
 * extra ingress rules, restricted egress (DNS, the release's peers, extra rules), and Grafana's
 * policy. Connections are judged by a small evaluator of NetworkPolicy semantics over the
 * rendered pods (their labels and named ports), as a CNI would for pods of the namespace.
 */

type Labels = Record<string, string>;
interface Port { port?: number | string; protocol?: string }
interface Peer { podSelector?: { matchLabels?: Labels; matchExpressions?: { key: string; operator: string; values: string[] }[] }; namespaceSelector?: unknown; ipBlock?: { cidr: string } }
interface Rule { from?: Peer[]; to?: Peer[]; ports?: Port[] }
interface PolicySpec { podSelector: { matchLabels: Labels }; policyTypes: string[]; ingress?: Rule[]; egress?: Rule[] }
interface Pod { component: string; labels: Labels; ports: Map<string, number> }

function podsOf(objects: K8sObject[]): Map<string, Pod> {
  const pods = new Map<string, Pod>();
  for (const o of objects) {
    type Template = { metadata: { labels: Labels }; spec: { containers: { ports?: { name: string; containerPort: number }[] }[] } };
    const template = (o.spec as { template?: Template } | undefined)?.template;
    if (!template) continue;
    const component = template.metadata.labels['app.kubernetes.io/component']!;
    pods.set(component, { component, labels: template.metadata.labels, ports: new Map(template.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => [p.name, p.containerPort] as const))) });
  }
  return pods;
}

const policiesOf = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => ({ name: o.metadata.name, spec: o.spec as PolicySpec }));

const selects = (selector: { matchLabels?: Labels }, labels: Labels) => Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

/** A peer of this namespace (namespace selectors and IP blocks name other traffic). */
function peerMatches(peer: Peer, pod: Pod): boolean {
  if (peer.namespaceSelector !== undefined || peer.ipBlock !== undefined || !peer.podSelector) return false;
  const { matchLabels = {}, matchExpressions = [] } = peer.podSelector;
  return selects({ matchLabels }, pod.labels) && matchExpressions.every((e) => e.operator === 'In' && e.values.includes(pod.labels[e.key]!));
}

const portMatches = (ports: Port[] | undefined, target: Pod, name: string) =>
  ports === undefined || ports.some((p) => p.port === undefined || p.port === name || p.port === target.ports.get(name));

/** Whether the policies let `from` open `to`'s port `name` (both directions checked). */
function allowed(objects: K8sObject[], from: Pod, to: Pod, name: string): boolean {
  if (!to.ports.has(name)) throw new Error(`${to.component} has no port ${name}`);
  const policies = policiesOf(objects);
  const side = (pod: Pod, type: 'Ingress' | 'Egress') => policies.filter((p) => p.spec.policyTypes.includes(type) && selects(p.spec.podSelector, pod.labels));
  const egress = side(from, 'Egress');
  const out = egress.length === 0 || egress.some((p) => (p.spec.egress ?? []).some((r) => (r.to === undefined || r.to.some((peer) => peerMatches(peer, to))) && portMatches(r.ports, to, name)));
  const ingress = side(to, 'Ingress');
  const into = ingress.length === 0 || ingress.some((p) => (p.spec.ingress ?? []).some((r) => (r.from === undefined || r.from.some((peer) => peerMatches(peer, from))) && portMatches(r.ports, to, name)));
  return out && into;
}

/** What the stack connects to inside the release: [from, to, port name]. */
const NEEDED: [string, string, string][] = [
  ['api', 'collector', 'otlp-grpc'],
  ['api', 'collector', 'otlp-http'],
  ['api', 'postgresql', 'postgresql'],
  ['collector', 'jaeger', 'otlp-grpc'],
  ['collector', 'api', 'metrics'],
  ['prometheus', 'api', 'metrics'],
  ['prometheus', 'collector', 'metrics'],
  ['grafana', 'prometheus', 'http'],
  ['grafana', 'jaeger', 'query-http'],
];
const COMPONENTS = ['api', 'collector', 'jaeger', 'prometheus', 'postgresql', 'grafana'];
const intruder: Pod = { component: 'intruder', labels: { app: 'intruder' }, ports: new Map() };

let extra: K8sObject[];
beforeAll(async () => {
  extra = (await renderExample('network-policies-extra')).objects;
});

describe('Grafana has a policy too', () => {
  it('no ingress but kubectl port-forward by default', async () => {
    const { objects } = await renderChart({ set: { 'networkPolicy.enabled': 'true' } });
    expect(policiesOf(objects).map((p) => p.name).sort()).toEqual(COMPONENTS.map((c) => `tracebridge-${c}`).sort());
    const grafana = find(objects, 'NetworkPolicy', 'tracebridge-grafana').spec as PolicySpec;
    expect(grafana).toMatchObject({ podSelector: { matchLabels: { 'app.kubernetes.io/component': 'grafana' } }, policyTypes: ['Ingress'], ingress: [] });
    const pods = podsOf(objects);
    for (const from of [...pods.values(), intruder]) expect(allowed(objects, from, pods.get('grafana')!, 'http'), from.component).toBe(false);
  });

  it('and the peers networkPolicy.grafana.from names (the ingress controller) on its http port', () => {
    const grafana = find(extra, 'NetworkPolicy', 'tracebridge-grafana').spec as PolicySpec;
    expect(grafana.ingress).toEqual([
      {
        from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'ingress-nginx' } }, podSelector: { matchLabels: { 'app.kubernetes.io/name': 'ingress-nginx' } } }],
        ports: [{ port: 'http', protocol: 'TCP' }],
      },
    ]);
  });

  it('no policy for a Grafana that is not installed', async () => {
    const { objects } = await renderChart({ set: { 'networkPolicy.enabled': 'true', 'grafana.enabled': 'false' } });
    expect(policiesOf(objects).map((p) => p.name)).not.toContain('tracebridge-grafana');
  });
});

describe('peers and rules from values', () => {
  it('networkPolicy.collector.from opens the OTLP ports (only) to other workloads', () => {
    const collector = find(extra, 'NetworkPolicy', 'tracebridge-collector').spec as PolicySpec;
    expect(collector.ingress).toContainEqual({
      from: [{ namespaceSelector: { matchLabels: { 'tracebridge.io/telemetry': 'enabled' } } }],
      ports: [{ port: 'otlp-grpc', protocol: 'TCP' }, { port: 'otlp-http', protocol: 'TCP' }],
    });
    // The chart's own rules stay.
    expect(collector.ingress).toHaveLength(3);
  });

  it('extraIngress is appended as given', () => {
    const prometheus = find(extra, 'NetworkPolicy', 'tracebridge-prometheus').spec as PolicySpec;
    expect(prometheus.ingress!.at(-1)).toEqual({ from: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } }], ports: [{ port: 'http', protocol: 'TCP' }] });
  });

  it('every port the policies name, ingress and egress, is a port of the pods it applies to', () => {
    const pods = podsOf(extra);
    const problems: string[] = [];
    for (const { name, spec } of policiesOf(extra)) {
      const own = [...pods.values()].filter((p) => selects(spec.podSelector, p.labels));
      for (const rule of spec.ingress ?? []) for (const port of rule.ports ?? []) if (typeof port.port === 'string' && !own.some((p) => p.ports.has(port.port as string))) problems.push(`${name} ingress ${port.port}`);
      for (const rule of spec.egress ?? []) {
        const targets = [...pods.values()].filter((p) => rule.to?.some((peer) => peerMatches(peer, p)));
        for (const port of rule.ports ?? []) if (typeof port.port === 'string' && !targets.some((p) => p.ports.has(port.port as string))) problems.push(`${name} egress ${port.port}`);
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('egress', () => {
  it('is restricted only for the components given extraEgress', () => {
    const types = Object.fromEntries(policiesOf(extra).map((p) => [p.name.replace('tracebridge-', ''), p.spec.policyTypes]));
    expect(types).toEqual({ api: ['Ingress'], collector: ['Ingress', 'Egress'], jaeger: ['Ingress'], prometheus: ['Ingress'], postgresql: ['Ingress'], grafana: ['Ingress', 'Egress'] });
  });

  it('restricted, it allows DNS first, then the release peers, then the rules given', () => {
    const egress = (find(extra, 'NetworkPolicy', 'tracebridge-collector').spec as PolicySpec).egress!;
    expect(egress[0]).toEqual({ ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }] });
    expect(egress.slice(-2)).toEqual([
      { to: [{ ipBlock: { cidr: '192.0.2.10/32' } }], ports: [{ port: 6443, protocol: 'TCP' }] },
      { ports: [{ port: 443, protocol: 'TCP' }] },
    ]);
  });

  it('with every component restricted, every connection the stack makes is still allowed, and no other', async () => {
    const set: Record<string, string> = { 'networkPolicy.enabled': 'true' };
    for (const c of COMPONENTS) set[`networkPolicy.${c}.extraEgress[0].ports[0].port`] = '443';
    const { objects } = await renderChart({ set });
    const pods = podsOf(objects);
    for (const c of COMPONENTS) expect((find(objects, 'NetworkPolicy', `tracebridge-${c}`).spec as PolicySpec).policyTypes, c).toEqual(['Ingress', 'Egress']);
    const connections: string[] = [];
    for (const from of pods.values()) {
      for (const to of pods.values()) {
        for (const port of to.ports.keys()) if (from !== to && allowed(objects, from, to, port)) connections.push(`${from.component} -> ${to.component}:${port}`);
      }
    }
    expect(connections.sort()).toEqual(NEEDED.map(([from, to, port]) => `${from} -> ${to}:${port}`).sort());
    for (const to of ['postgresql', 'collector', 'jaeger', 'prometheus', 'grafana']) for (const port of pods.get(to)!.ports.keys()) expect(allowed(objects, intruder, pods.get(to)!, port), `intruder -> ${to}:${port}`).toBe(false);
  });

  it('an external database: the API may reach its port anywhere', async () => {
    const { objects } = await renderChart({
      set: { 'networkPolicy.enabled': 'true', 'networkPolicy.api.extraEgress[0].ports[0].port': '443', 'postgresql.enabled': 'false', 'externalDatabase.host': 'db.example.com', 'externalDatabase.port': '6432', 'externalDatabase.existingSecret': 'db' },
    });
    expect((find(objects, 'NetworkPolicy', 'tracebridge-api').spec as PolicySpec).egress).toContainEqual({ ports: [{ port: 6432, protocol: 'TCP' }] });
  });

  it('a Jaeger elsewhere: the collector gets no rule to the in-cluster one', async () => {
    const { objects } = await renderChart({
      set: { 'networkPolicy.enabled': 'true', 'networkPolicy.collector.extraEgress[0].ports[0].port': '4317', 'jaeger.enabled': 'false', 'destinations.jaeger.endpoint': 'jaeger.example.com:4317' },
    });
    const egress = (find(objects, 'NetworkPolicy', 'tracebridge-collector').spec as PolicySpec).egress!;
    expect(JSON.stringify(egress)).not.toContain('"jaeger"');
    expect(egress.at(-1)).toEqual({ ports: [{ port: 4317 }] });
  });
});

describe('values', () => {
  it.each([
    ['a misspelt peer key', { 'networkPolicy.collector.from[0].podSelectr.matchLabels.app': 'x' }, "at '/networkPolicy/collector/from/0'"],
    ['a port name longer than 15', { 'networkPolicy.grafana.extraEgress[0].ports[0].port': 'a-very-long-port-name' }, "at '/networkPolicy/grafana/extraEgress/0/ports/0/port'"],
    ['an unknown protocol', { 'networkPolicy.jaeger.extraIngress[0].ports[0].protocol': 'HTTP' }, "at '/networkPolicy/jaeger/extraIngress/0/ports/0/protocol'"],
    ['from on the API, whose http is open to all', { 'networkPolicy.api.from[0].podSelector.matchLabels.app': 'x' }, "additional properties 'from' not allowed"],
  ])('refuse %s, naming the key', async (_case, set, message) => {
    expect(await renderError({ set: { 'networkPolicy.enabled': 'true', ...set } })).toContain(message);
  });

  it('examples/network-policies-extra is valid Kubernetes (kubectl-validate 1.35)', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'tracebridge-netpol-')), 'extra.yaml');
    await writeFile(file, (await renderExample('network-policies-extra')).text);
    expect(await kubectlValidate(file, '1.35')).toMatchObject({ ok: true });
  });
});
