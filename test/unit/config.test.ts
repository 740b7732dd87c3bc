import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, describeDatabase, KNOWN_ENV, loadConfig, loadTelemetryConfig, unknownVariables } from '../../api/src/config.ts';
import { OTEL_SPEC_ENV } from '../../api/src/otel-env.ts';

const url = 'postgresql://app:s3cret@db.internal:5433/tracebridge';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({ DATABASE_URL: url });
    expect(config).toMatchObject({
      port: 8000,
      host: '0.0.0.0',
      metricsPort: 9464,
      service: { name: 'tracebridge-api', version: '0.1.0', environment: 'development' },
      pool: { min: 0, max: 10, acquireTimeoutMs: 3000, connectTimeoutMs: 2000, statementTimeoutMs: 10_000 },
      bodyLimitBytes: 1_048_576,
      shutdownTimeoutMs: 10_000,
      retryAfterSeconds: 1,
    });
  });

  it('reads every variable, treating empty strings as unset', () => {
    const config = loadConfig({
      DATABASE_URL: url,
      PORT: '9000',
      METRICS_PORT: '',
      DB_POOL_MIN: '2',
      DB_POOL_MAX: '4',
      DB_POOL_ACQUIRE_TIMEOUT_MS: '1500',
      DB_SSL: 'true',
      BODY_LIMIT_BYTES: '2048',
      SERVICE_NAME: 'svc',
    });
    expect(config.port).toBe(9000);
    expect(config.metricsPort).toBe(9464);
    expect(config.pool).toMatchObject({ min: 2, max: 4, acquireTimeoutMs: 1500, ssl: { mode: 'verify-full' } });
    expect(config.bodyLimitBytes).toBe(2048);
    expect(config.service.name).toBe('svc');
  });

  it.each([
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: 'http' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL'],
    [{ DB_POOL_MAX: '0' }, 'DB_POOL_MAX'],
    [{ DB_POOL_MIN: '5', DB_POOL_MAX: '2' }, 'DB_POOL_MIN'],
    [{ DB_SSL: 'maybe' }, 'DB_SSL'],
    [{ DB_SSL_MODE: 'prefer' }, 'DB_SSL_MODE'],
    [{ DB_SSL: 'true', DB_SSL_MODE: 'disable' }, 'DB_SSL'],
    [{ DB_SSL_ROOT_CERT: '/etc/ssl/rds.pem' }, 'DB_SSL_ROOT_CERT'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DB_POOL_ACQUIRE_TIMEOUT_MS: '-5' }, 'DB_POOL_ACQUIRE_TIMEOUT_MS'],
  ])('rejects %o naming %s', (env, name) => {
    expect(() => loadConfig({ DATABASE_URL: url, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: url, ...env })).toThrow(new RegExp(`^invalid configuration:\\n(.*\\n)*  ${name}: `));
  });

  it('OTEL_NODE_DISABLED_INSTRUMENTATIONS: a comma-separated list of http and pg, unknown names refused', () => {
    expect(loadConfig({ DATABASE_URL: url }).telemetry.disabledInstrumentations).toEqual([]);
    expect(loadConfig({ DATABASE_URL: url, OTEL_NODE_DISABLED_INSTRUMENTATIONS: ' pg, http ,' }).telemetry.disabledInstrumentations).toEqual(['http', 'pg']);
    expect(() => loadConfig({ DATABASE_URL: url, OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg,express' })).toThrow(
      /OTEL_NODE_DISABLED_INSTRUMENTATIONS.*: expected a comma-separated list of http, pg/,
    );
  });

  it('OTEL_NODE_ENABLED_INSTRUMENTATIONS: only the listed ones load; DISABLED still removes', () => {
    expect(loadConfig({ DATABASE_URL: url, OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http' }).telemetry.disabledInstrumentations).toEqual(['pg']);
    expect(loadConfig({ DATABASE_URL: url, OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'pg,http' }).telemetry.disabledInstrumentations).toEqual([]);
    expect(
      loadConfig({ DATABASE_URL: url, OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,pg', OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' }).telemetry.disabledInstrumentations,
    ).toEqual(['pg']);
    expect(() => loadTelemetryConfig({ OTEL_NODE_ENABLED_INSTRUMENTATIONS: 'http,express' })).toThrow(
      /OTEL_NODE_ENABLED_INSTRUMENTATIONS.*: expected a comma-separated list of http, pg/,
    );
  });

  it.each([
    ['DB_POOL_MAXX', 'DB_POOL_MAX'],
    ['SHUTDOWN_TIMEOUT', 'SHUTDOWN_TIMEOUT_MS'],
    ['TRACEBRIDGE_ORM_TRACE', 'TRACEBRIDGE_ORM_TRACING'],
    ['OTEL_EXPORTER_OTLP_ENDPIONT', 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    ['OTEL_TRACES_EXPORTERS', 'OTEL_TRACES_EXPORTER'],
    ['OTEL_EXPORTER_OTLP_PROTOCAL', 'OTEL_EXPORTER_OTLP_PROTOCOL'],
    ['OTEL_NODE_DISABLE_INSTRUMENTATIONS', 'OTEL_NODE_DISABLED_INSTRUMENTATIONS'],
    ['DB_POOL_SIZE', 'DB_POOL_MIN'],
    ['DATABASE_URI', 'DATABASE_URL'],
  ])('refuses %s, a variable in its namespace it does not read, suggesting %s', (name, meant) => {
    const message = `  ${name}: not a variable the API reads; did you mean ${meant}?`;
    expect(() => loadConfig({ DATABASE_URL: url, [name]: 'x' })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: url, [name]: 'x' })).toThrow(message);
    // Also where the preload reads only the telemetry half, and also when empty.
    expect(() => loadTelemetryConfig({ [name]: '' })).toThrow(message);
  });

  it("leaves other variables alone: the process environment, and Kubernetes' service links", () => {
    const env = {
      DATABASE_URL: url,
      PATH: '/usr/bin',
      HOME: '/home/app',
      NODE_ENV: 'production',
      PGPASSWORD: 'x',
      TRACEBRIDGE_API_SERVICE_HOST: '198.51.100.7',
      TRACEBRIDGE_API_SERVICE_PORT_HTTP: '8000',
      TRACEBRIDGE_API_PORT_8000_TCP_ADDR: '198.51.100.7',
      OTEL_COLLECTOR_PORT: 'tcp://198.51.100.8:4317',
      DB_SERVICE_HOST: '198.51.100.9',
    };
    expect(() => loadConfig(env)).not.toThrow();
  });

  it('every variable it knows is parsed here or read by a library it names', () => {
    for (const name of ['DATABASE_URL', 'SHUTDOWN_TIMEOUT_MS', 'OTEL_SDK_DISABLED', 'OTEL_TRACES_SAMPLER_ARG', 'PGPASSWORD', 'NODE_OPTIONS']) expect(KNOWN_ENV.has(name), name).toBe(true);
    expect(unknownVariables(KNOWN_ENV)).toEqual([]);
    expect(unknownVariables(['OTEL_TRACES_EXPORTERS', 'OTEL_TRACES_EXPORTER', 'PATH'])).toEqual(['OTEL_TRACES_EXPORTERS']);
  });

  it('OTEL_LOG_LEVEL sets the level of the SDK diagnostics (spec values, any case); another value is refused', () => {
    expect(loadTelemetryConfig({}).diagLogLevel).toBe('WARN');
    expect(loadTelemetryConfig({ OTEL_LOG_LEVEL: ' debug' }).diagLogLevel).toBe('DEBUG');
    expect(() => loadTelemetryConfig({ OTEL_LOG_LEVEL: 'chatty' })).toThrow(/OTEL_LOG_LEVEL: .*"NONE".*\(got "chatty"\)/);
  });

  it("accepts the OpenTelemetry specification's variables that platform tooling sets, with values the API matches", () => {
    const platform = {
      OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_LOG_LEVEL: 'info',
      OTEL_METRICS_EXPORTER: 'otlp',
      OTEL_LOGS_EXPORTER: 'otlp',
      OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: '4096',
      OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: '128',
      OTEL_METRIC_EXPORT_INTERVAL: '15000',
      OTEL_SEMCONV_STABILITY_OPT_IN: 'http',
      OTEL_NODE_RESOURCE_DETECTORS: 'env,host,os',
      OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf',
    };
    expect(() => loadConfig({ DATABASE_URL: url, ...platform })).not.toThrow();
    expect(() => loadTelemetryConfig(platform)).not.toThrow();
    // Spec values are case-insensitive; the per-signal protocol wins over the general one.
    expect(() => loadConfig({ DATABASE_URL: url, OTEL_EXPORTER_OTLP_PROTOCOL: ' GRPC', OTEL_TRACES_EXPORTER: 'OTLP' })).not.toThrow();
    expect(() => loadConfig({ DATABASE_URL: url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'grpc' })).not.toThrow();
    // Nothing is exported with the SDK off, which is what "none" asks for.
    expect(loadConfig({ DATABASE_URL: url, OTEL_TRACES_EXPORTER: 'none', OTEL_SDK_DISABLED: 'true' }).telemetry.enabled).toBe(false);
  });

  it.each([
    ['OTEL_EXPORTER_OTLP_PROTOCOL', 'http/protobuf', {}, 'exports traces over OTLP/gRPC only (to a gRPC endpoint, usually port 4317); expected grpc'],
    ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'http/json', { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'expected grpc'],
    ['OTEL_TRACES_EXPORTER', 'zipkin', {}, 'the API exports traces over OTLP only; expected otlp'],
    ['OTEL_TRACES_EXPORTER', 'otlp,console', {}, 'expected otlp'],
    ['OTEL_TRACES_EXPORTER', 'none', {}, 'cannot turn off trace export alone: OTEL_SDK_DISABLED=true turns off its telemetry (spans and /metrics)'],
    ['OTEL_CONFIG_FILE', '/etc/otel/sdk.yaml', {}, 'the API does not read an SDK configuration file'],
  ])('refuses %s=%s, a value it would otherwise ignore, saying what it does instead', (name, value, other, says) => {
    const env = { ...other, [name]: value };
    const message = new RegExp(`^  ${name}: .*${says.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.* \\(got "${value.replace('/', '\\/')}"\\)$`, 'm');
    expect(() => loadConfig({ DATABASE_URL: url, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: url, ...env })).toThrow(message);
    expect(() => loadTelemetryConfig(env)).toThrow(message);
    // Named also when another variable is invalid: one message lists every offending variable.
    expect(() => loadTelemetryConfig({ ...env, METRICS_PORT: 'http' })).toThrow(message);
  });

  it('knows every OTEL_ variable the installed opentelemetry-js packages read', () => {
    const root = join(import.meta.dirname, '../../node_modules/@opentelemetry');
    const read = new Set<string>();
    for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
      if (!file.endsWith('.mjs')) continue;
      for (const match of readFileSync(join(root, file), 'utf8').matchAll(/(?:FromEnv\(|process\.env\[)\s*["'`](OTEL_[A-Z0-9_]+)["'`]/g)) read.add(match[1] ?? '');
    }
    // A floor, so that a change in how the packages read the environment cannot empty the check.
    expect(read.size).toBeGreaterThan(60);
    expect([...read].filter((name) => !OTEL_SPEC_ENV.includes(name)).sort()).toEqual([]);
  });

  it('reports a missing DATABASE_URL as required', () => {
    expect(() => loadConfig({})).toThrow('DATABASE_URL: is required');
  });
});

describe('describeDatabase', () => {
  it('never includes the credentials', () => {
    expect(describeDatabase(url)).toBe('db.internal:5433/tracebridge');
    expect(describeDatabase('postgres://u:p@localhost/x')).toBe('localhost:5432/x');
  });
});
