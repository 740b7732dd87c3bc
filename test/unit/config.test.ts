import { describe, expect, it } from 'vitest';
import { ConfigError, describeDatabase, loadConfig } from '../../api/src/config.ts';

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
