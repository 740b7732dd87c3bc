import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { EXAMPLES, find, renderChart, renderError, renderExample, type K8sObject } from '../support/chart.ts';
import { compare, describeParity, isHelmHook, key, normalize, synth, synthError, synthExample, type Synth } from '../support/cdk8s.ts';

/**
 * The cdk8s app and the Helm chart deploy the same stack: for every example, `helm template`
 * and `cdk8s synth` give the same objects (kind, namespace, name) with the same contents once
 * normalized (support/cdk8s.ts says exactly what that forgives). A difference fails with a diff
 * per object.
 */

const helm = new Map<string, K8sObject[]>();
const cdk8s = new Map<string, Synth>();

beforeAll(async () => {
  await Promise.all(
    EXAMPLES.map(async (example) => {
      const [h, c] = await Promise.all([renderExample(example), synthExample(example)]);
      helm.set(example, h.objects);
      cdk8s.set(example, c);
    }),
  );
});

const cdk8sObjects = (example: string) => [...cdk8s.get(example)!.objects, ...cdk8s.get(example)!.secrets];

describe('helm template and cdk8s synth give the same objects', () => {
  it.each(EXAMPLES)('examples/%s: the same kind/namespace/name set, Helm hooks aside', (example) => {
    const p = compare(helm.get(example)!, cdk8sObjects(example));
    expect(p.onlyHelm, describeParity(p)).toEqual([]);
    expect(p.onlyCdk8s, describeParity(p)).toEqual([]);
    expect(p.compared).toBeGreaterThan(15);
  });

  it.each(EXAMPLES)('examples/%s: the same contents after normalization', (example) => {
    const p = compare(helm.get(example)!, cdk8sObjects(example));
    expect(p.diffs.length, `${p.diffs.length} object(s) differ:\n${describeParity(p)}`).toBe(0);
  });

  it('only the helm test hooks are Helm-only, and cdk8s synthesizes no hook', () => {
    for (const example of EXAMPLES) {
      const hooks = helm.get(example)!.filter(isHelmHook).map(key).sort();
      expect(hooks).toEqual(['ConfigMap/tracebridge/tracebridge-test', 'Pod/tracebridge/tracebridge-test']);
      expect(cdk8sObjects(example).filter(isHelmHook)).toEqual([]);
      expect(cdk8sObjects(example).map((o) => o.kind)).not.toContain('Pod');
    }
  });

  it('another release name and namespace: the same names as the chart gives them', async () => {
    for (const [release, namespace] of [
      ['demo', 'obs'],
      ['tracebridge-prod', 'prod'],
    ] as const) {
      const [h, c] = await Promise.all([renderExample('kind', { release, namespace }), synthExample('kind', { release, namespace })]);
      const p = compare(h.objects, [...c.objects, ...c.secrets]);
      expect(describeParity(p)).toBe('');
      expect(p.compared).toBeGreaterThan(15);
    }
  });

  it('fullnameOverride, nameOverride, commonLabels, imagePullSecrets, extra env and scheduling pass through the same', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracebridge-parity-'));
    const file = join(dir, 'values.yaml');
    writeFileSync(
      file,
      stringify({
        nameOverride: 'tb',
        commonLabels: { team: 'observability' },
        imagePullSecrets: [{ name: 'regcred' }],
        api: {
          image: { tag: '0.2.0' },
          extraEnv: [{ name: 'BODY_LIMIT_BYTES', value: '2097152' }, { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 's', key: 'k', optional: true } } }],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'obs', effect: 'NoSchedule' }],
          affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, preference: { matchExpressions: [{ key: 'a', operator: 'Exists' }] } }] } },
          podAnnotations: { 'example.com/owner': 'obs' },
          migrations: { enabled: false },
        },
        collector: { podAnnotations: { 'example.com/owner': 'obs' }, tolerations: [{ operator: 'Exists' }] },
        postgresql: { persistence: { storageClass: 'standard' }, existingSecret: 'pg' },
        destinations: { otlp: { enabled: true, protocol: 'http', endpoint: 'https://otlp.example.com/otlp' }, debug: { enabled: true, verbosity: 'detailed' } },
        destinationCredentials: { create: true, otlp: { authorization: 'Bearer x' } },
        grafana: { existingSecret: 'grafana-admin' },
      }),
    );
    for (const fullnameOverride of ['', 'obs-stack']) {
      const valuesFiles = [file];
      if (fullnameOverride) {
        const extra = join(dir, 'fullname.yaml');
        writeFileSync(extra, stringify({ fullnameOverride }));
        valuesFiles.push(extra);
      }
      const [h, c] = await Promise.all([renderChart({ valuesFiles }), synth({ valuesFiles })]);
      const p = compare(h.objects, [...c.objects, ...c.secrets]);
      expect(describeParity(p)).toBe('');
      expect(c.secrets).toEqual([]);
      const api = find(c.objects, 'Deployment', `${fullnameOverride || 'tracebridge-tb'}-api`);
      expect(JSON.stringify(api)).toContain('"optional":true');
    }
  });
});

