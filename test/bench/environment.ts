import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { chartDefaults } from '../../cdk8s/src/chart.ts';
import { createDb } from '../../api/src/db/knex.ts';
import { migrateLatest } from '../../api/src/db/migrations/index.ts';
import { startCollector, startJaeger, type Collector, type Jaeger } from '../support/backends.ts';
import { freePort } from '../support/ports.ts';
import { repoRoot } from '../support/process.ts';
import type { Endpoint, OrderEntry } from './load.ts';
import { LOAD_CORE, SERVER_CORE } from './machine.ts';
import type { BenchOptions } from './options.ts';
import { startProcess, waitFor200, type BenchProcess } from './processes.ts';

const run = promisify(execFile);

/** The seeded data every server sees: users 1..USERS, posts spread round-robin over them. */
export const USERS = 1000;
export const POSTS = 5000;
export const POOL_MAX = 10;

/**
 * The Node.js flags the chart gives the API pod (api.nodeOptions): they fix V8's young
 * generation, which otherwise depends on the memory of the machine or container it starts on.
 */
export const API_NODE_OPTIONS: string = chartDefaults().api?.nodeOptions ?? '';

export interface BenchRecord {
  /** Which figure (1-8) the record belongs to. */
  figure: number;
  name: string;
  value: number;
  unit: string;
  /** e.g. ">= 0.90"; null for a figure reported without a target. */
  target: string | null;
  /** Whether value meets target; null without a target. */
  pass: boolean | null;
}

export interface Server {
  name: string;
  /** http://127.0.0.1:<port> */
  base: string;
  proc: BenchProcess;
  /** Milliseconds from spawning the process to the first 200 of /readyz. */
  readyMs?: number;
  /** The API's Prometheus endpoint (traced tracebridge only). */
  metricsUrl?: string;
  stop(): Promise<void>;
}

export interface Bench {
  options: BenchOptions;
  /** Run directory: logs, the compiled API, the database. */
  workDir: string;
  logDir: string;
  databaseUrl: string;
  python: string;
  collector: Collector;
  jaeger: Jaeger;
  order: OrderEntry[];
  records: BenchRecord[];
  /** Per-figure raw data for latest.json. */
  details: Record<string, unknown>;
  versions: Record<string, string>;
  log: (line: string) => void;
  record(record: Omit<BenchRecord, 'pass'> & { pass?: boolean | null }): void;
  /** tracebridge as the image runs it (compiled, NODE_ENV=production, the preload), on the server core. */
  startApi(name: string, env: Record<string, string>, options?: ApiOptions): Promise<Server>;
  /** The FastAPI peer (one uvicorn process), on the server core. */
  startPeer(name: string, env: Record<string, string>): Promise<Server>;
  /** The bare node:http + pg server, on the server core. */
  startCeiling(name: string): Promise<Server>;
  /** The environment of a traced server: the bench collector, and the sampler for this ratio. */
  tracingEnv(samplingRatio: number): Record<string, string>;
  /** A shared server, started on first use and kept until the end of the run. */
  server(name: SharedServer): Promise<Server>;
}

/**
 * The servers the comparisons share: tracebridge untraced, traced at 100 % and at 10 %, the
 * FastAPI peer traced at 100 %, and the bare ceiling server.
 */
export interface ApiOptions {
  /** Run the TypeScript sources (as `make dev`) instead of the compiled API (as the image). */
  source?: boolean;
  /** How often /readyz is polled while starting (default 20 ms). */
  pollMs?: number;
}

export type SharedServer = 'api-off' | 'api-100' | 'api-10' | 'peer-100' | 'ceiling';

/** A target check: ">= 0.9", "<= 1.15", "= 2". */
export function meets(value: number, target: string): boolean {
  const match = /^(>=|<=|=)\s*(-?[\d.]+)/.exec(target);
  if (!match) throw new Error(`bad target ${target}`);
  const bound = Number(match[2]);
  if (!Number.isFinite(value)) return false;
  return match[1] === '>=' ? value >= bound : match[1] === '<=' ? value <= bound : value === bound;
}

// ---- tools ------------------------------------------------------------------------------------

