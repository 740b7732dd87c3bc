import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { App, Chart } from 'cdk8s';
import { parse } from 'yaml';
import { TracebridgeStack } from '../../cdk8s/src/index.ts';
import { ATTR } from '../../api/src/telemetry/attributes.ts';
import { configArgs, configDir, tierFragmentsFor } from '../../collector/fragments.ts';
import { toolBinary } from '../support/backends.ts';
import {
  collectorOf,
  find,
  podSpecs,
  renderChart,
  renderError,
  renderExample,
  unreachableKubeconfig,
  writeCollectorFiles,
  type Container,
  type K8sObject,
} from '../support/chart.ts';

/**
 * collector.mode: the single Deployment (default) or per-node agents and load-balanced,
 * tail-sampling gateways. What a user installing either would see: the workloads, their
 * Services, RBAC, autoscaling and disruption budget, where the API sends, and refusals of the
 * set-ups that would count metrics twice or hang a drain.
 */

const run = promisify(execFile);

type Rule = { apiGroups: string[]; resources: string[]; verbs: string[] };
type Subject = { kind: string; name: string; namespace?: string };
interface Workload extends K8sObject {
  spec: {
    replicas?: number;
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: { serviceAccountName: string; containers: (Container & { args: string[]; ports: { hostPort?: number }[] })[]; hostNetwork?: boolean } };
  };
}

const envOf = (container: Container) => Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
const matches = (selector: Record<string, string>, labels: Record<string, string>) => Object.entries(selector).every(([k, v]) => labels[k] === v);
const named = (objects: K8sObject[], kind: string) => objects.filter((o) => o.kind === kind).map((o) => o.metadata.name);

describe('collector.mode deployment (the default)', () => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = (await renderChart()).objects;
  });

  it('is one collector Deployment behind a cluster-wide Service: no agents, no gateways', () => {
    expect(named(objects, 'Deployment')).toContain('tracebridge-collector');
    expect(named(objects, 'DaemonSet')).toEqual([]);
    expect(named(objects, 'Deployment').filter((n) => n.includes('gateway'))).toEqual([]);
    expect(named(objects, 'HorizontalPodAutoscaler')).toEqual([]);
    const service = find(objects, 'Service', 'tracebridge-collector').spec as { internalTrafficPolicy?: string };
    expect(service.internalTrafficPolicy).toBeUndefined();
    expect(named(objects, 'ClusterRole')).toEqual([]);
  });

  it('refuses more than one replica, which would scrape every API pod once per replica', async () => {
    const error = await renderError({ set: { 'collector.replicas': '2' } });
    expect(error).toContain('collector.replicas 2: in collector.mode deployment every replica scrapes every API pod, so each metric would be counted 2 times');
    expect(error).toContain('set collector.mode=agent-gateway');
  });

  it('refuses an unknown mode, naming the key', async () => {
    expect(await renderError({ set: { 'collector.mode': 'sidecar' } })).toMatch(/collector\.mode|\/collector\/mode/);
  });
});

