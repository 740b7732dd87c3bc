import { z } from 'zod';

/**
 * The only module that reads process.env. Everything else receives a typed Config.
 * Names follow the seed document and the OTEL_* conventions; see README "Configuration".
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveMs = z.coerce.number().int().min(1).max(3_600_000);
const count = z.coerce.number().int().min(0).max(10_000);
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const databaseUrl = z
  .string()
  .refine((v) => /^postgres(ql)?:\/\//.test(v), 'expected a postgres:// or postgresql:// URL')
  .refine((v) => URL.canParse(v), 'not a valid URL');

/** The instrumentation libraries the SDK loads, by OTEL_NODE_*_INSTRUMENTATIONS' short names. */
export const INSTRUMENTATIONS = ['http', 'pg'] as const;
export type InstrumentationName = (typeof INSTRUMENTATIONS)[number];
const instrumentationList = z
  .string()
  .transform((v) => v.split(',').map((name) => name.trim()).filter((name) => name !== ''))
  .pipe(z.array(z.enum(INSTRUMENTATIONS, { message: `expected a comma-separated list of ${INSTRUMENTATIONS.join(', ')}` })));

/** What the telemetry preload needs: parsed before the app (and without a database URL). */
const telemetryEnv = {
  SERVICE_NAME: z.string().min(1).default('tracebridge-api'),
  SERVICE_VERSION: z.string().min(1).default('0.1.0'),
  DEPLOYMENT_ENVIRONMENT: z.string().min(1).default('development'),
  METRICS_PORT: port.default(9464),
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  OTEL_SDK_DISABLED: bool.default(false),
  // As in @opentelemetry/auto-instrumentations-node: "http,pg" switches those off.
  OTEL_NODE_DISABLED_INSTRUMENTATIONS: instrumentationList.default([]),
  TRACEBRIDGE_ORM_TRACING: bool.default(true),
  TRACEBRIDGE_N_PLUS_ONE_THRESHOLD: z.coerce.number().int().min(2).max(10_000).default(5),
  TRACEBRIDGE_EXPORT_BUFFER_SPANS: z.coerce.number().int().min(512).max(1_000_000).default(20_000),
  TRACEBRIDGE_EXPORT_MAX_RETRY_MS: positiveMs.default(60_000),
  // Set by the Helm chart from the downward API; become k8s.* resource attributes.
  K8S_POD_NAME: z.string().optional(),
  K8S_POD_UID: z.string().optional(),
  K8S_NAMESPACE_NAME: z.string().optional(),
  K8S_NODE_NAME: z.string().optional(),
  HOSTNAME: z.string().optional(),
};
const telemetrySchema = z.object(telemetryEnv);

const apiEnv = {
  ...telemetryEnv,
  PORT: port.default(8000),
  HOST: z.string().min(1).default('0.0.0.0'),
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DB_POOL_MIN: count.default(0),
  DB_POOL_MAX: count.min(1).default(10),
  DB_POOL_ACQUIRE_TIMEOUT_MS: positiveMs.default(3000),
  DB_POOL_IDLE_TIMEOUT_MS: positiveMs.default(30_000),
  DB_CONNECT_TIMEOUT_MS: positiveMs.default(2000),
  DB_STATEMENT_TIMEOUT_MS: positiveMs.default(10_000),
  DB_SSL: bool.default(false),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1).max(100 * 1024 * 1024).default(1024 * 1024),
  READINESS_TIMEOUT_MS: positiveMs.default(1000),
  SHUTDOWN_TIMEOUT_MS: positiveMs.default(10_000),
  RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(3600).default(1),
};
const envSchema = z
  .object(apiEnv)
  .refine((env) => env.DB_POOL_MIN <= env.DB_POOL_MAX, {
    path: ['DB_POOL_MIN'],
    message: 'must not exceed DB_POOL_MAX',
  });

