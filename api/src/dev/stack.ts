import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { collectorArgs, parseDestinations } from '../../../collector/fragments.ts';
import { jaegerArgs } from '../../../collector/jaeger-config.ts';
import { createDb } from '../db/knex.ts';
import { migrateLatest } from '../db/migrations/index.ts';
import { seedDemoData } from '../db/seeds/demo.ts';
import { testablePool } from './pool.ts';
import { defaultBaseDir, startEmbeddedPostgres, type EmbeddedDatabase } from './embedded-postgres.ts';
import { repoRoot, runProcess, waitForHttp, type ManagedProcess } from './processes.ts';

/**
 * `make up`: the whole stack on loopback without Docker — embedded PostgreSQL, Jaeger v2, the
 * collector running the shipped pipeline, and the traced API — supervised as one unit. A
 * component that fails to start or dies stops everything with its last output; Ctrl-C (or
 * `make down`) stops the API first, then the collector, Jaeger and the database.
 */

const env = process.env;

/** The loopback ports of the stack (README "make up"), defined here only. */
const LOCAL = {
  api: 8000,
  apiMetrics: 9464,
  collectorOtlpGrpc: 4317,
  collectorOtlpHttp: 4318,
  collectorHealth: 13133,
  collectorMetrics: 8888,
  // Jaeger's OTLP and health ports moved off the collector's.
  jaegerOtlpGrpc: 14317,
  jaegerOtlpHttp: 14318,
  jaegerHealth: 14133,
  jaegerQuery: 16686,
  jaegerQueryGrpc: 16685,
  prometheus: 9090,
} as const;
const at = (port: number) => `127.0.0.1:${port}`;
const say = (line: string) => process.stdout.write(`[stack] ${line}\n`);
const required = (name: string): string => {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set: run \`make up\`, which builds the tools first`);
  return value;
};
const prefixed = (name: string) => (chunk: string) => {
  if (env.STACK_VERBOSE === 'true' || name === 'api') {
    for (const line of chunk.split('\n').filter(Boolean)) process.stdout.write(`${name.padEnd(9)}| ${line}\n`);
  }
};

// STACK_DIR comes from the Makefile (make down reads the same pid file).
const stateDir = env.STACK_DIR || join(env.XDG_CACHE_HOME || join(env.HOME ?? '/tmp', '.cache'), 'tracebridge', 'stack');
const pidFile = join(stateDir, 'stack.pid');

