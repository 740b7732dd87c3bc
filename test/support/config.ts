import { loadConfig, type Config } from '../../api/src/config.ts';

export const testPool: Config['pool'] = {
  min: 0,
  max: 5,
  acquireTimeoutMs: 2000,
  idleTimeoutMs: 30_000,
  connectTimeoutMs: 2000,
  statementTimeoutMs: 10_000,
  ssl: { mode: 'disable' },
};

/** A Config as the API would parse it from this environment (plus test-friendly defaults). */
export function testConfig(env: Record<string, string>): Config {
  return loadConfig({ LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', ...env });
}