/** OTELCOL_BIN, JAEGER_BIN, HELM_BIN from the environment, else built/found by collector/build-tools.sh. */
export async function resolveTools(log: (line: string) => void): Promise<void> {
  for (const [variable, tool] of [
    ['OTELCOL_BIN', 'otelcol'],
    ['JAEGER_BIN', 'jaeger'],
    ['HELM_BIN', 'helm'],
  ] as const) {
    if (process.env[variable]) continue;
    log(`${variable} unset: collector/build-tools.sh ${tool} (a cold build takes minutes)`);
    const { stdout } = await run('bash', ['collector/build-tools.sh', tool], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    process.env[variable] = stdout.trim().split('\n').pop() ?? '';
  }
}

/** The peer's venv python: BENCH_PYTHON, else test/bench/peer/setup.sh (idempotent). */
export async function resolvePython(log: (line: string) => void): Promise<string> {
  if (process.env.BENCH_PYTHON) return process.env.BENCH_PYTHON;
  log('BENCH_PYTHON unset: test/bench/peer/setup.sh (creates the venv once, from PyPI)');
  const { stdout } = await run('bash', ['test/bench/peer/setup.sh'], { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim().split('\n').pop() ?? '';
}

/**
 * Compiles the API as the image does (tsc -p api/tsconfig.build.json) into <workDir>/api-dist,
 * beside a node_modules link to the repository's, so its imports resolve as in the image.
 */
export async function buildApi(workDir: string): Promise<string> {
  const outDir = join(workDir, 'api-dist');
  if (!existsSync(join(workDir, 'node_modules'))) await symlink(join(repoRoot, 'node_modules'), join(workDir, 'node_modules'));
  await run(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', 'api/tsconfig.build.json', '--outDir', outDir], { cwd: repoRoot });
  return outDir;
}

// ---- database ---------------------------------------------------------------------------------

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * The bench's PostgreSQL: BENCH_ADMIN_DATABASE_URL when given, else an embedded server started
 * on the server core. Returns the admin URL and a stop function.
 */
export async function startPostgres(workDir: string, logDir: string): Promise<{ adminUrl: string; stop: () => Promise<void>; proc?: BenchProcess }> {
  const given = process.env.BENCH_ADMIN_DATABASE_URL;
  if (given) return { adminUrl: given, stop: () => Promise.resolve() };
  const baseDir = join(workDir, 'postgres');
  await mkdir(baseDir, { recursive: true });
  // As root the server runs as the postgres user, which must be able to enter the run directory.
  await chmod(workDir, 0o755);
  const proc = startProcess({
    name: 'postgres',
    command: process.execPath,
    args: ['test/bench/postgres-server.ts', baseDir, String(await freePort())],
    env: { HOME: process.env.HOME ?? '/tmp' },
    logDir,
    core: SERVER_CORE,
  });
  const urlFile = join(baseDir, 'url');
  const deadline = Date.now() + 120_000;
  while (!existsSync(urlFile)) {
    if (!proc.alive()) throw new Error(`PostgreSQL did not start:\n${proc.tail()}`);
    if (Date.now() > deadline) throw new Error(`PostgreSQL not ready within 120 s:\n${proc.tail()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const url = await readFile(urlFile, 'utf8');
  return { adminUrl: url.replace(/\/[^/]*$/, '/postgres'), stop: () => proc.stop(), proc };
}

/** A fresh database: tracebridge's migrations, USERS users and POSTS posts, analyzed. */
export async function createBenchDatabase(adminUrl: string, name: string): Promise<string> {
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await adminQuery(adminUrl, `CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.href, { min: 0, max: 2, acquireTimeoutMs: 10_000, idleTimeoutMs: 10_000, connectTimeoutMs: 10_000, statementTimeoutMs: 60_000, ssl: { mode: 'disable' } }, { applicationName: 'tracebridge-bench' });
  try {
    await migrateLatest(db);
    await db.raw(
      `INSERT INTO users (name, email, age)
       SELECT 'User ' || i, 'user' || i || '@example.com', 18 + i % 60 FROM generate_series(1, ${USERS}) AS i`,
    );
    // Round-robin authors: a page of posts has as many distinct authors as posts.
    await db.raw(
      `INSERT INTO posts (title, content, author_id)
       SELECT 'Post ' || i, repeat('Lorem ipsum dolor sit amet. ', 8), (i - 1) % ${USERS} + 1 FROM generate_series(1, ${POSTS}) AS i`,
    );
    await db.raw('ANALYZE');
  } finally {
    await db.destroy();
  }
  return url.href;
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await adminQuery(adminUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
}

export async function postgresVersion(url: string): Promise<string> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const result = await client.query<{ server_version: string }>('SHOW server_version');
    return result.rows[0]?.server_version ?? 'unknown';
  } finally {
    await client.end();
  }
}

// ---- telemetry backend ------------------------------------------------------------------------

/**
 * Real Jaeger and the real collector with the shipped pipeline (jaeger destination, as
 * `make up` runs it), on the load core: the traced servers export to it.
 */
export async function startTelemetryBackend(): Promise<{ collector: Collector; jaeger: Jaeger }> {
  const jaeger = await startJaeger();
  const collector = await startCollector(['jaeger'], {
    JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint,
    // Nothing listens there: the bench measures the request path, not metric scrapes.
    API_METRICS_TARGET: `127.0.0.1:${await freePort()}`,
  });
  return { collector, jaeger };
}

// ---- servers ----------------------------------------------------------------------------------

export function serverLaunchers(ctx: {
  workDir: string;
  logDir: string;
  databaseUrl: string;
  python: string;
  apiDist: string;
  collector: () => Collector;
  /** Directory for V8 CPU profiles of the API and ceiling processes; '' for none. */
  cpuProf: string;
  /** The smoke run: traced servers export every 200 ms (not the SDKs' 5 s) so traces arrive quickly. */
  smoke?: boolean;
}) {
  const tracingEnv = (samplingRatio: number): Record<string, string> => ({
    OTEL_EXPORTER_OTLP_ENDPOINT: ctx.collector().otlpGrpcEndpoint,
    ...(ctx.smoke ? { OTEL_BSP_SCHEDULE_DELAY: '200' } : {}),
    ...(samplingRatio >= 1
      ? { OTEL_TRACES_SAMPLER: 'parentbased_always_on' }
      : { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: String(samplingRatio) }),
  });

  const startApi = async (name: string, env: Record<string, string>, options: ApiOptions = {}): Promise<Server> => {
    const [port, metricsPort] = [await freePort(), await freePort()];
    // One directory per process: the main thread and the module loader's thread each write one.
    const profile = ctx.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(ctx.cpuProf, name)] : [];
    const entry = options.source
      ? [...profile, '--import', './api/src/telemetry/preload.ts', 'api/src/server.ts']
      : [...profile, '--import', join(ctx.apiDist, 'telemetry/preload.js'), join(ctx.apiDist, 'server.js')];
    const since = performance.now();
    const proc = startProcess({
      name,
      command: process.execPath,
      args: entry,
      env: {
        NODE_ENV: 'production',
        DATABASE_URL: ctx.databaseUrl,
        HOST: '127.0.0.1',
        PORT: String(port),
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: String(metricsPort),
        SERVICE_NAME: 'tracebridge-bench',
        DB_POOL_MAX: String(POOL_MAX),
        ...(API_NODE_OPTIONS ? { NODE_OPTIONS: API_NODE_OPTIONS } : {}),
        ...env,
      },
      logDir: ctx.logDir,
      core: SERVER_CORE,
    });
    const base = `http://127.0.0.1:${port}`;
    const readyMs = await waitFor200(`${base}/readyz`, proc, { since, intervalMs: options.pollMs ?? 20 });
    const server: Server = { name, base, proc, readyMs, stop: () => proc.stop() };
    if (env.OTEL_SDK_DISABLED !== 'true') server.metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    return server;
  };

  const startPeer = async (name: string, env: Record<string, string>): Promise<Server> => {
    const port = await freePort();
    const proc = startProcess({
      name,
      command: ctx.python,
      args: ['-m', 'uvicorn', 'app:app', '--app-dir', 'test/bench/peer', '--host', '127.0.0.1', '--port', String(port), '--loop', 'uvloop', '--http', 'httptools'],
      env: { DATABASE_URL: ctx.databaseUrl, DB_POOL_MAX: String(POOL_MAX), SERVICE_NAME: 'fastapi-peer', ...env },
      logDir: ctx.logDir,
      core: SERVER_CORE,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor200(`${base}/readyz`, proc);
    return { name, base, proc, stop: () => proc.stop() };
  };

  const startCeiling = async (name: string): Promise<Server> => {
    const port = await freePort();
    const proc = startProcess({
      name,
      command: process.execPath,
      args: [...(ctx.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', join(ctx.cpuProf, name)] : []), 'test/bench/ceiling-server.ts'],
      env: { NODE_ENV: 'production', DATABASE_URL: ctx.databaseUrl, PORT: String(port), DB_POOL_MAX: String(POOL_MAX) },
      logDir: ctx.logDir,
      core: SERVER_CORE,
    });
    const base = `http://127.0.0.1:${port}`;
    await waitFor200(`${base}/readyz`, proc);
    return { name, base, proc, stop: () => proc.stop() };
  };

  return { tracingEnv, startApi, startPeer, startCeiling };
}

// ---- endpoints --------------------------------------------------------------------------------

let sequence = 0;
const runId = Math.random().toString(36).slice(2, 8);
const randomUser = () => 1 + Math.floor(Math.random() * USERS);

export const endpoints = {
  getUser: { name: 'GET /users/:id', method: 'GET', path: () => `/users/${randomUser()}` },
  postsEager: { name: 'GET /posts?eager=true', method: 'GET', path: () => '/posts?eager=true' },
  createUser: {
    name: 'POST /users',
    method: 'POST',
    path: () => '/users',
    body: () => {
      sequence++;
      return JSON.stringify({ name: `Bench ${sequence}`, email: `bench-${runId}-${sequence}@example.com`, age: 30 });
    },
  },
  posts: (limit: number, eager: boolean): Endpoint => ({
    name: `GET /posts?limit=${limit}&eager=${eager}`,
    method: 'GET',
    path: () => `/posts?limit=${limit}&eager=${eager}`,
  }),
  ceilingUser: { name: 'GET /users/:id', method: 'GET', path: () => `/users/${randomUser()}` },
} satisfies Record<string, Endpoint | ((limit: number, eager: boolean) => Endpoint)>;

/** Versions of what the bench ran, for the report. */
export function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export { LOAD_CORE, SERVER_CORE };
