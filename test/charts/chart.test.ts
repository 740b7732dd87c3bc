import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  AS_INSTALLED,
  chartDir,
  EXAMPLES,
  exampleValues,
  find,
  goldenDir,
  goldenFiles,
  helmBinary,
  listGolden,
  renderChart,
  renderError,
  renderExample,
  podSpecs,
  type K8sObject,
  type Rendered,
} from '../support/chart.ts';
import { readmePath, readmeWithTable, valuesTable } from '../support/chart-docs.ts';

const run = promisify(execFile);

const rendered = new Map<string, Rendered>();
beforeAll(async () => {
  for (const example of EXAMPLES) rendered.set(example, await renderExample(example));
});
const objectsOf = (example: string) => rendered.get(example)!.objects;

describe('helm lint', () => {
  it.each(EXAMPLES)('--strict passes with examples/%s', async (example) => {
    const { stdout } = await run(helmBinary(), ['lint', '--strict', chartDir, '--values', exampleValues(example)]);
    expect(stdout).toContain('0 chart(s) failed');
    expect(stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });
});

describe('examples render to their golden files', () => {
  it('there is an example for each case the chart documents', () => {
    expect(EXAMPLES).toEqual(['agent-gateway', 'all-destinations', 'api-disabled', 'availability', 'datadog', 'destinations-tls', 'escape-hatches', 'existing-grafana', 'exposure-gateway-api', 'exposure-ingress', 'external-postgres', 'external-postgres-tls', 'external-prometheus', 'gitops', 'grafana-cloud', 'images-pinned', 'jaeger-cassandra', 'jaeger-elasticsearch', 'kind', 'local-cluster', 'network-policies-extra', 'prometheus-operator', 'shared-collector']);
  });

  it.each(EXAMPLES)('examples/%s/rendered is what the chart renders now (else: make chart-golden)', (example) => {
    const files = goldenFiles(rendered.get(example)!);
    expect(listGolden(example)).toEqual([...files.keys()].sort());
    for (const [path, text] of files) {
      expect(text, `${example}/rendered/${path} is stale: run make chart-golden`).toBe(readFileSync(join(goldenDir(example), path), 'utf8'));
    }
  });
});

describe('names and namespaces', () => {
  it('`helm install tracebridge` names every object tracebridge-<component>, in the release namespace', () => {
    for (const o of objectsOf('kind')) {
      expect(o.metadata.name).toMatch(/^tracebridge-[a-z-]+$/);
      expect(o.metadata.namespace).toBe('tracebridge');
      expect(o.metadata.labels?.['app.kubernetes.io/instance']).toBe('tracebridge');
      expect(o.metadata.labels?.['app.kubernetes.io/component']).toBeTruthy();
    }
  });

  it('another release name prefixes it', async () => {
    const { objects } = await renderChart({ release: 'demo', namespace: 'obs' });
    expect(find(objects, 'Deployment', 'demo-tracebridge-api').metadata.namespace).toBe('obs');
  });

  it('the default install is the whole stack', () => {
    const workloads = objectsOf('kind')
      .filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind))
      .map((o) => `${o.kind}/${o.metadata.name}`)
      .sort();
    expect(workloads).toEqual([
      'Deployment/tracebridge-api',
      'Deployment/tracebridge-collector',
      'Deployment/tracebridge-grafana',
      'Deployment/tracebridge-jaeger',
      'Deployment/tracebridge-prometheus',
      'StatefulSet/tracebridge-postgresql',
    ]);
  });
});

