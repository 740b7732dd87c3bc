import { diag, DiagLogLevel, type DiagLogger } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import type { Instrumentation } from '@opentelemetry/instrumentation';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { envDetector, processDetector } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { INSTRUMENTATIONS, type InstrumentationName, type TelemetryConfig } from '../config.ts';
import { RetryingSpanExporter } from './exporter.ts';
import { createEncodedOtlpGrpcTraceExporter, encodedSpansCodec } from './otlp-encoded.ts';
import { HttpServerInstrumentation } from './http-server/instrumentation.ts';
import { ObjectionInstrumentation } from './objection/instrumentation.ts';
import { serviceResource } from './resource.ts';

export interface Telemetry {
  /** False when OTEL_SDK_DISABLED=true: nothing is recorded or exported. */
  readonly enabled: boolean;
  /** The SERVER span middleware's owner; absent when OTEL_NODE_DISABLED_INSTRUMENTATIONS has http. */
  readonly httpServer?: HttpServerInstrumentation;
  /** The ORM spans; absent when TRACEBRIDGE_ORM_TRACING=false. */
  readonly orm?: ObjectionInstrumentation;
  /** Flushes buffered spans (bounded) and stops the metrics endpoint. */
  shutdown(): Promise<void>;
}

let current: Telemetry | undefined;

/** The telemetry the preload started, if any (the server flushes it on shutdown). */
export const activeTelemetry = (): Telemetry | undefined => current;

/** The SDK's diagnostics as JSON lines on stderr, so they never interleave with the app's stdout logs. */
const jsonDiag = (level: string): DiagLogger['error'] => (message, ...args) => {
  process.stderr.write(`${JSON.stringify({ level, source: 'opentelemetry', msg: message, args: args.map(String) })}\n`);
};

/**
 * NodeSDK with:
 * - traces: batched (OTEL_BSP_*), sampled (OTEL_TRACES_SAMPLER*), exported over OTLP/gRPC
 *   (OTEL_EXPORTER_OTLP_*) through a bounded retrying buffer that holds them protobuf-encoded;
 * - metrics: a Prometheus endpoint on METRICS_HOST:METRICS_PORT/metrics, never OTLP;
 * - logs: no OTLP log exporter (logs are JSON on stdout);
 * - instrumentations: http (our SERVER span middleware) and the Objection ORM spans with
 *   their parameterized SQL; pg (driver spans) only when ORM tracing is off.
 */
export function startTelemetry(config: TelemetryConfig): Telemetry {
  if (current) return current;
  if (!config.enabled) {
    current = { enabled: false, shutdown: () => Promise.resolve() };
    return current;
  }

  const exporter = new RetryingSpanExporter(
    createEncodedOtlpGrpcTraceExporter(),
    { maxBufferedSpans: config.export.maxBufferedSpans, maxRetryMs: config.export.maxRetryMs },
    encodedSpansCodec,
  );
  const prometheus = new PrometheusExporter(
    { host: config.metrics.host, port: config.metrics.port, endpoint: '/metrics' },
    (error) => {
      if (error) diag.error(`metrics endpoint ${config.metrics.host}:${config.metrics.port} failed to start: ${error.message}`);
    },
  );
  const loaded = instrumentations(config);
  // Left out, not disabled, when off: the SDK enables every instrumentation it is given.
  const orm = config.ormTracing ? new ObjectionInstrumentation() : undefined;
  const sdk = new NodeSDK({
    resource: serviceResource(config),
    // OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME and process.*; not the host detector: its
    // host.id arrives asynchronously and the first metric collection would read it unsettled.
    // host.name is set synchronously in serviceResource().
    resourceDetectors: [envDetector, processDetector],
    traceExporter: exporter,
    metricReaders: [prometheus],
    logRecordProcessors: [],
    instrumentations: [...Object.values(loaded), ...(orm ? [orm] : [])],
  });
  // After the SDK's constructor, which installs a plain console logger of its own when
  // OTEL_LOG_LEVEL is set (a logger set before it would be overwritten, with a warning).
  diag.setLogger(
    { error: jsonDiag('error'), warn: jsonDiag('warn'), info: jsonDiag('info'), debug: jsonDiag('debug'), verbose: jsonDiag('trace') },
    { logLevel: DiagLogLevel[config.diagLogLevel], suppressOverrideMessage: true },
  );
  sdk.start();
  exporter.useMeter();

  let stopping: Promise<void> | undefined;
  current = {
    enabled: true,
    httpServer: loaded.http as HttpServerInstrumentation | undefined,
    orm,
    shutdown: () => (stopping ??= sdk.shutdown()),
  };
  return current;
}

/**
 * http gives the SERVER span (without it a request has no trace, and no db span is made).
 * Statements are traced by the ORM instrumentation (one span per query, carrying its SQL);
 * instrumentation-pg is loaded only when ORM tracing is off, for driver spans instead.
 * OTEL_NODE_DISABLED_INSTRUMENTATIONS leaves either out. The API makes no outgoing HTTP calls
 * of its own (the OTLP exporter's are untraced), so instrumentation-http is not loaded at all.
 */
function instrumentations(config: TelemetryConfig): Partial<Record<InstrumentationName, Instrumentation>> {
  const all: Record<InstrumentationName, () => Instrumentation | undefined> = {
    http: () =>
      new HttpServerInstrumentation({
        // Health probes hit every few seconds; their spans would drown the traces people look for.
        ignoreRoutes: ['/healthz', '/readyz'],
        nPlusOneThreshold: config.nPlusOneThreshold,
      }),
    pg: () =>
      config.ormTracing
        ? undefined
        : new PgInstrumentation({
            // No bound values in spans; no spans for statements outside a request (migrations);
            // connection setup is measured by db.client.connection.create_time instead of a span.
            enhancedDatabaseReporting: false,
            requireParentSpan: true,
            ignoreConnectSpans: true,
          }),
  };
  const loaded: Partial<Record<InstrumentationName, Instrumentation>> = {};
  for (const name of INSTRUMENTATIONS.filter((n) => !config.disabledInstrumentations.includes(n))) {
    const instrumentation = all[name]();
    if (instrumentation) loaded[name] = instrumentation;
  }
  return loaded;
}
