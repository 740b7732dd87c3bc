import { loadConfig, ConfigError } from '../config.ts';
import { createDb } from '../db/knex.ts';
import { migrateLatest } from '../db/migrations/index.ts';
import { seedDemoData } from '../db/seeds/demo.ts';
import { createLogger } from '../logger.ts';
import { startServer } from '../server.ts';
import { defaultBaseDir, startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.ts';

/**
 * `make dev`: a real PostgreSQL (embedded unless DATABASE_URL is set), migrations, demo data,
 * then the API. Ctrl-C stops the API gracefully and then the database.
 */
async function dev(): Promise<void> {
  const env = { ...process.env };
  const bootLogger = createLogger('info', { service: 'tracebridge-dev' });
  let embedded: EmbeddedDatabase | undefined;
  if (!env.DATABASE_URL) {
    const baseDir = defaultBaseDir(env);
    const port = Number(env.EMBEDDED_PG_PORT ?? 54329);
    bootLogger.info({ data: baseDir, port }, 'DATABASE_URL is unset: starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({ baseDir, port, database: 'tracebridge', persistent: true });
    env.DATABASE_URL = embedded.url;
  }
  const stopDatabase = async () => {
    await embedded?.stop();
  };

  try {
    const config = loadConfig(env);
    const db = createDb(config.databaseUrl, config.pool, { applicationName: 'tracebridge-dev' });
    try {
      const applied = await migrateLatest(db);
      bootLogger.info({ applied }, applied.length > 0 ? 'migrations applied' : 'schema up to date');
      if (env.DEMO_DATA !== 'false') bootLogger.info(await seedDemoData(db), 'demo data ensured');
    } finally {
      await db.destroy();
    }

    const logger = createLogger(config.logLevel, { service: config.service.name });
    const running = await startServer(config, logger);
    process.stdout.write(
      [
        '',
        `  API        ${running.url}/`,
        `  Docs       ${running.url}/docs`,
        `  OpenAPI    ${running.url}/openapi.json`,
        `  Ready      ${running.url}/readyz`,
        config.telemetry.enabled ? `  Metrics    http://127.0.0.1:${config.telemetry.metrics.port}/metrics` : '',
        config.telemetry.enabled
          ? `  Traces     OTLP/gRPC to ${env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT ?? 'http://localhost:4317'}`
          : '  Traces     off (OTEL_SDK_DISABLED=true)',
        embedded ? `  Postgres   127.0.0.1:${new URL(embedded.url).port} (data in ${embedded.dataDir})` : '',
        '  Ctrl-C to stop.',
        '',
      ]
        .filter(Boolean)
        .join('\n') + '\n',
    );
    const stop = (signal: NodeJS.Signals) => {
      running
        .shutdown(signal)
        .then(stopDatabase)
        .then(
          () => process.exit(0),
          (error: unknown) => {
            bootLogger.error({ error: error instanceof Error ? error.message : String(error) }, 'shutdown failed');
            process.exit(1);
          },
        );
    };
    // API first (in-flight requests finish, spans flush), then the database.
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, stop);
  } catch (error) {
    await stopDatabase();
    throw error;
  }
}

dev().catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : error instanceof Error ? error.message : String(error);
  process.stderr.write(`tracebridge dev: ${message}\n`);
  process.exit(1);
});
