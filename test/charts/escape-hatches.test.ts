import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { configArgs, configDir } from '../../collector/fragments.ts';
import { jaegerTraces, startCollector, startJaeger, toolBinary, type Collector, type Jaeger } from '../support/backends.ts';
import {
  AS_INSTALLED,
  chartDir,
  collectorOf,
  find,
  helmBinary,
  renderChart,
  renderError,
  renderExample,
  writeCollectorFiles,
  type Container,
  type K8sObject,
  type PodSpec,
} from '../support/chart.ts';
import { runNode } from '../support/process.ts';

/**
 * The escape hatches (templates/_pod.tpl, $defs/pod), api.enabled, extraObjects, the collector
 * configuration overlay, GOMEMLIMIT and the image settings, asserted on every pod the chart
 * renders: a workload that forgets a hatch fails here by name.
 */

const run = promisify(execFile);

/** Every pod of the chart, by the values key that configures it. */
const WORKLOADS = {
  api: 'Deployment/tracebridge-api',
  collector: 'Deployment/tracebridge-collector',
  jaeger: 'Deployment/tracebridge-jaeger',
  prometheus: 'Deployment/tracebridge-prometheus',
  grafana: 'Deployment/tracebridge-grafana',
  postgresql: 'StatefulSet/tracebridge-postgresql',
  tests: 'Pod/tracebridge-test',
} as const;
type Component = keyof typeof WORKLOADS;
const COMPONENTS = Object.keys(WORKLOADS) as Component[];
const GO: Component[] = ['collector', 'jaeger', 'prometheus', 'grafana'];
/** The components with a Service of their own. */
const SERVICES = COMPONENTS.filter((c) => c !== 'tests');

interface Pod {
  metadata: { labels: Record<string, string>; annotations?: Record<string, string> };
  spec: PodSpec & Record<string, unknown>;
}
type FullContainer = Container & { envFrom?: unknown[]; volumeMounts?: { name: string; mountPath: string }[] };

/** The pod (metadata and spec) of each workload of a rendering, by owner "Kind/name". */
function pods(objects: K8sObject[]): Map<string, Pod> {
  const result = new Map<string, Pod>();
  for (const o of objects) {
    const owner = `${o.kind}/${o.metadata.name}`;
    if (o.kind === 'Pod') result.set(owner, { metadata: o.metadata as Pod['metadata'], spec: o.spec as Pod['spec'] });
    const template = (o.spec as { template?: Pod } | undefined)?.template;
    if (template) result.set(owner, template);
  }
  return result;
}

const podOf = (objects: K8sObject[], component: Component): Pod => {
  const pod = pods(objects).get(WORKLOADS[component]);
  if (!pod) throw new Error(`no ${WORKLOADS[component]} in the rendering`);
  return pod;
};
const mainContainer = (pod: Pod) => pod.spec.containers[0]! as FullContainer;
const envOf = (c: Container) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));

/** Renders with a values document (written to a file: helm keeps its nulls, as from -f). */
async function renderValues(values: Record<string, unknown>, options: { set?: Record<string, string> } = {}) {
  const file = join(await mkdtemp(join(tmpdir(), 'tracebridge-hatches-')), 'values.yaml');
  writeFileSync(file, stringify(values));
  return renderChart({ valuesFiles: [file], ...options });
}

/** The same values under every component. */
const forEvery = (components: readonly Component[], values: Record<string, unknown>) => Object.fromEntries(components.map((c) => [c, values]));