describe('beyond the examples: the options the examples leave at their defaults', () => {
  const variants: [string, Record<string, unknown>][] = [
    [
      'fixed replicas, a percentage PDB, other Service types and ports, NetworkPolicies',
      {
        api: { replicas: 3, podDisruptionBudget: { enabled: true, minAvailable: '50%' }, service: { type: 'NodePort', port: 8080 }, metricsPort: 9465 },
        collector: { replicas: 2, scrapeInterval: '30s', service: { type: 'LoadBalancer' } },
        networkPolicy: { enabled: true },
      },
    ],
    [
      'an external Jaeger, no in-cluster one',
      {
        destinations: { jaeger: { endpoint: 'jaeger-collector.observability:4317' } },
        jaeger: { enabled: false },
        prometheus: { scrapeInterval: '30s', retention: '7d' },
        networkPolicy: { enabled: true },
      },
    ],
    ['no Grafana, no Prometheus', { grafana: { enabled: false }, prometheus: { enabled: false } }],
    [
      'an external database on another port, with TLS',
      {
        postgresql: { enabled: false },
        externalDatabase: { host: 'db.example.com', port: 6432, ssl: true, existingSecret: 'db', passwordKey: 'pw', username: 'app', database: 'appdb' },
        networkPolicy: { enabled: true },
      },
    ],
    [
      'chart-created credentials for every destination, OTLP without authorization',
      {
        destinations: { grafanaCloud: { enabled: true, endpoint: 'https://otlp-gateway.example.com/otlp' }, datadog: { enabled: true }, otlp: { enabled: true, endpoint: 'tempo:4317' } },
        destinationCredentials: { create: true, grafanaCloud: { instanceId: 123456, apiToken: 't' }, datadog: { apiKey: 'k' } },
      },
    ],
    [
      'null deletes the optional maps and lists',
      {
        commonLabels: null,
        imagePullSecrets: null,
        api: { podAnnotations: null, nodeSelector: null, tolerations: null, affinity: null, extraEnv: null },
        collector: { podAnnotations: null, nodeSelector: null },
      },
    ],
    [
      'numeric quantities, other sizes, images and Jaeger capacity',
      {
        api: { resources: { requests: { cpu: 0.25, memory: '100Mi' }, limits: { cpu: 1, memory: '1Gi', 'ephemeral-storage': '1Gi' } }, migrations: { enabled: false } },
        jaeger: { maxTraces: 50000 },
        postgresql: { image: { tag: '17.6', pullPolicy: 'Always' }, persistence: { size: '5Gi' }, username: 'app', database: 'appdb', passwordKey: 'pw' },
        grafana: { adminUser: 'root', passwordKey: 'pw' },
      },
    ],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'tracebridge-variants-'));

  it.each(variants)('%s', async (name, values) => {
    const file = join(dir, `${name.replaceAll(/\W+/g, '-')}.yaml`);
    writeFileSync(file, stringify(values));
    const [h, c] = await Promise.all([renderChart({ valuesFiles: [file] }), synth({ valuesFiles: [file] })]);
    const p = compare(h.objects, [...c.objects, ...c.secrets]);
    expect(describeParity(p)).toBe('');
    expect(p.compared).toBeGreaterThan(10);
  });
});