describe('collector.mode agent-gateway (examples/agent-gateway)', () => {
  let objects: K8sObject[];
  let agent: Workload;
  let gateway: Workload;
  beforeAll(async () => {
    objects = (await renderExample('agent-gateway')).objects;
    agent = find(objects, 'DaemonSet', 'tracebridge-collector-agent') as Workload;
    gateway = find(objects, 'Deployment', 'tracebridge-collector-gateway') as Workload;
  });
  const agentContainer = () => agent.spec.template.spec.containers[0]!;
  const gatewayContainer = () => gateway.spec.template.spec.containers[0]!;

  it('replaces the single Deployment with an agent DaemonSet and a gateway Deployment', () => {
    expect(named(objects, 'Deployment')).not.toContain('tracebridge-collector');
    expect(named(objects, 'DaemonSet')).toEqual(['tracebridge-collector-agent']);
    // Both tiers are the collector component: the chart's Prometheus scrapes both, its
    // NetworkPolicy covers both; a tier label tells them apart.
    expect(agent.spec.selector.matchLabels).toMatchObject({ 'app.kubernetes.io/component': 'collector', 'tracebridge.io/collector-tier': 'agent' });
    expect(gateway.spec.selector.matchLabels).toMatchObject({ 'app.kubernetes.io/component': 'collector', 'tracebridge.io/collector-tier': 'gateway' });
    expect(matches(agent.spec.selector.matchLabels, gateway.spec.template.metadata.labels)).toBe(false);
    expect(matches(gateway.spec.selector.matchLabels, agent.spec.template.metadata.labels)).toBe(false);
  });

  it('the API keeps its one address, the collector Service, which now stays on the node: its agent', () => {
    const api = podSpecs([find(objects, 'Deployment', 'tracebridge-api')])[0]!.spec.containers[0]!;
    expect(envOf(api).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://tracebridge-collector:4317');
    const service = find(objects, 'Service', 'tracebridge-collector').spec as { internalTrafficPolicy: string; selector: Record<string, string> };
    expect(service.internalTrafficPolicy).toBe('Local');
    expect(matches(service.selector, agent.spec.template.metadata.labels)).toBe(true);
    expect(matches(service.selector, gateway.spec.template.metadata.labels)).toBe(false);
    // No hostPort (Pod Security baseline, so restricted, forbids it) and no host network.
    expect(agentContainer().ports.every((p) => p.hostPort === undefined)).toBe(true);
    expect(agent.spec.template.spec.hostNetwork).toBeUndefined();
  });

  it('an agent scrapes only the pods of its own node, and takes no destination and no credential', () => {
    const env = envOf(agentContainer());
    expect(env.K8S_NODE_NAME).toEqual({ fieldRef: { fieldPath: 'spec.nodeName' } });
    expect(env.API_POD_FIELD_SELECTOR).toBe('spec.nodeName=$(K8S_NODE_NAME)');
    // $(K8S_NODE_NAME) expands only if that variable comes first.
    const names = (agentContainer().env ?? []).map((e) => e.name);
    expect(names.indexOf('K8S_NODE_NAME')).toBeLessThan(names.indexOf('API_POD_FIELD_SELECTOR'));
    expect(env.GATEWAY_SERVICE).toBe('tracebridge-collector-gateway.tracebridge');
    expect(agentContainer().args).toEqual(tierFragmentsFor('agent', ['jaeger']).map((f) => `--config=/conf/${f.replace('/', '-')}`));
    expect(Object.keys(env).filter((n) => /JAEGER|GRAFANA|DD_|OTLP_DESTINATION/.test(n))).toEqual([]);
  });

  it('with collector.scrape.pods, the annotated pods too are those of its node', async () => {
    const rendered = (await renderExample('agent-gateway', { set: { 'collector.scrape.pods.enabled': 'true' } })).objects;
    const container = podSpecs([find(rendered, 'DaemonSet', 'tracebridge-collector-agent')])[0]!.spec.containers[0]!;
    expect(envOf(container).POD_SCRAPE_FIELD_SELECTOR).toBe('spec.nodeName=$(K8S_NODE_NAME)');
    const gatewayEnv = envOf(podSpecs([find(rendered, 'Deployment', 'tracebridge-collector-gateway')])[0]!.spec.containers[0]!);
    expect(Object.keys(gatewayEnv).filter((n) => /SCRAPE|POD_SELECTOR/.test(n))).toEqual([]);
  });

  it('the gateways sample with the policy of collector.tailSampling and hold the destinations', () => {
    expect(gatewayContainer().args).toEqual(tierFragmentsFor('gateway', ['jaeger']).map((f) => `--config=/conf/${f.replace('/', '-')}`));
    expect(envOf(gatewayContainer())).toMatchObject({
      TAIL_SAMPLING_DECISION_WAIT: '10s',
      TAIL_SAMPLING_NUM_TRACES: '50000',
      TAIL_SAMPLING_LATENCY_THRESHOLD_MS: '500',
      TAIL_SAMPLING_PERCENTAGE: '20',
      JAEGER_OTLP_ENDPOINT: 'tracebridge-jaeger:4317',
    });
  });

  it('the policy keeps errors, 5xx, slow and N+1-flagged traces, and a share of the rest', () => {
    type Policy = { name: string; type: string } & Record<string, unknown>;
    const gatewayYaml = parse(readFileSync(join(configDir, 'topology/gateway.yaml'), 'utf8')) as { processors: { tail_sampling: { policies: Policy[] } } };
    const policies = Object.fromEntries(gatewayYaml.processors.tail_sampling.policies.map((p) => [p.type, p[p.type]]));
    expect(policies).toEqual({
      status_code: { status_codes: ['ERROR'] },
      numeric_attribute: { key: 'http.response.status_code', min_value: 500, max_value: 599 },
      latency: { threshold_ms: '${env:TAIL_SAMPLING_LATENCY_THRESHOLD_MS}' },
      // The attribute the API sets on the SERVER span of a request with an N+1 run.
      boolean_attribute: { key: ATTR.nPlusOneDetected, value: true },
      probabilistic: { sampling_percentage: '${env:TAIL_SAMPLING_PERCENTAGE}' },
    });
  });

  it('the gateways: a headless Service for the load balancing, an HPA on CPU and memory, a PDB', () => {
    const headless = find(objects, 'Service', 'tracebridge-collector-gateway').spec as { clusterIP: string; selector: Record<string, string>; ports: { name: string; port: number }[] };
    expect(headless.clusterIP).toBe('None');
    expect(matches(headless.selector, gateway.spec.template.metadata.labels)).toBe(true);
    expect(matches(headless.selector, agent.spec.template.metadata.labels)).toBe(false);
    // OTLP for the agents; metrics for a ServiceMonitor (the collector Service reaches the agents only).
    expect(headless.ports).toMatchObject([{ name: 'otlp-grpc', port: 4317 }, { name: 'metrics', port: 8888 }]);

    // The HPA owns the replica count.
    expect(gateway.spec.replicas).toBeUndefined();
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'tracebridge-collector-gateway').spec as {
      scaleTargetRef: { kind: string; name: string };
      minReplicas: number;
      maxReplicas: number;
      metrics: { resource: { name: string; target: { averageUtilization: number } } }[];
    };
    expect(hpa.scaleTargetRef).toMatchObject({ kind: 'Deployment', name: 'tracebridge-collector-gateway' });
    expect([hpa.minReplicas, hpa.maxReplicas]).toEqual([2, 6]);
    expect(hpa.metrics.map((m) => m.resource.name)).toEqual(['cpu', 'memory']);

    const pdb = find(objects, 'PodDisruptionBudget', 'tracebridge-collector-gateway').spec as { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    expect(pdb.minAvailable).toBe(1);
    expect(pdb.selector.matchLabels).toEqual(gateway.spec.selector.matchLabels);
  });

  it('without autoscaling, collector.gateway.replicas (at least 2) and no HPA', async () => {
    const rendered: K8sObject[] = (await renderExample('agent-gateway', { set: { 'collector.gateway.autoscaling.enabled': 'false', 'collector.gateway.replicas': '3' } })).objects;
    expect((find(rendered, 'Deployment', 'tracebridge-collector-gateway') as Workload).spec.replicas).toBe(3);
    expect(named(rendered, 'HorizontalPodAutoscaler').filter((n) => n.includes('collector'))).toEqual([]);
    expect(await renderError({ set: { 'collector.mode': 'agent-gateway', 'collector.gateway.autoscaling.enabled': 'false', 'collector.gateway.replicas': '1' } })).toMatch(/gateway\/replicas|gateway\.replicas/);
  });

  it('refuses a budget that keeps every gateway (drains would hang), and max below min', async () => {
    expect(await renderError({ set: { 'collector.mode': 'agent-gateway', 'collector.gateway.podDisruptionBudget.minAvailable': '2' } })).toContain(
      'collector.gateway.podDisruptionBudget.minAvailable 2 keeps all 2 gateways',
    );
    expect(await renderError({ set: { 'collector.mode': 'agent-gateway', 'collector.gateway.autoscaling.maxReplicas': '2', 'collector.gateway.autoscaling.minReplicas': '3' } })).toContain(
      'collector.gateway.autoscaling.maxReplicas must be at least collector.gateway.autoscaling.minReplicas',
    );
  });

  it("RBAC: the agents read pods, namespaces and ReplicaSets cluster-wide and the gateways' endpoints; the gateways nothing", () => {
    const sa = agent.spec.template.spec.serviceAccountName;
    expect(sa).toBe('tracebridge-collector');
    const clusterRole = find(objects, 'ClusterRole', 'tracebridge-collector-agent') as K8sObject & { rules: Rule[] };
    expect(clusterRole.rules).toEqual([
      { apiGroups: [''], resources: ['pods', 'namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get', 'list', 'watch'] },
    ]);
    const binding = find(objects, 'ClusterRoleBinding', 'tracebridge-collector-agent') as K8sObject & { roleRef: { kind: string; name: string }; subjects: Subject[] };
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: 'tracebridge-collector-agent' });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa, namespace: 'tracebridge' }]);

    const role = find(objects, 'Role', 'tracebridge-collector-agent') as K8sObject & { rules: Rule[] };
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['endpoints'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
    ]);
    const roleBinding = find(objects, 'RoleBinding', 'tracebridge-collector-agent') as K8sObject & { subjects: Subject[] };
    expect(roleBinding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa, namespace: 'tracebridge' }]);

    expect(gateway.spec.template.spec.serviceAccountName).toBe('tracebridge-collector-gateway');
    expect((find(objects, 'ServiceAccount', 'tracebridge-collector-gateway') as K8sObject & { automountServiceAccountToken: boolean }).automountServiceAccountToken).toBe(false);
    const bound = objects.filter((o) => /RoleBinding$/.test(o.kind)).flatMap((o) => (o as K8sObject & { subjects: Subject[] }).subjects.map((s) => s.name));
    expect(bound).not.toContain('tracebridge-collector-gateway');
  });

  it('with NetworkPolicies, the agents may reach the gateways', async () => {
    const rendered = (await renderExample('agent-gateway', { set: { 'networkPolicy.enabled': 'true' } })).objects;
    type Peer = { podSelector: { matchExpressions: { key: string; values: string[] }[] } };
    const policy = find(rendered, 'NetworkPolicy', 'tracebridge-collector').spec as { ingress: { from: Peer[] }[] };
    const components = policy.ingress[0]!.from[0]!.podSelector.matchExpressions.find((e) => e.key === 'app.kubernetes.io/component')!.values;
    expect(components).toEqual(['api', 'test', 'collector']);
  });

  it.each(['agent', 'gateway'] as const)("the %s's configuration passes the real collector's validate with its env", async (tier) => {
    const workload = tier === 'agent' ? { kind: 'DaemonSet', name: 'tracebridge-collector-agent' } : { kind: 'Deployment', name: 'tracebridge-collector-gateway' };
    const chart = collectorOf(objects, workload);
    const files = writeCollectorFiles(chart, await mkdtemp(join(tmpdir(), `tracebridge-${tier}-otelcol-`)));
    const env = { PATH: process.env.PATH, ...chart.env, K8S_NODE_NAME: 'node-a', KUBECONFIG: unreachableKubeconfig() };
    const result = await run(toolBinary('OTELCOL_BIN'), ['validate', ...configArgs(files)], { env }).then(
      () => 'valid',
      (error: unknown) => (error as { stderr?: string }).stderr ?? String(error),
    );
    expect(result).toBe('valid');
    // Not a rubber stamp: without the node name (the downward API's), the agent is refused.
    if (tier === 'agent') {
      const withoutNode = Object.fromEntries(Object.entries(env).filter(([name]) => name !== 'K8S_NODE_NAME'));
      await expect(run(toolBinary('OTELCOL_BIN'), ['validate', ...configArgs(files)], { env: withoutNode })).rejects.toThrow(/K8S_NODE_NAME/);
    }
  });
});