describe('examples/escape-hatches: every hatch on every pod (OpenShift restricted-v2 security contexts)', () => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = (await renderExample('escape-hatches')).objects;
  });

  it('renders exactly the chart\'s pods, so the loops below cover each', () => {
    expect([...pods(objects).keys()].sort()).toEqual(Object.values(WORKLOADS).sort());
  });

  it.each(COMPONENTS)('%s: the pod leaves runAsUser, runAsGroup and fsGroup to OpenShift and keeps the rest of "restricted"', (component) => {
    const { spec } = podOf(objects, component);
    expect(spec.securityContext).toEqual({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
      expect(c.securityContext, c.name).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        runAsNonRoot: true,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
    }
  });

  it.each(COMPONENTS)('%s: env, envFrom, volumes and mounts of the main container', (component) => {
    const pod = podOf(objects, component);
    const main = mainContainer(pod);
    expect(main.envFrom, component).toEqual([{ configMapRef: { name: 'tracebridge-site-settings' } }]);
    expect(main.volumeMounts, component).toContainEqual({ name: 'site-ca', mountPath: '/etc/site-ca', readOnly: true });
    const volumes = (pod.spec.volumes as { name: string }[]).map((v) => v.name);
    expect(volumes.slice(-2), component).toEqual(['site-ca', 'sidecar-www']);
    // The chart's own mounts are still there, before the extra one.
    expect(main.volumeMounts!.at(-1)!.name).toBe('site-ca');
    expect(main.volumeMounts!.length).toBeGreaterThan(1);
  });

  it.each(COMPONENTS)('%s: init containers after the chart\'s own, sidecars after its containers (none on the test pod)', (component) => {
    const { spec } = podOf(objects, component);
    const inits = (spec.initContainers ?? []).map((c) => c.name);
    expect(inits, component).toEqual(component === 'api' ? ['migrate', 'wait-a-moment'] : ['wait-a-moment']);
    const names = spec.containers.map((c) => c.name);
    expect(names.slice(1), component).toEqual(component === 'tests' ? [] : ['sidecar']);
  });

  it.each(COMPONENTS)('%s: pod labels and annotations next to the chart\'s', (component) => {
    const { metadata } = podOf(objects, component);
    expect(metadata.labels).toMatchObject({ 'example.com/cost-center': '4711', 'app.kubernetes.io/instance': 'tracebridge' });
    expect(metadata.annotations).toMatchObject({ 'example.com/team': 'observability' });
    if (['collector', 'jaeger', 'prometheus'].includes(component)) expect(metadata.annotations?.['checksum/config']).toMatch(/^[0-9a-f]{64}$/);
    if (component === 'tests') expect(metadata.annotations?.['helm.sh/hook']).toBe('test');
  });

  it.each(COMPONENTS)('%s: scheduling: nodeSelector, tolerations, affinity, topology spread, priority class', (component) => {
    const { spec } = podOf(objects, component);
    expect(spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(spec.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'observability', effect: 'NoSchedule' }]);
    expect(spec.affinity).toHaveProperty('nodeAffinity');
    expect(spec.topologySpreadConstraints).toEqual([
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { 'app.kubernetes.io/part-of': 'tracebridge' } } },
    ]);
    expect(spec.priorityClassName).toBe('tracebridge-observability');
  });

  it.each(SERVICES)('%s: the Service carries service.annotations and service.labels', (component) => {
    const service = find(objects, 'Service', `tracebridge-${component}`);
    expect(service.metadata.annotations).toEqual({ 'example.com/scrape': 'true' });
    expect(service.metadata.labels).toMatchObject({ 'example.com/exposed': 'internal', 'app.kubernetes.io/component': component });
  });

  it('extraObjects: an object as given, a string rendered with tpl (namespace, the chart\'s helpers)', () => {
    const priority = find(objects, 'PriorityClass', 'tracebridge-observability');
    expect(priority).toMatchObject({ value: 1000, source: 'templates/extra-objects.yaml' });
    expect(find(objects, 'ConfigMap', 'tracebridge-site-settings').metadata.namespace).toBe('tracebridge');
    const legacy = find(objects, 'Service', 'tracebridge-collector-legacy');
    expect((legacy.spec as { selector: Record<string, string> }).selector).toEqual({
      'app.kubernetes.io/name': 'tracebridge',
      'app.kubernetes.io/instance': 'tracebridge',
      'app.kubernetes.io/component': 'collector',
    });
  });
});

describe('defaults: no hatch, no trace of one', () => {
  it.each(COMPONENTS)('%s: the restricted UID, no envFrom, no scheduling fields', async (component) => {
    const { objects } = await renderChart();
    const { spec, metadata } = podOf(objects, component);
    expect(spec.securityContext?.runAsUser).toBeGreaterThan(0);
    expect(spec.securityContext?.fsGroup).toBe(spec.securityContext?.runAsUser);
    for (const key of ['nodeSelector', 'tolerations', 'affinity', 'topologySpreadConstraints', 'priorityClassName', 'imagePullSecrets']) expect(spec, key).not.toHaveProperty(key);
    expect(mainContainer({ spec, metadata })).not.toHaveProperty('envFrom');
  });
});