describe('the configuration files are the chart\'s, byte for byte where the chart copies text', () => {
  const configMaps = (objects: K8sObject[]) =>
    new Map(objects.filter((o) => o.kind === 'ConfigMap' && !isHelmHook(o)).map((o) => [o.metadata.name, o.data as Record<string, string>]));

  it.each(EXAMPLES)('examples/%s: Jaeger, Prometheus, datasources, dashboards identical; the collector\'s equal as YAML', (example) => {
    const h = configMaps(helm.get(example)!);
    const c = configMaps(cdk8sObjects(example));
    expect([...c.keys()].sort()).toEqual([...h.keys()].sort());
    for (const [name, data] of h) {
      const theirs = c.get(name)!;
      expect(Object.keys(theirs).sort(), name).toEqual(Object.keys(data).sort());
      for (const [file, text] of Object.entries(data)) {
        // Helm's toYaml sorts keys and folds long lines; the content is compared parsed above.
        if (name.endsWith('-collector')) continue;
        expect(theirs[file], `${name} ${file}`).toBe(text);
      }
    }
  });

  it('the collector configuration is what collector/assemble.ts gives for the enabled destinations', async () => {
    const { assembleCollectorConfig, toYaml } = await import('../../collector/assemble.ts');
    const data = find(cdk8sObjects('all-destinations'), 'ConfigMap', 'tracebridge-collector').data as Record<string, string>;
    expect(data['config.yaml']).toBe(toYaml(assembleCollectorConfig(['jaeger', 'grafanaCloud', 'datadog', 'otlp', 'debug'], { scrape: 'kubernetes' })));
  });
});

describe('normalization forgives only what it says', () => {
  const deployment = () => structuredClone(find(helm.get('kind')!, 'Deployment', 'tracebridge-api'));

  it('an image, env value, probe, security context or resource difference is a difference, with a diff naming the object', () => {
    const mutations: [string, (spec: { containers: Record<string, unknown>[] }) => void][] = [
      ['image', (s) => (s.containers[0]!.image = 'tracebridge/api:9.9.9')],
      ['env', (s) => ((s.containers[0]!.env as { value?: string }[])[0]!.value = '8001')],
      ['probe', (s) => ((s.containers[0]!.readinessProbe as { periodSeconds: number }).periodSeconds = 6)],
      ['securityContext', (s) => ((s.containers[0]!.securityContext as { readOnlyRootFilesystem: boolean }).readOnlyRootFilesystem = false)],
      ['resources', (s) => ((s.containers[0]!.resources as { limits: { memory: string } }).limits.memory = '1Gi')],
    ];
    for (const [what, mutate] of mutations) {
      const changed = deployment();
      mutate((changed.spec as { template: { spec: { containers: Record<string, unknown>[] } } }).template.spec);
      const p = compare([deployment()], [changed]);
      expect(p.diffs, what).toHaveLength(1);
      expect(p.diffs[0], what).toContain('helm template: Deployment/tracebridge/tracebridge-api');
      expect(p.diffs[0], what).toMatch(/^-.*\n\+/m);
    }
  });

  it('env order matters; label, managed-by, checksum and Secret values are judged as documented', () => {
    const reordered = deployment();
    const env = (reordered.spec as { template: { spec: { containers: { env: unknown[] }[] } } }).template.spec.containers[0]!.env;
    env.reverse();
    expect(compare([deployment()], [reordered]).diffs).toHaveLength(1);

    const cdk8sLike = deployment();
    cdk8sLike.metadata.labels!['app.kubernetes.io/managed-by'] = 'cdk8s';
    delete cdk8sLike.metadata.labels!['helm.sh/chart'];
    const template = (cdk8sLike.spec as { template: { metadata: { labels: Record<string, string>; annotations?: Record<string, string> } } }).template;
    template.metadata.labels['app.kubernetes.io/managed-by'] = 'cdk8s';
    delete template.metadata.labels['helm.sh/chart'];
    template.metadata.annotations = { 'checksum/config': 'a'.repeat(64) };
    const withChecksum = deployment();
    (withChecksum.spec as { template: { metadata: { annotations?: Record<string, string> } } }).template.metadata.annotations = { 'checksum/config': 'b'.repeat(64) };
    expect(compare([withChecksum], [cdk8sLike]).diffs).toEqual([]);
    template.metadata.annotations = { 'checksum/config': 'not-a-hash' };
    expect(compare([withChecksum], [cdk8sLike]).diffs).toHaveLength(1);
    cdk8sLike.metadata.labels!['app.kubernetes.io/managed-by'] = 'Helm';
    expect(normalize(cdk8sLike, 'cdk8s').metadata.labels!['app.kubernetes.io/managed-by']).toBe('Helm');

    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'n' }, data: { a: 'eA==' } };
    expect(compare([secret], [{ ...secret, data: { a: 'eQ==' } }]).diffs).toEqual([]);
    expect(compare([secret], [{ ...secret, data: { b: 'eA==' } }]).diffs).toHaveLength(1);
  });
});