/**
 * Variables the API reads through its libraries rather than here: the OpenTelemetry SDK's
 * (README "Export, sampling and batching"), node-postgres' password, and Node's own flags.
 */
const LIBRARY_ENV = [
  ...['', 'TRACES_'].flatMap((signal) =>
    ['ENDPOINT', 'HEADERS', 'INSECURE', 'CERTIFICATE', 'CLIENT_KEY', 'CLIENT_CERTIFICATE', 'COMPRESSION', 'TIMEOUT'].map(
      (setting) => `OTEL_EXPORTER_OTLP_${signal}${setting}`,
    ),
  ),
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_BSP_SCHEDULE_DELAY',
  'OTEL_BSP_MAX_QUEUE_SIZE',
  'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
  'OTEL_BSP_EXPORT_TIMEOUT',
  'OTEL_SERVICE_NAME',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_PROPAGATORS',
  // Set by the preload itself (the SDK's metrics instrumentation of its own exporters).
  'OTEL_NODE_EXPERIMENTAL_SDK_METRICS',
  'PGPASSWORD',
  'NODE_OPTIONS',
] as const;

/** Every variable the API reads. */
export const KNOWN_ENV: ReadonlySet<string> = new Set([...Object.keys(apiEnv), ...LIBRARY_ENV]);

/**
 * The API's namespaces of names: a variable starting with one of these that the API does not
 * read is a mistake (a misspelt name would otherwise be ignored silently). Other variables
 * (PATH, HOME, ...) are not the API's to judge.
 */
export const OWN_PREFIXES = ['OTEL_', 'TRACEBRIDGE_', 'DB_', 'DATABASE_', 'METRICS_', 'SERVICE_', 'SHUTDOWN_', 'READINESS_'] as const;

/** What Kubernetes injects for every Service in the namespace (<NAME>_SERVICE_HOST, <NAME>_PORT_8000_TCP_ADDR, ...). */
const SERVICE_LINK = /^[A-Z0-9_]+_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_\d+_(TCP|UDP|SCTP)(_(ADDR|PORT|PROTO))?)?)$/;

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  // One row of the Wagner-Fischer table at a time.
  let previous = Uint16Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = new Uint16Array(b.length + 1);
    current[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous.at(j - 1) ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous.at(j) ?? 0) + 1, (current.at(j - 1) ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous.at(b.length) ?? 0;
}

/** The known variable closest to a name. */
export function closestKnown(name: string): string {
  let best = '';
  for (const known of KNOWN_ENV) if (best === '' || distance(name, known) < distance(name, best)) best = known;
  return best;
}

/** Variables in the API's namespaces that it does not read. */
export function unknownVariables(names: Iterable<string>): string[] {
  return [...names].filter((name) => OWN_PREFIXES.some((p) => name.startsWith(p)) && !KNOWN_ENV.has(name) && !SERVICE_LINK.test(name)).sort();
}

export interface TelemetryConfig {
  /** OTEL_SDK_DISABLED: no spans, no metrics (the SDK's own switch). */
  enabled: boolean;
  service: { name: string; version: string; environment: string; instanceId: string | undefined };
  kubernetes: { podName?: string; podUid?: string; namespace?: string; nodeName?: string };
  metrics: { port: number; host: string };
  /** OTEL_NODE_DISABLED_INSTRUMENTATIONS: instrumentation libraries not loaded. */
  disabledInstrumentations: readonly InstrumentationName[];
  /** TRACEBRIDGE_ORM_TRACING: ORM-level spans (query, relationship, session); driver spans stay. */
  ormTracing: boolean;
  nPlusOneThreshold: number;
  export: { maxBufferedSpans: number; maxRetryMs: number };
}