describe('security contexts merge key by key over "restricted"', () => {
  it.each(COMPONENTS)('%s: a changed key changes, the others stay; null removes one', async (component) => {
    const { objects } = await renderValues({
      [component]: {
        podSecurityContext: { runAsUser: 2000, fsGroup: null, supplementalGroups: [3000] },
        securityContext: { readOnlyRootFilesystem: false, capabilities: { add: ['NET_BIND_SERVICE'] } },
      },
    });
    const { spec } = podOf(objects, component);
    const { runAsGroup, ...rest } = spec.securityContext ?? {};
    expect(runAsGroup, 'the default group stays').toBeGreaterThan(0);
    expect(rest).toEqual({ runAsNonRoot: true, runAsUser: 2000, supplementalGroups: [3000], seccompProfile: { type: 'RuntimeDefault' } });
    expect(mainContainer({ spec, metadata: { labels: {} } }).securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: false,
      runAsNonRoot: true,
      capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
  });

  it('the API\'s migrations init container takes the API\'s container override too', async () => {
    const { objects } = await renderValues({ api: { securityContext: { runAsUser: 1234 } } });
    const migrate = podOf(objects, 'api').spec.initContainers!.find((c) => c.name === 'migrate')!;
    expect(migrate.securityContext).toMatchObject({ runAsUser: 1234, readOnlyRootFilesystem: true });
  });

  it('the schema refuses a hatch of the wrong shape, naming the key', async () => {
    expect(await renderError({ set: { 'jaeger.extraEnv[0].value': 'x' } })).toContain("at '/jaeger/extraEnv/0'");
    expect(await renderError({ set: { 'grafana.extraVolumeMounts[0].name': 'x', 'grafana.extraVolumeMounts[0].mountPath': 'relative' } })).toContain(
      "at '/grafana/extraVolumeMounts/0/mountPath'",
    );
    expect(await renderError({ set: { 'postgresql.priorityClassName': '1' } })).toContain("at '/postgresql/priorityClassName'");
    expect(await renderError({ set: { 'tests.podLabel.x': 'y' } })).toContain("- at '/tests/podLabel': false schema");
  });
});

describe('extraEnv and GOMEMLIMIT', () => {
  it.each(COMPONENTS)('%s: extraEnv comes after the chart\'s env', async (component) => {
    const { objects } = await renderValues(forEvery([component], { extraEnv: [{ name: 'TEAM', value: 'observability' }] }));
    const env = mainContainer(podOf(objects, component)).env!;
    expect(env.at(-1)).toEqual({ name: 'TEAM', value: 'observability' });
  });

  it('each Go component gets 80 % of its memory limit; the Node API, PostgreSQL and the test pod none', async () => {
    const { objects } = await renderChart();
    const limits = Object.fromEntries(COMPONENTS.map((c) => [c, envOf(mainContainer(podOf(objects, c))).GOMEMLIMIT]));
    expect(limits).toEqual({ api: undefined, collector: '409MiB', jaeger: '409MiB', prometheus: '819MiB', grafana: '409MiB', postgresql: undefined, tests: undefined });
  });

  it.each([
    ['1Gi', '819MiB'],
    ['1.5Gi', '1228MiB'],
    ['1G', '762MiB'],
    ['2000M', '1525MiB'],
    ['786432Ki', '614MiB'],
    ['1073741824', '819MiB'],
  ])('a limit of %s: GOMEMLIMIT=%s (on each Go component)', async (limit, expected) => {
    const set = Object.fromEntries(GO.map((c) => [`${c}.resources.limits.memory`, limit]));
    const { objects } = await renderChart({ set });
    for (const component of GO) expect(envOf(mainContainer(podOf(objects, component))).GOMEMLIMIT, component).toBe(expected);
  });

  it('no memory limit: no GOMEMLIMIT', async () => {
    const { objects } = await renderChart({ set: Object.fromEntries(GO.map((c) => [`${c}.resources.limits.memory`, 'null'])) });
    for (const component of GO) expect(envOf(mainContainer(podOf(objects, component))), component).not.toHaveProperty('GOMEMLIMIT');
  });

  it('a GOMEMLIMIT in extraEnv replaces the chart\'s (one variable, the given value)', async () => {
    const { objects } = await renderValues(forEvery(GO, { extraEnv: [{ name: 'GOMEMLIMIT', value: '100MiB' }] }));
    for (const component of GO) {
      const env = mainContainer(podOf(objects, component)).env!.filter((e) => e.name === 'GOMEMLIMIT');
      expect(env, component).toEqual([{ name: 'GOMEMLIMIT', value: '100MiB' }]);
    }
  });

  it('the Go runtime reads the value the chart renders', async () => {
    const { objects } = await renderChart();
    const value = envOf(mainContainer(podOf(objects, 'collector'))).GOMEMLIMIT as string;
    const dir = await mkdtemp(join(tmpdir(), 'tracebridge-gomemlimit-'));
    writeFileSync(join(dir, 'main.go'), 'package main\nimport ("fmt"; "runtime/debug")\nfunc main() { fmt.Println(debug.SetMemoryLimit(-1)) }\n');
    writeFileSync(join(dir, 'go.mod'), 'module gomemlimit\ngo 1.22\n');
    const { stdout } = await run('go', ['run', '.'], { cwd: dir, env: { ...process.env, GOMEMLIMIT: value, GOFLAGS: '-mod=mod' } });
    expect(Number(stdout.trim())).toBe(409 * 2 ** 20);
  }, 120_000);
});

describe('images', () => {
  it('by default: repository:tag, the API at the chart\'s appVersion, no registry prefix', async () => {
    const { objects } = await renderChart();
    const images = Object.fromEntries(COMPONENTS.map((c) => [c, mainContainer(podOf(objects, c)).image]));
    expect(images).toEqual({
      api: 'ghcr.io/tracebridge/tracebridge-api:0.1.0',
      collector: 'otel/opentelemetry-collector-contrib:0.155.0',
      jaeger: 'jaegertracing/jaeger:2.13.0',
      prometheus: 'prom/prometheus:v3.15.0',
      grafana: 'grafana/grafana:12.3.0',
      postgresql: 'postgres:18.1',
      tests: 'ghcr.io/tracebridge/tracebridge-api:0.1.0',
    });
  });

  it('examples/images-pinned: global.imageRegistry on every image without its own registry, digests pin, pull secrets on every pod', async () => {
    const { objects } = await renderExample('images-pinned');
    const all = [...pods(objects).entries()];
    expect(all).toHaveLength(COMPONENTS.length);
    for (const [owner, pod] of all) {
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        if (c.image.includes('tracebridge/api')) expect(c.image, owner).toBe('ghcr.io/tracebridge/api@sha256:4f9d1b6c0e3a5b7d9f1c3e5a7b9d1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c1e3b5d');
        else expect(c.image, owner).toMatch(/^registry\.example\.com\/dockerhub\//);
      }
      const secrets = owner === WORKLOADS.collector ? [{ name: 'regcred' }, { name: 'regcred-collector' }] : [{ name: 'regcred' }];
      expect(pod.spec.imagePullSecrets, owner).toEqual(secrets);
    }
    expect(mainContainer(podOf(objects, 'collector')).image).toBe(
      'registry.example.com/dockerhub/otel/opentelemetry-collector-contrib@sha256:0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9',
    );
    expect(mainContainer(podOf(objects, 'jaeger')).image).toBe('registry.example.com/dockerhub/jaegertracing/jaeger:2.13.0');
  });

  it('global.imagePullSecrets, imagePullSecrets and a component\'s own: each name once', async () => {
    const { objects } = await renderValues({
      global: { imagePullSecrets: [{ name: 'a' }] },
      imagePullSecrets: [{ name: 'b' }, { name: 'a' }],
      grafana: { imagePullSecrets: [{ name: 'c' }] },
    });
    for (const component of COMPONENTS) {
      expect(podOf(objects, component).spec.imagePullSecrets, component).toEqual(component === 'grafana' ? [{ name: 'a' }, { name: 'b' }, { name: 'c' }] : [{ name: 'a' }, { name: 'b' }]);
    }
  });

  it('the schema refuses a digest that is not sha256:<64 hex> and a registry with a scheme', async () => {
    expect(await renderError({ set: { 'collector.image.digest': 'sha256:abc' } })).toContain("at '/collector/image/digest'");
    expect(await renderError({ set: { 'collector.image.digest': '0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9' } })).toContain("at '/collector/image/digest'");
    expect(await renderError({ set: { 'global.imageRegistry': 'https://registry.example.com' } })).toContain("at '/global/imageRegistry'");
  });
});

describe('api.enabled=false (examples/api-disabled)', () => {
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = (await renderExample('api-disabled')).objects;
  });

  it('renders no API object and no database (the API\'s), and needs no external one', () => {
    const components = new Set(objects.map((o) => o.metadata.labels?.['app.kubernetes.io/component']));
    expect(components).not.toContain('api');
    expect(components).not.toContain('postgresql');
    expect(objects.filter((o) => /-(api|postgresql)$/.test(o.metadata.name))).toEqual([]);
    expect(objects.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name).sort()).toEqual(['tracebridge-collector', 'tracebridge-grafana', 'tracebridge-jaeger', 'tracebridge-prometheus']);
  });

  it('the collector still scrapes any API pods by label, and admits OTLP from the test pod', () => {
    expect(collectorOf(objects).env.API_POD_SELECTOR).toBe('app.kubernetes.io/instance=tracebridge,app.kubernetes.io/component=api');
    const policy = find(objects, 'NetworkPolicy', 'tracebridge-collector');
    expect(JSON.stringify(policy.spec)).toContain('"values":["api","test"]');
  });

  it('the test pod sends its own span to the collector and looks for it in Jaeger', () => {
    const env = envOf(mainContainer(podOf(objects, 'tests')));
    expect(env).toEqual({ COLLECTOR_OTLP_HTTP_URL: 'http://tracebridge-collector:4318', JAEGER_URL: 'http://tracebridge-jaeger:16686' });
  });

  it('NOTES.txt points apps at the collector instead of the API', async () => {
    const { stdout } = await run(helmBinary(), ['install', 'tracebridge', chartDir, '-n', 'tb', '--dry-run=client', ...AS_INSTALLED, '--set', 'api.enabled=false']);
    const notes = stdout.slice(stdout.indexOf('NOTES:'));
    expect(notes).not.toContain('tracebridge-api');
    expect(notes).toContain('rollout status deployment/tracebridge-collector');
    expect(notes).toContain('OTEL_EXPORTER_OTLP_ENDPOINT=http://tracebridge-collector.tb:4317');
    expect(notes).toContain('Check that the collector accepts a span and it reaches Jaeger:');
  });

  describe('the `helm test` script against the real collector (the chart\'s configuration) and Jaeger', () => {
    let jaeger: Jaeger;
    let collector: Collector;
    beforeAll(async () => {
      jaeger = await startJaeger();
      const chart = collectorOf(objects);
      const files = writeCollectorFiles(chart, await mkdtemp(join(tmpdir(), 'tracebridge-api-disabled-')));
      // The API pods are found through the Kubernetes API in a cluster; here scrape/static.yaml replaces that job.
      // startCollector binds the receivers, health and metrics to free loopback ports itself.
      const env = Object.fromEntries(Object.entries(chart.env).filter(([name]) => !/^(OTLP_(GRPC|HTTP)_ENDPOINT|COLLECTOR_(HEALTH_ENDPOINT|METRICS_HOST|METRICS_PORT))$/.test(name)));
      collector = await startCollector({ files: [...files, join(configDir, 'scrape/static.yaml')] }, { ...env, JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint });
    }, 60_000);
    afterAll(async () => {
      await collector.stop();
      await jaeger.stop();
    });

    it('passes: the span reaches Jaeger', async () => {
      const smoke = runNode(join(chartDir, 'files/smoke-test.mjs'), [], { COLLECTOR_OTLP_HTTP_URL: collector.otlpHttpUrl, JAEGER_URL: jaeger.queryUrl });
      expect(await smoke.exited, smoke.stdout() + smoke.stderr()).toBe(0);
      expect(smoke.stdout()).toMatch(/ok {3}POST \/v1\/traces -> 200[^\n]*\nok {3}trace [0-9a-f]{32} in Jaeger: 1 spans\nPASS/);
      const traces = await jaegerTraces(jaeger.queryUrl, 'tracebridge-helm-test');
      expect(traces.flat().map((s) => s.operationName)).toContain('helm test');
    }, 60_000);

    it('fails, saying why, when the collector does not answer', async () => {
      const smoke = runNode(join(chartDir, 'files/smoke-test.mjs'), [], { COLLECTOR_OTLP_HTTP_URL: 'http://127.0.0.1:9', JAEGER_URL: jaeger.queryUrl });
      expect(await smoke.exited).toBe(1);
      expect(smoke.stderr()).toMatch(/FAIL POST http:\/\/127\.0\.0\.1:9\/v1\/traces: /);
    }, 90_000); // it first waits 30 s for the collector to answer at all
  });
});

