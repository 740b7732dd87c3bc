import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createApp } from './app.ts';
import { ConfigError, describeDatabase, loadConfig, type Config } from './config.ts';
import { createDb, pingDatabase, type Db } from './db/knex.ts';
import { newLifecycle } from './lifecycle.ts';
import { createLogger, type Logger } from './logger.ts';
import { nPlusOneReporter } from './telemetry/n-plus-one-report.ts';
import { observePool } from './telemetry/pool-metrics.ts';
import { activeTelemetry } from './telemetry/sdk.ts';
import { metrics } from '@opentelemetry/api';

const POOL_CLOSE_TIMEOUT_MS = 1000;

export interface RunningServer {
  url: string;
  port: number;
  db: Db;
  /** Stops accepting, lets in-flight requests finish (bounded), then closes the pool. Idempotent. */
  shutdown(reason: string): Promise<void>;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const db = createDb(config.databaseUrl, config.pool, { logger });
  const telemetry = activeTelemetry();
  const tracingEnabled = telemetry?.enabled ?? false;
  telemetry?.orm?.setConfig({ ...telemetry.orm.getConfig(), onNPlusOne: nPlusOneReporter(logger) });
  const pool = tracingEnabled ? observePool(db, metrics.getMeter('tracebridge-api')) : undefined;
  // The first connection also runs Knex's one-time `select version()`: do it now, outside any
  // request, so it never shows up in a user's trace. A database that is down is not fatal here.
  await pingDatabase(db, config.readinessTimeoutMs).catch((error: unknown) => {
    logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'database not reachable at startup');
  });
  const lifecycle = newLifecycle();
  const app = createApp({ db, config, logger, lifecycle, tracingEnabled, httpServer: telemetry?.httpServer });

  // During shutdown every response closes its connection, so keep-alive clients reconnect
  // to another replica instead of reusing a socket that is about to disappear.
  const server = createAdaptorServer({
    fetch: async (request, env) => {
      const response = await app.fetch(request, env);
      if (lifecycle.shuttingDown) response.headers.set('Connection', 'close');
      return response;
    },
  }) as Server;
  // A client that never finishes its request must not hold a socket for Node's default 5 min.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${port}`;
  logger.info(
    {
      port,
      database: describeDatabase(config.databaseUrl),
      pool_max: config.pool.max,
      tracing: tracingEnabled,
      orm_tracing: tracingEnabled && config.telemetry.ormTracing,
      metrics: tracingEnabled ? `${config.telemetry.metrics.host}:${config.telemetry.metrics.port}/metrics` : null,
    },
    `listening on ${url}`,
  );

  let stopping: Promise<void> | undefined;
  const shutdown = (reason: string) => {
    stopping ??= (async () => {
      // Once the server and pool are closed nothing else holds the event loop, and Node would
      // exit in the middle of the span flush below (the exporter's timers are unref'd).
      const keepAlive = setInterval(() => undefined, 1000);
      lifecycle.shuttingDown = true;
      logger.info({ reason, timeout_ms: config.shutdownTimeoutMs }, 'shutting down: draining in-flight requests');
      const drained = new Promise<boolean>((resolve) => server.close(() => resolve(true)));
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), config.shutdownTimeoutMs);
      });
      const clean = await Promise.race([drained, deadline]);
      clearTimeout(timer);
      if (!clean) {
        logger.warn('shutdown timeout reached: closing remaining connections');
        server.closeAllConnections();
      }
      // knex.destroy() waits for connections still running a query; after a timed-out drain
      // that can be a statement stuck for its full statement_timeout, so this is bounded too.
      pool?.stop();
      const poolClosed = await Promise.race([
        db.destroy().then(() => true),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(false), POOL_CLOSE_TIMEOUT_MS).unref()),
      ]);
      // Last: the spans of every request finished above are flushed (the exporter bounds this).
      await telemetry?.shutdown();
      clearInterval(keepAlive);
      logger.info({ clean: clean && poolClosed }, 'shutdown complete');
    })();
    return stopping;
  };

  return { url, port, db, shutdown };
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`tracebridge-api: ${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel, { service: config.service.name });
  const running = await startServer(config, logger);
  const onSignal = (signal: NodeJS.Signals) => {
    running.shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`tracebridge-api: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
