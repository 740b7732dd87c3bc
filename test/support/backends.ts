import { writeFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectorArgs, configArgs, type Destination, type Yaml } from '../../collector/fragments.ts';
import { jaegerArgs } from '../../collector/jaeger-config.ts';
import { freePort } from './ports.ts';
import { runProcess, waitForHttp, type ManagedProcess } from './process.ts';
import { toolBinary } from './tools.ts';

export { toolBinary } from './tools.ts';


export interface Jaeger {
  otlpGrpcEndpoint: string;
  /** The OTLP/HTTP receiver's base URL (POST <url>/v1/traces). */
  otlpHttpUrl: string;
  queryUrl: string;
  /** The running process (replaced by start()). */
  readonly process: ManagedProcess;
  stop(): Promise<void>;
  /** Starts it again with the same configuration, environment and ports: a restart after stop(). */
  start(): Promise<void>;
}

/**
 * The real Jaeger v2 on free loopback ports, with collector/jaeger.yaml and memory storage
 * unless `args` gives other configuration (e.g. the chart's ConfigMap files). `env` adds to the
 * addresses (e.g. the chart's JAEGER_QUERY_BASE_PATH: queryUrl then ends in it); `set` are
 * `--set=key=value` overrides of the files (e.g. a TLS receiver).
 */
export async function startJaeger(options: { args?: string[]; env?: Record<string, string>; set?: string[] } = {}): Promise<Jaeger> {
  const [otlpGrpc, otlpHttp, query, queryGrpc, health] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const args = [...(options.args ?? jaegerArgs('memory')), ...(options.set ?? []).map((s) => `--set=${s}`)];
  const queryUrl = `http://127.0.0.1:${query}${(options.env?.JAEGER_QUERY_BASE_PATH ?? '').replace(/\/$/, '')}`;
  const launch = async () => {
    const launched = runProcess(toolBinary('JAEGER_BIN'), args, {
      JAEGER_OTLP_GRPC_ENDPOINT: `127.0.0.1:${otlpGrpc}`,
      JAEGER_OTLP_HTTP_ENDPOINT: `127.0.0.1:${otlpHttp}`,
      JAEGER_QUERY_HTTP_ENDPOINT: `127.0.0.1:${query}`,
      JAEGER_QUERY_GRPC_ENDPOINT: `127.0.0.1:${queryGrpc}`,
      JAEGER_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
      ...options.env,
    });
    await waitForHttp(`${queryUrl}/api/services`, launched);
    return launched;
  };
  let current = await launch();
  return {
    otlpGrpcEndpoint: `127.0.0.1:${otlpGrpc}`,
    otlpHttpUrl: `http://127.0.0.1:${otlpHttp}`,
    queryUrl,
    get process() {
      return current;
    },
    stop: () => current.stop(),
    start: async () => {
      current = await launch();
    },
  };
}

export interface Collector {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT. */
  otlpGrpcEndpoint: string;
  /** The OTLP/HTTP receiver's base URL (POST <url>/v1/traces). */
  otlpHttpUrl: string;
  metricsUrl: string;
  /** The running process (replaced by start()). */
  readonly process: ManagedProcess;
  stop(): Promise<void>;
  /** Starts it again with the same configuration and ports: a restart after stop(). */
  start(): Promise<void>;
}

/**
 * The real collector (otelcol-tracebridge) with the shipped pipeline for these destinations
 * (their files under collector/config/, one --config each); env carries the destinations'
 * endpoints and credentials.
 */
export async function startCollector(
  /** Destinations, or configuration files written elsewhere (the chart's ConfigMap). */
  source: Destination[] | { files: string[] },
  env: Record<string, string>,
  /** Fragments the collector merges last, e.g. a SaaS endpoint pointed at a stand-in (tests only). */
  overrides: Record<string, Yaml>[] = [],
): Promise<Collector> {
  const dir = await mkdtemp(join(tmpdir(), 'tracebridge-otelcol-'));
  const overrideFiles = overrides.map((override, i) => {
    const path = join(dir, `override-${i}.yaml`);
    writeFileSync(path, JSON.stringify(override));
    return path;
  });
  const args = [...('files' in source ? configArgs(source.files) : collectorArgs(source)), ...configArgs(overrideFiles)];
  const [grpc, http, health, metrics, noApi] = await Promise.all([1, 2, 3, 4, 5].map(() => freePort()));
  const launch = async () => {
    const launched = runProcess(toolBinary('OTELCOL_BIN'), args, {
      // Where scrape/static.yaml finds the API's /metrics, unless env says: nothing listens here.
      API_METRICS_TARGET: `127.0.0.1:${noApi}`,
      OTLP_GRPC_ENDPOINT: `127.0.0.1:${grpc}`,
      OTLP_HTTP_ENDPOINT: `127.0.0.1:${http}`,
      COLLECTOR_HEALTH_ENDPOINT: `127.0.0.1:${health}`,
      COLLECTOR_METRICS_HOST: '127.0.0.1',
      COLLECTOR_METRICS_PORT: String(metrics),
      ...env,
    });
    await waitForHttp(`http://127.0.0.1:${health}/`, launched);
    return launched;
  };
  let current = await launch();
  return {
    otlpGrpcEndpoint: `http://127.0.0.1:${grpc}`,
    otlpHttpUrl: `http://127.0.0.1:${http}`,
    metricsUrl: `http://127.0.0.1:${metrics}/metrics`,
    get process() {
      return current;
    },
    stop: () => current.stop(),
    start: async () => {
      current = await launch();
    },
  };
}

export interface JaegerSpan {
  traceID: string;
  spanID: string;
  operationName: string;
  references: { refType: string; spanID: string }[];
  tags: { key: string; value: unknown }[];
  processID: string;
  /** Microseconds since the epoch. */
  startTime: number;
}

/** Traces of a service from Jaeger's HTTP query API (what the UI reads). */
export async function jaegerTraces(queryUrl: string, service: string, operation?: string): Promise<JaegerSpan[][]> {
  const params = new URLSearchParams({ service, limit: '50', lookback: '1h' });
  if (operation) params.set('operation', operation);
  const response = await fetch(`${queryUrl}/api/traces?${params.toString()}`);
  if (!response.ok) return [];
  const body = (await response.json()) as { data: { spans: JaegerSpan[] }[] | null };
  return (body.data ?? []).map((t) => t.spans);
}
