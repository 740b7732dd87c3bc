import type { Config } from '../config.ts';

/** Pool settings for one-off setup work (migrations, demo data) in the dev tools. */
export const testablePool: Config['pool'] = {
  min: 0,
  max: 2,
  acquireTimeoutMs: 5000,
  idleTimeoutMs: 1000,
  connectTimeoutMs: 5000,
  statementTimeoutMs: 60_000,
  ssl: { mode: 'disable' },
};