describe('Pod Security "restricted" and kind-sized resources', () => {
  it.each(EXAMPLES)('every pod and container of examples/%s', (example) => {
    for (const { owner, spec } of podSpecs(objectsOf(example))) {
      expect(spec.securityContext, owner).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      // A UID where the chart sets one; OpenShift's restricted-v2 assigns it (examples/escape-hatches).
      if (spec.securityContext?.runAsUser !== undefined) expect(spec.securityContext.runAsUser, owner).toBeGreaterThan(0);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const at = `${owner} container ${c.name}`;
        expect(c.securityContext, at).toEqual({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          runAsNonRoot: true,
          capabilities: { drop: ['ALL'] },
          seccompProfile: { type: 'RuntimeDefault' },
        });
        expect(Object.keys(c.resources?.requests ?? {}).sort(), at).toEqual(['cpu', 'memory']);
        expect(Object.keys(c.resources?.limits ?? {}).sort(), at).toEqual(['cpu', 'memory']);
        // repository:tag, or pinned: repository@sha256:<digest> (examples/images-pinned).
        expect(c.image, at).toMatch(/^[\w./-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$/);
        expect(c.image, at).not.toMatch(/:latest$/);
      }
    }
  });

  it('requests of the default install fit a kind node next to the control plane (< 1 CPU, < 2 GiB)', () => {
    const cpu = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) / 1000 : Number(q));
    const mem = (q: string) => Number(q.replace(/Mi$/, '')) * (q.endsWith('Gi') ? 1024 : 1);
    let cpus = 0;
    let mib = 0;
    for (const { spec } of podSpecs(objectsOf('kind').filter((o) => o.kind !== 'Pod'))) {
      for (const c of spec.containers) {
        cpus += cpu(c.resources!.requests!.cpu!);
        mib += mem(c.resources!.requests!.memory!);
      }
    }
    expect(cpus).toBeLessThan(1);
    expect(mib).toBeLessThan(2048);
  });

  it('only Prometheus and the collector get a service account token (they discover pods), each with a namespaced Role', () => {
    const objects = objectsOf('kind');
    for (const { owner, spec } of podSpecs(objects)) {
      if (['Deployment/tracebridge-prometheus', 'Deployment/tracebridge-collector'].includes(owner)) expect(spec.automountServiceAccountToken, owner).toBeUndefined();
      else expect(spec.automountServiceAccountToken, owner).toBe(false);
    }
    expect(objects.map((o) => o.kind)).not.toContain('ClusterRole');
    for (const component of ['prometheus', 'collector']) {
      expect(find(objects, 'Role', `tracebridge-${component}`).rules).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
      expect(find(objects, 'RoleBinding', `tracebridge-${component}`).subjects).toEqual([{ kind: 'ServiceAccount', name: `tracebridge-${component}`, namespace: 'tracebridge' }]);
    }
  });
});

describe('configuration changes roll the pods that read it', () => {
  const checksum = (objects: K8sObject[], name: string) =>
    ((find(objects, 'Deployment', name).spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata
      .annotations)['checksum/config'];

  it('enabling a destination changes the collector checksum annotation', () => {
    expect(checksum(objectsOf('kind'), 'tracebridge-collector')).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(objectsOf('grafana-cloud'), 'tracebridge-collector')).not.toBe(checksum(objectsOf('kind'), 'tracebridge-collector'));
  });
});

describe('destinations', () => {
  const collectorEnv = (objects: K8sObject[]) =>
    podSpecs([find(objects, 'Deployment', 'tracebridge-collector')])[0]!.spec.containers[0]!.env!;

  it('credentials reach the collector only as secretKeyRefs', () => {
    const env = collectorEnv(objectsOf('all-destinations'));
    const refs = Object.fromEntries(env.filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom]));
    expect(refs).toEqual({
      GRAFANA_CLOUD_INSTANCE_ID: { secretKeyRef: { name: 'grafana-cloud', key: 'instance-id' } },
      GRAFANA_CLOUD_API_TOKEN: { secretKeyRef: { name: 'grafana-cloud', key: 'api-token' } },
      DD_API_KEY: { secretKeyRef: { name: 'datadog', key: 'api-key' } },
      OTLP_DESTINATION_AUTHORIZATION: { secretKeyRef: { name: 'tempo-auth', key: 'authorization' } },
    });
  });

  it('receivers listen on 0.0.0.0 so kubectl port-forward reaches them', () => {
    const env = Object.fromEntries(collectorEnv(objectsOf('kind')).map((e) => [e.name, e.value]));
    expect(env).toMatchObject({ OTLP_GRPC_ENDPOINT: '0.0.0.0:4317', OTLP_HTTP_ENDPOINT: '0.0.0.0:4318' });
  });

  it('a chart-created credentials Secret, when asked for, is what the collector reads', async () => {
    const { objects } = await renderChart({
      set: {
        'destinations.datadog.enabled': 'true',
        'destinationCredentials.create': 'true',
        'destinationCredentials.datadog.apiKey': 'dd-test-key',
      },
    });
    const secret = find(objects, 'Secret', 'tracebridge-destination-credentials');
    expect(secret.data).toEqual({ 'api-key': Buffer.from('dd-test-key').toString('base64') });
    expect(collectorEnv(objects).find((e) => e.name === 'DD_API_KEY')?.valueFrom).toEqual({
      secretKeyRef: { name: 'tracebridge-destination-credentials', key: 'api-key' },
    });
  });
});

