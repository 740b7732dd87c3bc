import { z } from 'zod';
import { OTEL_SPEC_ENV } from './otel-env.ts';

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

/**
 * PostgreSQL's sslmode values (libpq's names and meaning), without the opportunistic allow and
 * prefer: TLS is either required or off.
 */
export const DB_SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type DbSslMode = (typeof DB_SSL_MODES)[number];

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
  // As in @opentelemetry/auto-instrumentations-node: ENABLED "http" loads only that one,
  // DISABLED "http,pg" switches those off.
  OTEL_NODE_ENABLED_INSTRUMENTATIONS: instrumentationList.optional(),
  OTEL_NODE_DISABLED_INSTRUMENTATIONS: instrumentationList.default([]),
  // The SDK's diagnostics level, as in the spec (case-insensitive).
  OTEL_LOG_LEVEL: z
    .string()
    .transform((v) => v.trim().toUpperCase())
    .pipe(z.enum(['NONE', 'ERROR', 'WARN', 'INFO', 'DEBUG', 'VERBOSE', 'ALL']))
    .default('WARN'),
  // Spec variables whose other values the API cannot honour (checked in otelChoices).
  OTEL_TRACES_EXPORTER: z.string().optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.string().optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.string().optional(),
  OTEL_CONFIG_FILE: z
    .string()
    .refine(() => false, 'the API does not read an SDK configuration file; set OTEL_* variables instead (README "Configuration")')
    .optional(),
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

/** Spec enum values are case-insensitive; exporter lists are comma-separated. */
const choices = (value: string): string[] => value.split(',').map((item) => item.trim().toLowerCase()).filter((item) => item !== '');

/** Parsed values, but raw where a variable failed to parse: this also runs then (see `always`). */
interface OtelChoices {
  OTEL_SDK_DISABLED: unknown;
  OTEL_TRACES_EXPORTER?: string | undefined;
  OTEL_EXPORTER_OTLP_PROTOCOL?: string | undefined;
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL?: string | undefined;
}

/**
 * The spec variables that choose what NodeSDK would build, where the API builds one thing
 * regardless (sdk.ts: an OTLP/gRPC trace exporter, given to NodeSDK, so NodeSDK never reads
 * them). A value the API already matches is accepted; any other would be silently ignored,
 * so it is refused.
 */
function otelChoices(env: OtelChoices, ctx: z.RefinementCtx): void {
  // The per-signal variable wins over the general one, as in the spec.
  const protocolVariable = env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL === undefined ? 'OTEL_EXPORTER_OTLP_PROTOCOL' : 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL';
  const protocol = env[protocolVariable];
  if (protocol !== undefined && choices(protocol).join(',') !== 'grpc') {
    ctx.addIssue({
      code: 'custom',
      path: [protocolVariable],
      message: 'the API exports traces over OTLP/gRPC only (to a gRPC endpoint, usually port 4317); expected grpc',
    });
  }
  const exporters = env.OTEL_TRACES_EXPORTER === undefined ? ['otlp'] : choices(env.OTEL_TRACES_EXPORTER);
  if (exporters.join(',') === 'none' && env.OTEL_SDK_DISABLED !== true) {
    ctx.addIssue({
      code: 'custom',
      path: ['OTEL_TRACES_EXPORTER'],
      message: 'expected otlp; the API cannot turn off trace export alone: OTEL_SDK_DISABLED=true turns off its telemetry (spans and /metrics)',
    });
  } else if (exporters.join(',') !== 'otlp' && exporters.join(',') !== 'none') {
    ctx.addIssue({ code: 'custom', path: ['OTEL_TRACES_EXPORTER'], message: 'the API exports traces over OTLP only; expected otlp' });
  }
}

