import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toolBinary } from '../support/backends.ts';
import { dataOf, find, podSpecs, renderExample, type Container, type K8sObject } from '../support/chart.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { freePort } from '../support/ports.ts';
import { repoRoot, runNode, runProcess, waitForHttp, type ManagedProcess } from '../support/process.ts';

/**
 * Chart ↔ app contract: the processes run with the arguments and env the chart renders for
 * them (only the listening ports moved to free ones, and the database host to the test one),
 * and every probe, port and metrics path the chart declares answers.
 */

interface Probe {
  httpGet: { path: string; port: string };
}
type ProbedContainer = Container & {
  args: string[];
  ports: { name: string; containerPort: number }[];
  startupProbe?: Probe;
  livenessProbe: Probe;
  readinessProbe: Probe;
};

let objects: K8sObject[];
beforeAll(async () => {
  objects = (await renderExample('kind')).objects;
});

const container = (kind: string, name: string, init = false) => {
  const { spec } = podSpecs([find(objects, kind, name)])[0]!;
  return (init ? spec.initContainers![0]! : spec.containers[0]!) as ProbedContainer;
};

function plainEnv(c: Container, fieldRefs: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of c.env ?? []) {
    const from = e.valueFrom as { fieldRef?: { fieldPath: string } } | undefined;
    if (e.value !== undefined) env[e.name] = e.value;
    else if (from?.fieldRef) env[e.name] = fieldRefs[from.fieldRef.fieldPath] ?? `test-${from.fieldRef.fieldPath}`;
  }
  return env;
}

/** The chart runs compiled files (api/dist/x.js, as in the image); here the sources they compile from. */
function sourceArgs(args: string[]): string[] {
  const build = JSON.parse(readFileSync(`${repoRoot}/api/tsconfig.build.json`, 'utf8')) as { compilerOptions: { rootDir: string; outDir: string } };
  expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' });
  return args.map((a) => a.replace(/^(\.\/)?api\/dist\/(.+)\.js$/, (_m, dot: string | undefined, path: string) => `${dot ?? ''}api/src/${path}.ts`));
}

const portOf = (c: ProbedContainer, name: string) => c.ports.find((p) => p.name === name)!.containerPort;

describe('the API as the chart runs it', () => {
  let database: TestDatabase;
  let receiver: OtlpReceiver;
  let api: ManagedProcess;
  let ports: Record<string, number>;
  let api_: ProbedContainer;

  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
    receiver = await startOtlpReceiver();
    api_ = container('Deployment', 'tracebridge-api');
    const migrate = container('Deployment', 'tracebridge-api', true);

    // The database URL the chart renders has no password; the password comes as PGPASSWORD.
    const url = new URL(database.url);
    const password = decodeURIComponent(url.password);
    const database_ = (env: Record<string, string>): Record<string, string> => {
      const rendered = new URL(env.DATABASE_URL!);
      expect(rendered.password).toBe('');
      rendered.host = url.host;
      rendered.username = url.username;
      rendered.pathname = url.pathname;
      return { ...env, DATABASE_URL: rendered.href, PGPASSWORD: password };
    };

    const migration = runNode(sourceArgs(migrate.args)[0]!, sourceArgs(migrate.args).slice(1), database_(plainEnv(migrate)));
    expect(await migration.exited).toBe(0);

    ports = { http: await freePort(), metrics: await freePort() };
    const env = database_(plainEnv(api_, { 'metadata.name': 'tracebridge-api-7d9f-abcde', 'metadata.namespace': 'tracebridge' }));
    expect(Number(env.PORT)).toBe(portOf(api_, 'http'));
    expect(Number(env.METRICS_PORT)).toBe(portOf(api_, 'metrics'));
    const args = sourceArgs(api_.args);
    const preload = args.slice(0, 2);
    api = runNode(args[2]!, [], {
      ...env,
      PORT: String(ports.http),
      METRICS_PORT: String(ports.metrics),
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
    }, preload);
    await waitForHttp(`http://127.0.0.1:${ports.http}/healthz`, api);
  }, 60_000);

  afterAll(async () => {
    await api.stop();
    await receiver.close();
    await database.drop();
  });

  it('the chart points the collector at the OTLP port of its Service', () => {
    expect(plainEnv(api_).OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://tracebridge-collector:4317');
    const service = find(objects, 'Service', 'tracebridge-collector').spec as { ports: { name: string; port: number }[] };
    expect(service.ports.find((p) => p.name === 'otlp-grpc')!.port).toBe(4317);
  });

  it('startup, liveness and readiness probes answer 200 on the ports they name', async () => {
    for (const probe of [api_.startupProbe!, api_.livenessProbe, api_.readinessProbe]) {
      const response = await fetch(`http://127.0.0.1:${ports[probe.httpGet.port]}${probe.httpGet.path}`);
      expect(response.status, probe.httpGet.path).toBe(200);
    }
  });

  it('the migrations the init container ran are the ones the API needs: users can be created', async () => {
    const response = await fetch(`http://127.0.0.1:${ports.http}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Contract', email: 'contract@example.com' }),
    });
    expect(response.status).toBe(201);
  });

  it('Prometheus finds /metrics on the port named "metrics", as the scrape config and the collector expect', async () => {
    const scrape = parse(
      dataOf(find(objects, 'ConfigMap', 'tracebridge-prometheus'))['prometheus.yml']!,
    ) as { scrape_configs: { job_name: string; metrics_path?: string; relabel_configs: { regex?: string }[] }[] };
    const job = scrape.scrape_configs.find((j) => j.job_name === 'tracebridge-api')!;
    expect(job.metrics_path ?? '/metrics').toBe('/metrics');
    expect(job.relabel_configs[0]!.regex).toBe('metrics');
    // The collector finds the same pods by the selector it is given, keeping the same port name.
    const collectorEnv = plainEnv(container('Deployment', 'tracebridge-collector'));
    expect(collectorEnv.API_POD_SELECTOR).toBe('app.kubernetes.io/instance=tracebridge,app.kubernetes.io/component=api');
    const apiLabels = (find(objects, 'Deployment', 'tracebridge-api').spec as { template: { metadata: { labels: Record<string, string> } } }).template.metadata.labels;
    for (const pair of collectorEnv.API_POD_SELECTOR!.split(',')) {
      const [key, value] = pair.split('=');
      expect(apiLabels[key!], key).toBe(value);
    }
    const collectorScrape = parse(dataOf(find(objects, 'ConfigMap', 'tracebridge-collector'))['scrape-kubernetes.yaml']!) as {
      receivers: Record<string, { config: { scrape_configs: { relabel_configs: { regex?: string }[] }[] } }>;
    };
    expect(collectorScrape.receivers['prometheus/api']!.config.scrape_configs[0]!.relabel_configs[0]!.regex).toBe('metrics');

    const text = await (await fetch(`http://127.0.0.1:${ports.metrics}/metrics`)).text();
    expect(text).toContain('http_server_request_duration_count');
    expect(text).toContain('db_client_connection_count');
  });

  it('spans carry the service, environment and pod identity the chart sets', async () => {
    await fetch(`http://127.0.0.1:${ports.http}/users/1`);
    const spans = await receiver.waitForSpans((s) => s.some((x) => x.name === 'GET /users/:id'), 15_000);
    const resource = spans.find((s) => s.name === 'GET /users/:id')!.resource;
    expect(resource).toMatchObject({
      'service.name': 'tracebridge-api',
      'service.version': '0.1.0',
      'deployment.environment.name': 'kind',
      'k8s.pod.name': 'tracebridge-api-7d9f-abcde',
      'k8s.namespace.name': 'tracebridge',
    });
  });
});

