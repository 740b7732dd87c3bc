import { describe, expect, it } from 'vitest';
import { ConfigError, describeDatabase, KNOWN_ENV, loadConfig, loadTelemetryConfig, unknownVariables } from '../../api/src/config.ts';

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
    expect(config.pool).toMatchObject({ min: 2, max: 4, acquireTimeoutMs: 1500, ssl: true });
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
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ DB_POOL_ACQUIRE_TIMEOUT_MS: '-5' }, 'DB_POOL_ACQUIRE_TIMEOUT_MS'],
  ])('rejects %o naming %s', (env, name) => {
    expect(() => loadConfig({ DATABASE_URL: url, ...env })).toThrow(ConfigError);
    expect(() => loadConfig({ DATABASE_URL: url, ...env })).toThrow(new RegExp(`^invalid configuration:\\n(.*\\n)*  ${name}: `));
  });

  it('OTEL_NODE_DISABLED_INSTRUMENTATIONS: a comma-separated list of http and pg, unknown names refused', () => {
    expect(loadConfig({ DATABASE_URL: url }).telemetry.disabledInstrumentations).toEqual([]);
    expect(loadConfig({ DATABASE_URL: url, OTEL_NODE_DISABLED_INSTRUMENTATIONS: ' pg, http ,' }).telemetry.disabledInstrumentations).toEqual(['pg', 'http']);
    expect(() => loadConfig({ DATABASE_URL: url, OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg,express' })).toThrow(
      /OTEL_NODE_DISABLED_INSTRUMENTATIONS.*: expected a comma-separated list of http, pg/,
    );
  });

  it.each([
    ['DB_POOL_MAXX', 'DB_POOL_MAX'],
    ['SHUTDOWN_TIMEOUT', 'SHUTDOWN_TIMEOUT_MS'],
    ['TRACEBRIDGE_ORM_TRACE', 'TRACEBRIDGE_ORM_TRACING'],
    ['OTEL_EXPORTER_OTLP_ENDPIONT', 'OTEL_EXPORTER_OTLP_ENDPOINT'],
    // Read by auto-instrumentations-node, not by this API (which takes the DISABLED list only).
    ['OTEL_NODE_ENABLED_INSTRUMENTATIONS', 'OTEL_NODE_DISABLED_INSTRUMENTATIONS'],
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
    expect(unknownVariables(['OTEL_TRACES_EXPORTER', 'PATH'])).toEqual(['OTEL_TRACES_EXPORTER']);
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