describe('the topology in cdk8s', () => {
  it('is chosen by the same values; the agent and gateway objects are picked by tier', () => {
    const stack = new TracebridgeStack(new Chart(new App(), 'c', { namespace: 'tracebridge' }), 's', {
      namespace: 'tracebridge',
      values: { collector: { mode: 'agent-gateway', tailSampling: { percentage: 5 } } },
    });
    // The address the API and other apps send to: the node-local collector Service.
    expect(stack.otlpGrpcEndpoint).toBe('http://tracebridge-collector.tracebridge.svc:4317');
    expect(stack.apiObject('DaemonSet', 'collector', 'agent').name).toBe('tracebridge-collector-agent');
    const gateway = stack.apiObject('Deployment', 'collector', 'gateway').toJson() as { spec: { template: { spec: { containers: Container[] } } } };
    expect(envOf(gateway.spec.template.spec.containers[0]!).TAIL_SAMPLING_PERCENTAGE).toBe('5');
    expect(stack.apiObject('HorizontalPodAutoscaler', 'collector', 'gateway').name).toBe('tracebridge-collector-gateway');
    expect(() => stack.apiObject('Deployment', 'collector')).toThrow(/no Deployment for component collector/);
  });
});

describe('the topology fragments (collector/config/topology/)', () => {
  type Pipeline = { receivers?: string[]; processors?: string[]; exporters?: string[] };
  const pipelines = (file: string) => (parse(readFileSync(join(configDir, file), 'utf8')) as { service: { pipelines: Record<string, Pipeline> } }).service.pipelines;
  const base = pipelines('base.yaml');

  it("an agent restates base's intake lists with k8s_attributes right after the memory limiter, and nothing else changed", () => {
    const agent = pipelines('topology/agent.yaml');
    for (const signal of ['traces', 'metrics'] as const) {
      const expected = [...base[signal]!.processors!];
      expected.splice(1, 0, 'k8s_attributes');
      expect(agent[signal]!.processors).toEqual(expected);
    }
    expect(agent['traces/gateways']).toEqual({ receivers: ['forward/traces'], exporters: ['loadbalancing'] });
    expect(agent['metrics/gateways']).toEqual({ receivers: ['forward/metrics'], exporters: ['otlp_grpc/gateway'] });
  });

  it('a gateway samples between the memory limiter and the batch, and scrapes nothing', () => {
    const gateway = pipelines('topology/gateway.yaml');
    expect(gateway.traces!.processors).toEqual(['memory_limiter', 'tail_sampling', 'batch']);
    expect(gateway.metrics!.receivers).toEqual(['otlp']);
  });

  it('an agent takes the scrape and no destination; a gateway the destinations and no scrape', () => {
    expect(tierFragmentsFor('agent', ['jaeger', 'debug'])).toEqual(['base.yaml', 'scrape/kubernetes.yaml', 'topology/agent.yaml']);
    expect(tierFragmentsFor('gateway', ['jaeger', 'debug'])).toEqual(['base.yaml', 'destinations/jaeger.yaml', 'destinations/debug.yaml', 'topology/gateway.yaml']);
    expect(() => tierFragmentsFor('gateway', [])).toThrow('enable at least one destination');
  });
});