describe('the collector and Jaeger as the chart runs them', () => {
  /** Runs a backend with the chart's args and env, its listen addresses moved to free ports. */
  async function probeBackend(name: string, binaryVariable: 'OTELCOL_BIN' | 'JAEGER_BIN') {
    const c = container('Deployment', name);
    const configMap = dataOf(find(objects, 'ConfigMap', name));
    const dir = await mkdtemp(join(tmpdir(), 'tracebridge-contract-'));
    // Each --config names a file of the mounted ConfigMap.
    const args = await Promise.all(
      c.args.map(async (arg) => {
        const key = /^--config=\/conf\/(.+)$/.exec(arg)?.[1];
        expect(key !== undefined && configMap[key] !== undefined, arg).toBe(true);
        await writeFile(join(dir, key!), configMap[key!]!);
        return `--config=${join(dir, key!)}`;
      }),
    );
    const env = plainEnv(c);
    // Badger's directory is the pod's volume mount: here a directory of the test's own.
    if (env.JAEGER_BADGER_DIRECTORY) env.JAEGER_BADGER_DIRECTORY = join(dir, 'badger');
    // Every 0.0.0.0:<containerPort> address moves to a free loopback port; keep the mapping.
    const moved = new Map<number, number>();
    for (const [key, value] of Object.entries(env)) {
      const m = /^0\.0\.0\.0:(\d+)$/.exec(value);
      if (m) {
        const free = await freePort();
        moved.set(Number(m[1]), free);
        env[key] = `127.0.0.1:${free}`;
      }
    }
    if (env.COLLECTOR_METRICS_PORT) {
      const free = await freePort();
      moved.set(Number(env.COLLECTOR_METRICS_PORT), free);
      env.COLLECTOR_METRICS_PORT = String(free);
      env.COLLECTOR_METRICS_HOST = '127.0.0.1';
    }
    expect(args.length).toBeGreaterThan(0);
    const process_ = runProcess(toolBinary(binaryVariable), args, env);
    const health = moved.get(portOf(c, 'health'))!;
    await waitForHttp(`http://127.0.0.1:${health}${c.readinessProbe.httpGet.path}`, process_);
    return { c, moved, process: process_ };
  }

  it('the collector: probes answer on "health", metrics on "metrics"', async () => {
    const { c, moved, process: collector } = await probeBackend('tracebridge-collector', 'OTELCOL_BIN');
    try {
      for (const probe of [c.livenessProbe, c.readinessProbe]) {
        expect((await fetch(`http://127.0.0.1:${moved.get(portOf(c, probe.httpGet.port))!}${probe.httpGet.path}`)).status).toBe(200);
      }
      const metrics = await (await fetch(`http://127.0.0.1:${moved.get(portOf(c, 'metrics'))!}/metrics`)).text();
      expect(metrics).toContain('otelcol_process_uptime');
      expect(moved.has(portOf(c, 'otlp-grpc'))).toBe(true);
    } finally {
      await collector.stop();
    }
  }, 30_000);

  it('Jaeger: probes answer on "health", the query API on "query-http"', async () => {
    const { c, moved, process: jaeger } = await probeBackend('tracebridge-jaeger', 'JAEGER_BIN');
    try {
      for (const probe of [c.livenessProbe, c.readinessProbe]) {
        expect((await fetch(`http://127.0.0.1:${moved.get(portOf(c, probe.httpGet.port))!}${probe.httpGet.path}`)).status).toBe(200);
      }
      expect((await fetch(`http://127.0.0.1:${moved.get(portOf(c, 'query-http'))!}/api/services`)).status).toBe(200);
      expect(moved.has(portOf(c, 'otlp-grpc'))).toBe(true);
    } finally {
      await jaeger.stop();
    }
  }, 30_000);
});
