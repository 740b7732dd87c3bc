import knexFactory, { type Knex } from 'knex';
import type { Config } from '../config.ts';
import type { Logger } from '../logger.ts';
import { pgTypes } from './timestamps.ts';
import { pgTls, withTlsHint } from './tls.ts';

export type Db = Knex;

/**
 * Knex over pg with a tarn pool sized for a small service. The acquire timeout is a few
 * seconds (Knex's default is 60 s) so a saturated pool or a dead database becomes a fast 503,
 * and every socket and statement has a deadline so nothing hangs.
 */
export function createDb(
  databaseUrl: string,
  pool: Config['pool'],
  options: { applicationName?: string; logger?: Logger } = {},
): Db {
  const { applicationName = 'tracebridge-api', logger } = options;
  return knexFactory({
    // Knex prints to the console by default. Its acquire warnings repeat what the error handler
    // already logs with the route, so they go to debug; without a logger they are dropped.
    log: {
      warn: (message: string) => logger?.debug({ source: 'knex' }, message),
      error: (message: string) => logger?.error({ source: 'knex' }, message),
      deprecate: (method: string, alternative: string) =>
        logger?.warn({ source: 'knex' }, `${method} is deprecated, use ${alternative}`),
      debug: (message: string) => logger?.debug({ source: 'knex' }, message),
    },
    client: 'pg',
    connection: {
      connectionString: databaseUrl,
      connectionTimeoutMillis: pool.connectTimeoutMs,
      statement_timeout: pool.statementTimeoutMs,
      application_name: applicationName,
      ssl: pgTls(pool.ssl),
      types: pgTypes,
    },
    pool: {
      min: pool.min,
      max: pool.max,
      acquireTimeoutMillis: pool.acquireTimeoutMs,
      createTimeoutMillis: pool.connectTimeoutMs,
      idleTimeoutMillis: pool.idleTimeoutMs,
      // A failed connect fails the waiting request at once instead of retrying until the
      // acquire timeout: "database down" answers 503 immediately.
      propagateCreateError: true,
    },
    acquireConnectionTimeout: pool.acquireTimeoutMs,
    // A failed statement's error message starts with its SQL; never with the bound values spliced in.
    compileSqlOnError: false,
  });
}

/**
 * Resolves when the database answers a trivial query, rejects after timeoutMs otherwise; a TLS
 * failure carries what to change (withTlsHint).
 */
export async function pingDatabase(db: Db, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`database did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    await Promise.race([db.raw('select 1'), timeout]);
  } catch (error) {
    throw withTlsHint(error);
  } finally {
    clearTimeout(timer);
  }
}