/**
 * Every refusal, with what helm prints. The schema (values.schema.json) prints each failed rule
 * as the key to change and what it must be, all at once; the rules it cannot say that way are
 * in templates/validate.yaml, which fails with a sentence.
 */
describe('impossible values fail naming the fix', () => {
  const GRAFANA_CLOUD = { 'destinations.grafanaCloud.enabled': 'true', 'destinations.grafanaCloud.endpoint': 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp' };
  const schema: [string, Record<string, string>, string[]][] = [
    [
      'no destination',
      { 'destinations.jaeger.enabled': 'false' },
      [
        "- at '/destinations': 'anyOf' failed",
        "  - at '/destinations/jaeger/enabled': value must be true",
        "  - at '/destinations/grafanaCloud/enabled': value must be true",
        "  - at '/destinations/datadog/enabled': value must be true",
        "  - at '/destinations/otlp/enabled': value must be true",
        "  - at '/destinations/debug/enabled': value must be true",
      ],
    ],
    ['Jaeger destination without a Jaeger', { 'jaeger.enabled': 'false' }, ["- at '/jaeger/enabled': value must be true", "- at '/destinations/jaeger/endpoint': minLength: got 0, want 1"]],
    ['Grafana Cloud without an endpoint', { ...GRAFANA_CLOUD, 'destinations.grafanaCloud.endpoint': '', 'destinations.grafanaCloud.existingSecret': 'gc' }, ["- at '/destinations/grafanaCloud/endpoint': '' does not match pattern '^https://.+/otlp/?$'"]],
    [
      'Grafana Cloud with a gRPC endpoint',
      { ...GRAFANA_CLOUD, 'destinations.grafanaCloud.endpoint': 'otlp-gateway-prod-eu-west-2.grafana.net:4317', 'destinations.grafanaCloud.existingSecret': 'gc' },
      ["- at '/destinations/grafanaCloud/endpoint': 'otlp-gateway-prod-eu-west-2.grafana.net:4317' does not match pattern '^https://.+/otlp/?$'"],
    ],
    [
      'Grafana Cloud with a /v1/traces path',
      { ...GRAFANA_CLOUD, 'destinations.grafanaCloud.endpoint': 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp/v1/traces', 'destinations.grafanaCloud.existingSecret': 'gc' },
      ["- at '/destinations/grafanaCloud/endpoint': 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp/v1/traces' does not match pattern '^https://.+/otlp/?$'"],
    ],
    [
      'Grafana Cloud without credentials',
      GRAFANA_CLOUD,
      [
        "- at '/destinations/grafanaCloud/existingSecret': minLength: got 0, want 1",
        "- at '/destinationCredentials/create': value must be true",
        "- at '/destinationCredentials/grafanaCloud/instanceId': minLength: got 0, want 1",
        "- at '/destinationCredentials/grafanaCloud/apiToken': minLength: got 0, want 1",
      ],
    ],
    [
      'Grafana Cloud with half the chart-created credentials',
      { ...GRAFANA_CLOUD, 'destinationCredentials.create': 'true', 'destinationCredentials.grafanaCloud.instanceId': '0', 'destinationCredentials.grafanaCloud.apiToken': 't' },
      ["- at '/destinations/grafanaCloud/existingSecret': minLength: got 0, want 1", "- at '/destinationCredentials/grafanaCloud/instanceId': minimum: got 0, want 1"],
    ],
    [
      'Datadog without a key',
      { 'destinations.datadog.enabled': 'true' },
      ["- at '/destinations/datadog/existingSecret': minLength: got 0, want 1", "- at '/destinationCredentials/create': value must be true", "- at '/destinationCredentials/datadog/apiKey': minLength: got 0, want 1"],
    ],
    ['OTLP without an endpoint', { 'destinations.otlp.enabled': 'true' }, ["- at '/destinations/otlp/endpoint': minLength: got 0, want 1"]],
    [
      'OTLP/HTTP with a host:port',
      { 'destinations.otlp.enabled': 'true', 'destinations.otlp.protocol': 'http', 'destinations.otlp.endpoint': 'tempo:4318' },
      ["- at '/destinations/otlp/endpoint': 'tempo:4318' does not match pattern '^https?://'", "- at '/destinations/otlp/protocol': value must be 'grpc'"],
    ],
    ...(['grafanaCloud', 'datadog', 'otlp'] as const).map((name): [string, Record<string, string>, string[]] => {
      const [key, value] = ({ grafanaCloud: ['apiToken', 't'], datadog: ['apiKey', 'k'], otlp: ['authorization', 'Bearer x'] } as const)[name];
      return [
        `${name}: both existingSecret and chart-created credentials`,
        { ...(name === 'grafanaCloud' ? GRAFANA_CLOUD : { 'destinations.otlp.endpoint': 'tempo:4317' }), [`destinations.${name}.enabled`]: 'true', [`destinations.${name}.existingSecret`]: 's', 'destinationCredentials.create': 'true', [`destinationCredentials.${name}.${key}`]: value },
        [`- at '/destinations/${name}/existingSecret': maxLength: got 1, want 0`, `- at '/destinationCredentials/${name}/${key}': maxLength: got ${value.length}, want 0`],
      ];
    }),
    ['external database without a host or password Secret', { 'postgresql.enabled': 'false' }, ["- at '/externalDatabase/host': minLength: got 0, want 1", "- at '/externalDatabase/existingSecret': minLength: got 0, want 1"]],
    ['external database without a password Secret', { 'postgresql.enabled': 'false', 'externalDatabase.host': 'db' }, ["- at '/externalDatabase/existingSecret': minLength: got 0, want 1"]],
    ['Grafana without a Prometheus', { 'prometheus.enabled': 'false' }, ["- at '/prometheus/enabled': value must be true", "- at '/grafana/datasources/prometheusUrl': minLength: got 0, want 1"]],
  ];
  it.each(schema)('the schema: %s', async (_name, set, lines) => {
    const error = await renderError({ set });
    expect(error).toContain("Error: values don't meet the specifications of the schema(s) in the following chart(s):\ntracebridge:\n");
    const printed = error.split('\n').map((line) => line.trim());
    for (const line of lines) expect(printed, error).toContain(line.trim());
  });

  it('the schema reports every failed rule at once', async () => {
    const error = await renderError({ set: { 'prometheus.enabled': 'false', 'postgresql.enabled': 'false', 'destinations.datadog.enabled': 'true' } });
    for (const path of ['/prometheus/enabled', '/externalDatabase/host', '/destinations/datadog/existingSecret']) expect(error).toContain(`at '${path}'`);
  });

  const templates: [string, Record<string, string>, string][] = [
    [
      'Jaeger endpoint with a scheme',
      { 'destinations.jaeger.endpoint': 'http://jaeger:4317' },
      'destinations.jaeger.endpoint "http://jaeger:4317": give host:port of Jaeger\'s OTLP/gRPC receiver, without a scheme (e.g. jaeger-collector.observability:4317)',
    ],
    [
      'OTLP/gRPC with an HTTP path',
      { 'destinations.otlp.enabled': 'true', 'destinations.otlp.protocol': 'grpc', 'destinations.otlp.endpoint': 'https://tempo/v1/traces' },
      'destinations.otlp.endpoint "https://tempo/v1/traces" looks like an OTLP/HTTP path: set destinations.otlp.protocol=http and give the base URL',
    ],
    ['autoscaling max below min', { 'api.autoscaling.enabled': 'true', 'api.autoscaling.minReplicas': '3', 'api.autoscaling.maxReplicas': '2' }, 'api.autoscaling.maxReplicas must be at least api.autoscaling.minReplicas'],
  ];
  it.each(templates)('templates/validate.yaml: %s', async (_name, set, message) => {
    expect(await renderError({ set })).toMatch(new RegExp(`Error: execution error at \\(tracebridge/templates/validate\\.yaml:\\d+:\\d+\\): ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  });

  it('the schema refuses unknown keys and wrong types', async () => {
    // A component's keys are its own and the shared escape hatches ($defs/pod): an unknown one is a "false schema" at its path.
    expect(await renderError({ set: { 'api.replica': '2' } })).toContain("- at '/api/replica': false schema");
    expect(await renderError({ set: { 'api.samplingRatio': '2' } })).toMatch(/samplingRatio/);
    expect(await renderError({ set: { 'destinations.datadog.site': 'datadog.com' } })).toMatch(/site/);
    expect(await renderError({ set: { 'destinations.zipkin.enabled': 'true' } })).toMatch(/additional properties 'zipkin' not allowed/);
  });
});

describe('optional objects', () => {
  it('HPA, PDB and NetworkPolicies only when enabled', () => {
    const kinds = (example: string) => new Set(objectsOf(example).map((o) => o.kind));
    expect(kinds('kind')).not.toContain('HorizontalPodAutoscaler');
    expect(kinds('kind')).not.toContain('NetworkPolicy');
    expect(kinds('all-destinations')).toContain('HorizontalPodAutoscaler');
    expect(kinds('all-destinations')).toContain('PodDisruptionBudget');
    const policies = objectsOf('all-destinations').filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name).sort();
    expect(policies).toEqual(['tracebridge-api', 'tracebridge-collector', 'tracebridge-grafana', 'tracebridge-jaeger', 'tracebridge-postgresql', 'tracebridge-prometheus']);
  });

  it('the database accepts connections only from the API pods (which run the migrations)', () => {
    const policy = find(objectsOf('all-destinations'), 'NetworkPolicy', 'tracebridge-postgresql');
    expect(policy.spec).toMatchObject({
      podSelector: { matchLabels: { 'app.kubernetes.io/component': 'postgresql' } },
      ingress: [
        {
          from: [{ podSelector: { matchExpressions: [{ key: 'app.kubernetes.io/instance', operator: 'In', values: ['tracebridge'] }, { key: 'app.kubernetes.io/component', operator: 'In', values: ['api'] }] } }],
          ports: [{ port: 'postgresql', protocol: 'TCP' }],
        },
      ],
    });
  });

  it("every NetworkPolicy port is the name of a port of the pods it selects (a name no container has matches nothing)", () => {
    const objects = objectsOf('all-destinations');
    type Template = { metadata: { labels: Record<string, string> }; spec: { containers: { ports?: { name: string; containerPort: number }[] }[] } };
    const workloads = objects.flatMap((o) => {
      const template = (o.spec as { template?: Template } | undefined)?.template;
      return template ? [template] : [];
    });
    for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy')) {
      const spec = policy.spec as { podSelector: { matchLabels: Record<string, string> }; ingress: { ports: { port: string | number }[] }[] };
      const selected = workloads.filter((t) => Object.entries(spec.podSelector.matchLabels).every(([k, v]) => t.metadata.labels[k] === v));
      expect(selected.length, policy.metadata.name).toBeGreaterThan(0);
      const names = selected.flatMap((t) => t.spec.containers.flatMap((c) => (c.ports ?? []).map((p) => p.name)));
      for (const port of spec.ingress.flatMap((rule) => rule.ports.map((p) => p.port))) expect(names, `${policy.metadata.name} port ${String(port)}`).toContain(port);
    }
  });

  it('an external database: no PostgreSQL objects, the password from the given Secret', () => {
    const objects = objectsOf('external-postgres');
    expect(objects.filter((o) => o.metadata.name.includes('postgresql'))).toEqual([]);
    const env = podSpecs([find(objects, 'Deployment', 'tracebridge-api')])[0]!.spec.containers[0]!.env!;
    expect(env.find((e) => e.name === 'DATABASE_URL')?.value).toBe('postgresql://tracebridge@postgres.databases.svc.cluster.local:5432/tracebridge');
    expect(env.find((e) => e.name === 'PGPASSWORD')?.valueFrom).toEqual({ secretKeyRef: { name: 'tracebridge-db', key: 'password' } });
  });
});

describe('NOTES.txt', () => {
  async function notes(set: Record<string, string> = {}): Promise<string> {
    const args = ['install', 'tracebridge', chartDir, '--namespace', 'tb', '--dry-run=client', ...AS_INSTALLED];
    for (const [k, v] of Object.entries(set)) args.push('--set', `${k}=${v}`);
    const { stdout } = await run(helmBinary(), args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout.slice(stdout.indexOf('NOTES:'));
  }

  it('prints the exact port-forward commands of what is enabled', async () => {
    const text = await notes();
    expect(text).toContain('Telemetry goes to: jaeger.');
    // localhost gets the Service's port; the pod's port is the one the Service names.
    expect(text).toContain('kubectl -n tb port-forward svc/tracebridge-api 8000:http');
    expect(text).toContain('kubectl -n tb port-forward svc/tracebridge-jaeger 16686:query-http');
    expect(text).toContain('kubectl -n tb port-forward svc/tracebridge-grafana 3000:http');
    expect(text).toContain('kubectl -n tb port-forward svc/tracebridge-prometheus 9090:http');
    expect(text).toContain('kubectl -n tb port-forward svc/tracebridge-collector 4317:otlp-grpc 4318:otlp-http');
    // One paragraph per component.
    for (const heading of ['Jaeger (', 'Grafana (', 'Prometheus (', 'OTLP from']) expect(text).toContain(`\n\n${heading}`);
    expect(text).toContain("kubectl -n tb get secret tracebridge-grafana -o jsonpath='{.data.admin-password}' | base64 -d");
    expect(text).toContain('helm test tracebridge -n tb');
  });

  it('and only those', async () => {
    const text = await notes({ 'grafana.enabled': 'false', 'jaeger.enabled': 'false', 'destinations.jaeger.enabled': 'false', 'destinations.debug.enabled': 'true' });
    expect(text).toContain('port-forward svc/tracebridge-api');
    expect(text).toContain('port-forward svc/tracebridge-prometheus');
    expect(text).not.toContain('tracebridge-jaeger');
    expect(text).not.toContain('tracebridge-grafana');
  });
});

describe('the chart README', () => {
  it('documents every value: its table is what values.schema.json and values.yaml generate (else: make chart-docs)', () => {
    const readme = readFileSync(readmePath, 'utf8');
    expect(readme).toBe(readmeWithTable(readme));
  });

  it('every value in the schema has a description', () => {
    const undocumented = valuesTable()
      .split('\n')
      .slice(2)
      .filter((row) => row.endsWith('|  |') || row.endsWith('| |'));
    expect(undocumented).toEqual([]);
  });
});

describe('the API\'s Node.js flags', () => {
  const apiEnv = (objects: K8sObject[]) => podSpecs([find(objects, 'Deployment', 'tracebridge-api')])[0]!.spec.containers[0]!.env!;

  it('fix V8\'s young generation: node started with the pod\'s NODE_OPTIONS grows it to 2 x 8 MB under allocation', async () => {
    const nodeOptions = apiEnv(objectsOf('kind')).find((e) => e.name === 'NODE_OPTIONS')?.value;
    expect(nodeOptions).toBe('--max-semi-space-size=8');
    // Short-lived garbage, as requests make: the new space grows to its maximum (two semi-spaces).
    const script = [
      'let keep = [];',
      'for (let i = 0; i < 3e6; i++) { const o = { i, s: "x" + i }; if (i % 50 === 0) keep.push(o); if (keep.length > 5e4) keep = []; }',
      'const space = require("v8").getHeapSpaceStatistics().find((s) => s.space_name === "new_space");',
      'console.log(space.space_size / 2 ** 20);',
    ].join('\n');
    const { stdout } = await run(process.execPath, ['-e', script], { env: { ...process.env, NODE_OPTIONS: nodeOptions } });
    expect(Number(stdout.trim())).toBe(16);
  });

  it('can be emptied (Node\'s defaults) and refuse what is not a flag', async () => {
    const { objects } = await renderChart({ set: { 'api.nodeOptions': '' } });
    expect(apiEnv(objects).map((e) => e.name)).not.toContain('NODE_OPTIONS');
    expect(await renderError({ set: { 'api.nodeOptions': 'x; rm -rf /' } })).toMatch(/nodeOptions/);
  });
});

describe('numbers from values files', () => {
  it('stay integers in env and Secrets (helm reads them as float64: no 1e+06)', async () => {
    const file = join(await mkdtemp(join(tmpdir(), 'tracebridge-values-')), 'values.yaml');
    await writeFile(
      file,
      [
        'jaeger: {maxTraces: 1000000, storage: {type: memory}}',
        'api: {pool: {statementTimeoutMs: 3600000, max: 10, acquireTimeoutMs: 3000}}',
        'destinations: {grafanaCloud: {enabled: true, endpoint: "https://otlp-gateway-prod-eu-west-2.grafana.net/otlp"}}',
        'destinationCredentials: {create: true, grafanaCloud: {instanceId: 1234567, apiToken: t}}',
      ].join('\n'),
    );
    const { objects } = await renderChart({ valuesFiles: [file] });
    const env = (name: string, deployment: string) =>
      podSpecs([find(objects, 'Deployment', deployment)])[0]!.spec.containers[0]!.env!.find((e) => e.name === name)?.value;
    expect(env('JAEGER_MAX_TRACES', 'tracebridge-jaeger')).toBe('1000000');
    expect(env('DB_STATEMENT_TIMEOUT_MS', 'tracebridge-api')).toBe('3600000');
    const secret = find(objects, 'Secret', 'tracebridge-destination-credentials').data as Record<string, string>;
    expect(Buffer.from(secret['instance-id']!, 'base64').toString()).toBe('1234567');
  });
});