// Run also when other variables are invalid, so that one message names every offending variable.
const always = { when: () => true };
const telemetrySchema = z.object(telemetryEnv).superRefine(otelChoices, always);

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
  // DB_SSL=true is DB_SSL_MODE=verify-full, what it has always meant; kept for existing setups.
  DB_SSL: bool.optional(),
  DB_SSL_MODE: z.enum(DB_SSL_MODES, { message: `expected one of ${DB_SSL_MODES.join(', ')}` }).optional(),
  // A PEM bundle of the CAs to trust instead of Node's (managed PostgreSQL: RDS, Cloud SQL, ...).
  DB_SSL_ROOT_CERT: z.string().min(1).optional(),
  BODY_LIMIT_BYTES: z.coerce.number().int().min(1).max(100 * 1024 * 1024).default(1024 * 1024),
  READINESS_TIMEOUT_MS: positiveMs.default(1000),
  SHUTDOWN_TIMEOUT_MS: positiveMs.default(10_000),
  RETRY_AFTER_SECONDS: z.coerce.number().int().min(1).max(3600).default(1),
};
const envSchema = z
  .object(apiEnv)
  .superRefine(otelChoices, always)
  .refine((env) => env.DB_POOL_MIN <= env.DB_POOL_MAX, {
    path: ['DB_POOL_MIN'],
    message: 'must not exceed DB_POOL_MAX',
  })
  .refine((env) => env.DB_SSL === undefined || env.DB_SSL_MODE === undefined || (env.DB_SSL ? 'verify-full' : 'disable') === env.DB_SSL_MODE, {
    path: ['DB_SSL'],
    message: 'contradicts DB_SSL_MODE; set DB_SSL_MODE only (DB_SSL=true means verify-full, false disable)',
  })
  .refine((env) => env.DB_SSL_ROOT_CERT === undefined || sslMode(env) !== 'disable', {
    path: ['DB_SSL_ROOT_CERT'],
    message: 'is only used with TLS: set DB_SSL_MODE=verify-full (or verify-ca)',
  });

/** The sslmode DB_SSL_MODE or the older DB_SSL ask for; disable when neither is set. */
function sslMode(env: { DB_SSL?: boolean | undefined; DB_SSL_MODE?: DbSslMode | undefined }): DbSslMode {
  return env.DB_SSL_MODE ?? (env.DB_SSL ? 'verify-full' : 'disable');
}

/**
 * Variables read by libraries rather than here: the OpenTelemetry SDK's (every name of the
 * specification is accepted, otel-env.ts; README "Export, sampling and batching" lists the ones
 * that apply), node-postgres' password, and Node's own flags.
 */
const LIBRARY_ENV = [...OTEL_SPEC_ENV, 'PGPASSWORD', 'NODE_OPTIONS'];

/** Every variable the API accepts. */
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
  /** OTEL_LOG_LEVEL: the level of the SDK's own diagnostics. */
  diagLogLevel: 'NONE' | 'ERROR' | 'WARN' | 'INFO' | 'DEBUG' | 'VERBOSE' | 'ALL';
  service: { name: string; version: string; environment: string; instanceId: string | undefined };
  kubernetes: { podName?: string; podUid?: string; namespace?: string; nodeName?: string };
  metrics: { port: number; host: string };
  /** Instrumentation libraries not loaded: OTEL_NODE_DISABLED_INSTRUMENTATIONS, or missing from OTEL_NODE_ENABLED_INSTRUMENTATIONS. */
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
    /** TLS to PostgreSQL: the sslmode, and the CA bundle to verify against (else Node's CAs). */
    ssl: { mode: DbSslMode; rootCertPath?: string | undefined };
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
    diagLogLevel: e.OTEL_LOG_LEVEL,
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
    disabledInstrumentations: INSTRUMENTATIONS.filter(
      (name) => e.OTEL_NODE_DISABLED_INSTRUMENTATIONS.includes(name) || (e.OTEL_NODE_ENABLED_INSTRUMENTATIONS?.includes(name) === false),
    ),
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
      ssl: { mode: sslMode(e), rootCertPath: e.DB_SSL_ROOT_CERT },
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