async function main(): Promise<void> {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(pidFile, `${process.pid}\n`);
  const running: Array<[string, ManagedProcess]> = [];
  let database: EmbeddedDatabase | undefined;
  let stopping = false;

  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    for (const [name, child] of running.reverse()) {
      say(`stopping ${name}`);
      await child.stop();
    }
    if (database) {
      say('stopping postgres');
      await database.stop();
    }
    rmSync(pidFile, { force: true });
    process.exit(code);
  };
  // API first, database last.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll(0));
  const supervise = (name: string, child: ManagedProcess) => {
    running.push([name, child]);
    void child.exited.then((code) => {
      if (stopping) return;
      process.stderr.write(`[stack] ${name} exited (${String(code)}); last output:\n${child.stderr().slice(-2000)}${child.stdout().slice(-2000)}\n`);
      void stopAll(1);
    });
  };

  try {
    let databaseUrl = env.DATABASE_URL;
    if (!databaseUrl) {
      database = await startEmbeddedPostgres({
        baseDir: defaultBaseDir(env),
        port: Number(env.EMBEDDED_PG_PORT ?? 54329),
        database: 'tracebridge',
        persistent: true,
      });
      databaseUrl = database.url;
      say(`postgres on 127.0.0.1:${new URL(databaseUrl).port} (data in ${database.dataDir})`);
    }
    const db = createDb(databaseUrl, testablePool);
    try {
      await migrateLatest(db);
      if (env.DEMO_DATA !== 'false') await seedDemoData(db);
    } finally {
      await db.destroy();
    }

    const jaeger = runProcess(
      required('JAEGER_BIN'),
      // Memory storage: the local stack starts fresh like its demo data; traces go with it.
      jaegerArgs('memory'),
      {
        JAEGER_OTLP_GRPC_ENDPOINT: at(LOCAL.jaegerOtlpGrpc),
        JAEGER_OTLP_HTTP_ENDPOINT: at(LOCAL.jaegerOtlpHttp),
        JAEGER_QUERY_HTTP_ENDPOINT: at(LOCAL.jaegerQuery),
        JAEGER_QUERY_GRPC_ENDPOINT: at(LOCAL.jaegerQueryGrpc),
        JAEGER_HEALTH_ENDPOINT: at(LOCAL.jaegerHealth),
      },
      prefixed('jaeger'),
    );
    supervise('jaeger', jaeger);
    await waitForHttp(`http://${at(LOCAL.jaegerQuery)}/api/services`, jaeger);
    say('jaeger ready');

    const destinations = parseDestinations(env.DESTINATIONS ?? 'jaeger');
    const passThrough = Object.fromEntries(
      Object.entries(env).filter(([k, v]) => v !== undefined && /^(GRAFANA_CLOUD_|DD_|DEBUG_VERBOSITY)/.test(k)),
    ) as Record<string, string>;
    const collector = runProcess(
      required('OTELCOL_BIN'),
      collectorArgs(destinations),
      {
        ...passThrough,
        OTLP_GRPC_ENDPOINT: at(LOCAL.collectorOtlpGrpc),
        OTLP_HTTP_ENDPOINT: at(LOCAL.collectorOtlpHttp),
        COLLECTOR_HEALTH_ENDPOINT: at(LOCAL.collectorHealth),
        COLLECTOR_METRICS_HOST: '127.0.0.1',
        COLLECTOR_METRICS_PORT: String(LOCAL.collectorMetrics),
        JAEGER_OTLP_ENDPOINT: at(LOCAL.jaegerOtlpGrpc),
        API_METRICS_TARGET: at(LOCAL.apiMetrics),
      },
      prefixed('collector'),
    );
    supervise('collector', collector);
    await waitForHttp(`http://${at(LOCAL.collectorHealth)}/`, collector);
    say(`collector ready (destinations: ${destinations.join(', ')}; config: collector/config/)`);

    const api = runProcess(
      process.execPath,
      ['--import', './api/src/telemetry/preload.ts', 'api/src/server.ts'],
      {
        DATABASE_URL: databaseUrl,
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://${at(LOCAL.collectorOtlpGrpc)}`,
        PORT: String(LOCAL.api),
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: String(LOCAL.apiMetrics),
        DEPLOYMENT_ENVIRONMENT: 'local',
        ...(env.LOG_LEVEL ? { LOG_LEVEL: env.LOG_LEVEL } : {}),
      },
      prefixed('api'),
    );
    supervise('api', api);
    await waitForHttp(`http://${at(LOCAL.api)}/readyz`, api);

    if (env.PROMETHEUS_BIN) {
      const prometheus = runProcess(
        env.PROMETHEUS_BIN,
        [
          `--config.file=${join(repoRoot, 'collector/prometheus.yaml')}`,
          `--storage.tsdb.path=${join(stateDir, 'prometheus')}`,
          `--web.listen-address=${at(LOCAL.prometheus)}`,
        ],
        {},
        prefixed('prometheus'),
      );
      supervise('prometheus', prometheus);
      await waitForHttp(`http://${at(LOCAL.prometheus)}/-/ready`, prometheus);
    }
    process.stdout.write(
      [
        '',
        '  tracebridge is up',
        `  API            http://${at(LOCAL.api)}/        docs: http://${at(LOCAL.api)}/docs`,
        `  API metrics    http://${at(LOCAL.apiMetrics)}/metrics`,
        `  Jaeger         http://${at(LOCAL.jaegerQuery)}/api/services   (query API; a plain Jaeger build has no UI assets)`,
        `  Collector      OTLP ${at(LOCAL.collectorOtlpGrpc)} / ${LOCAL.collectorOtlpHttp}, own metrics http://${at(LOCAL.collectorMetrics)}/metrics`,
        env.PROMETHEUS_BIN ? `  Prometheus     http://${at(LOCAL.prometheus)}/api/v1/query?query=up   (query API)` : '',
        '  make demo      drives the seed\'s requests; make down (or Ctrl-C) stops everything',
        '',
      ]
        .filter((line, i) => line !== '' || i === 0)
        .join('\n') + '\n',
    );
  } catch (error) {
    process.stderr.write(`[stack] ${error instanceof Error ? error.message : String(error)}\n`);
    await stopAll(1);
  }
}

void main();