export interface Config {
  port: number;
  host: string;
  metricsPort: number;
  databaseUrl: string;
  service: { name: string; version: string; environment: string };
  telemetry: TelemetryConfig;
  logLevel: z.infer<typeof envSchema>['LOG_LEVEL'];
  pool: {
    min: number;
    max: number;
    acquireTimeoutMs: number;
    idleTimeoutMs: number;
    connectTimeoutMs: number;
    statementTimeoutMs: number;
    ssl: boolean;
  };
  bodyLimitBytes: number;
  readinessTimeoutMs: number;
  shutdownTimeoutMs: number;
  retryAfterSeconds: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  // Empty strings mean "unset" (a Helm value rendered as "" should fall back to the default).
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = schema.safeParse(present);
  const unknown = unknownVariables(Object.keys(env)).map((name) => `  ${name}: not a variable the API reads; did you mean ${closestKnown(name)}?`);
  if (!parsed.success || unknown.length > 0) {
    const lines = (parsed.error?.issues ?? []).map((issue) => {
      // The variable, also when the issue is about a part of its parsed value (an item of a list).
      const name = issue.path[0]?.toString() ?? '(environment)';
      const message = present[name] === undefined ? 'is required' : `${issue.message} (got "${present[name]}")`;
      return `  ${name}: ${message}`;
    });
    throw new ConfigError(`invalid configuration:\n${[...unknown, ...lines].join('\n')}`);
  }
  return parsed.data;
}

function toTelemetryConfig(e: z.output<typeof telemetrySchema>): TelemetryConfig {
  return {
    enabled: !e.OTEL_SDK_DISABLED,
    service: {
      name: e.SERVICE_NAME,
      version: e.SERVICE_VERSION,
      environment: e.DEPLOYMENT_ENVIRONMENT,
      instanceId: e.K8S_POD_UID ?? e.K8S_POD_NAME ?? e.HOSTNAME,
    },
    kubernetes: {
      podName: e.K8S_POD_NAME,
      podUid: e.K8S_POD_UID,
      namespace: e.K8S_NAMESPACE_NAME,
      nodeName: e.K8S_NODE_NAME,
    },
    metrics: { port: e.METRICS_PORT, host: e.METRICS_HOST },
    disabledInstrumentations: e.OTEL_NODE_DISABLED_INSTRUMENTATIONS,
    ormTracing: e.TRACEBRIDGE_ORM_TRACING,
    nPlusOneThreshold: e.TRACEBRIDGE_N_PLUS_ONE_THRESHOLD,
    export: { maxBufferedSpans: e.TRACEBRIDGE_EXPORT_BUFFER_SPANS, maxRetryMs: e.TRACEBRIDGE_EXPORT_MAX_RETRY_MS },
  };
}

/** The telemetry part of the configuration; the preload parses it before any app module loads. */
export function loadTelemetryConfig(env: NodeJS.ProcessEnv = process.env): TelemetryConfig {
  return toTelemetryConfig(parseEnv(telemetrySchema, env));
}

/** Parses the environment once; throws a ConfigError naming every offending variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const e = parseEnv(envSchema, env);
  const telemetry = toTelemetryConfig(e);
  return {
    port: e.PORT,
    host: e.HOST,
    metricsPort: e.METRICS_PORT,
    databaseUrl: e.DATABASE_URL,
    service: { name: e.SERVICE_NAME, version: e.SERVICE_VERSION, environment: e.DEPLOYMENT_ENVIRONMENT },
    telemetry,
    logLevel: e.LOG_LEVEL,
    pool: {
      min: e.DB_POOL_MIN,
      max: e.DB_POOL_MAX,
      acquireTimeoutMs: e.DB_POOL_ACQUIRE_TIMEOUT_MS,
      idleTimeoutMs: e.DB_POOL_IDLE_TIMEOUT_MS,
      connectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
      statementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
      ssl: e.DB_SSL,
    },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    readinessTimeoutMs: e.READINESS_TIMEOUT_MS,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    retryAfterSeconds: e.RETRY_AFTER_SECONDS,
  };
}

/** host:port/database of a database URL, for log lines: never the credentials. */
export function describeDatabase(url: string): string {
  const u = new URL(url);
  return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
}