describe('impossible values: the same refusal, with the same message', () => {
  const cases: [string, Record<string, unknown>][] = [
    ['no destination', { destinations: { jaeger: { enabled: false } } }],
    ['Datadog without a key', { destinations: { datadog: { enabled: true } } }],
    ['Jaeger endpoint with a scheme', { destinations: { jaeger: { endpoint: 'http://jaeger:4317' } } }],
    ['Grafana Cloud with a gRPC endpoint', { destinations: { grafanaCloud: { enabled: true, endpoint: 'otlp-gateway-prod-eu-west-2.grafana.net:4317', existingSecret: 'gc' } } }],
    ['Grafana Cloud with a /v1/traces path', { destinations: { grafanaCloud: { enabled: true, endpoint: 'https://otlp-gateway.grafana.net/otlp/v1/traces', existingSecret: 'gc' } } }],
    ['Grafana Cloud without credentials', { destinations: { grafanaCloud: { enabled: true, endpoint: 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp' } } }],
    ['OTLP/HTTP with a host:port', { destinations: { otlp: { enabled: true, protocol: 'http', endpoint: 'tempo:4318' } } }],
    ['OTLP/gRPC with an HTTP path', { destinations: { otlp: { enabled: true, protocol: 'grpc', endpoint: 'https://tempo/v1/traces' } } }],
    ['both existingSecret and credentials', { destinations: { datadog: { enabled: true, existingSecret: 'dd' } }, destinationCredentials: { create: true, datadog: { apiKey: 'k' } } }],
    ['Jaeger destination without a Jaeger', { jaeger: { enabled: false } }],
    ['external database without a host', { postgresql: { enabled: false } }],
    ['external database without a password Secret', { postgresql: { enabled: false }, externalDatabase: { host: 'db' } }],
    ['Grafana without Prometheus', { prometheus: { enabled: false } }],
    ['autoscaling max below min', { api: { autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 2 } } }],
  ];
  const dir = mkdtempSync(join(tmpdir(), 'tracebridge-refusals-'));

  it.each(cases)('%s', async (name, values) => {
    const file = join(dir, `${name.replaceAll(/\W+/g, '-')}.yaml`);
    writeFileSync(file, stringify(values));
    const [helmError, cdk8sError] = await Promise.all([renderError({ valuesFiles: [file] }), synthError({ valuesFiles: [file] })]);
    expect(cdk8sError.code).toBe(2);
    const message = /^ {2}- (.+)$/m.exec(cdk8sError.stderr)?.[1];
    expect(message, cdk8sError.stderr).toBeTruthy();
    // helm: "Error: execution error at (tracebridge/templates/validate.yaml:N:M): <message>"
    expect(helmError).toContain(`validate.yaml`);
    expect(helmError).toContain(message);
  });

  it('the schema: unknown keys and wrong types are refused by both, cdk8s naming the path', async () => {
    const file = join(dir, 'schema.yaml');
    writeFileSync(file, stringify({ api: { replica: 2, samplingRatio: 2 }, destinations: { datadog: { site: 'datadog.com' } } }));
    const helmError = await renderError({ valuesFiles: [file] });
    expect(helmError).toMatch(/values don't meet the specifications of the schema/);
    const { code, stderr } = await synthError({ valuesFiles: [file] });
    expect(code).toBe(2);
    expect(stderr).toContain("api: additional property 'replica' not allowed");
    expect(stderr).toContain('api.samplingRatio: must be <= 1');
    expect(stderr).toContain('destinations.datadog.site: must be one of "datadoghq.com"');
  });
});