describe('collector.config: merged over the chart\'s configuration by the collector itself', () => {
  const otelcolEnv = (env: Record<string, string>) => ({ PATH: process.env.PATH, ...env });

  it('is the last --config, after the fragments; without it there is no such file', async () => {
    const { fragments } = collectorOf((await renderExample('escape-hatches')).objects);
    expect(fragments.map(([key]) => key)).toEqual(['base.yaml', 'scrape-kubernetes.yaml', 'destinations-jaeger.yaml', 'overlay.yaml']);
    expect(collectorOf((await renderChart()).objects).fragments.map(([key]) => key)).not.toContain('overlay.yaml');
  });

  it('the real collector merges it: the chart\'s pipelines and the overlay\'s, the overlay\'s receiver and processor', async () => {
    const chart = collectorOf((await renderExample('escape-hatches')).objects);
    const files = writeCollectorFiles(chart, await mkdtemp(join(tmpdir(), 'tracebridge-overlay-')));
    const { stdout } = await run(toolBinary('OTELCOL_BIN'), ['print-config', '--mode', 'unredacted', ...configArgs(files)], { env: otelcolEnv(chart.env) });
    const merged = parse(stdout) as { receivers: Record<string, unknown>; processors: Record<string, { timeout?: string }>; service: { pipelines: Record<string, { receivers: string[]; exporters: string[] }> } };
    expect(Object.keys(merged.service.pipelines)).toEqual(expect.arrayContaining(['metrics', 'traces', 'traces/legacy']));
    expect(merged.service.pipelines['traces/legacy']).toMatchObject({ receivers: ['otlp/legacy'], exporters: ['otlp_grpc/jaeger'] });
    expect(merged.service.pipelines.traces!.receivers).toContain('otlp');
    expect(merged.receivers).toHaveProperty('otlp/legacy');
    expect(merged.processors['batch/legacy']?.timeout).toBe('2s');
  });

  it('and validates it: an overlay pipeline naming an exporter nobody defines fails validate', async () => {
    const { objects } = await renderValues({
      collector: { config: { service: { pipelines: { 'traces/extra': { receivers: ['otlp'], exporters: ['otlp_grpc/nowhere'] } } } } },
    });
    const chart = collectorOf(objects);
    const files = writeCollectorFiles(chart, await mkdtemp(join(tmpdir(), 'tracebridge-overlay-')));
    const failure = await run(toolBinary('OTELCOL_BIN'), ['validate', ...configArgs(files)], { env: otelcolEnv(chart.env) }).then(
      () => 'valid',
      (error: unknown) => (error as { stderr?: string }).stderr ?? '',
    );
    expect(failure).toMatch(/otlp_grpc\/nowhere/);
  });

  it('a changed overlay rolls the collector (its checksum)', async () => {
    const checksum = (objects: K8sObject[]) => podOf(objects, 'collector').metadata.annotations?.['checksum/config'];
    const plain = (await renderChart()).objects;
    const overlaid = (await renderValues({ collector: { config: { processors: { 'batch/x': { timeout: '1s' } } } } })).objects;
    expect(checksum(overlaid)).not.toBe(checksum(plain));
  });

  it('the schema takes only the sections of a collector configuration', async () => {
    expect(await renderError({ set: { 'collector.config.pipelines.traces.receivers[0]': 'otlp' } })).toContain("- at '/collector/config': additional properties 'pipelines' not allowed");
  });
});

describe('extraObjects', () => {
  it('refuses an item that is neither an object with apiVersion and kind nor a string', async () => {
    expect(await renderError({ set: { 'extraObjects[0]': '1' } })).toContain("at '/extraObjects/0'");
    expect(await renderError({ set: { 'extraObjects[0].metadata.name': 'x' } })).toContain("at '/extraObjects/0'");
  });
});
