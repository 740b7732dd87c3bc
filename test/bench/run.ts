import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../support/process.ts';
import {
  buildApi,
  createBenchDatabase,
  dropDatabase,
  meets,
  packageVersion,
  postgresVersion,
  resolvePython,
  resolveTools,
  serverLaunchers,
  startPostgres,
  startTelemetryBackend,
  type Bench,
  type BenchRecord,
  type Server,
  type SharedServer,
} from './environment.ts';
import { ceiling } from './figures/ceiling.ts';
import { collectorThroughput } from './figures/collector.ts';
import { eagerVsLazy } from './figures/eager-lazy.ts';
import { memory } from './figures/memory.ts';
import { tracingOverhead } from './figures/overhead.ts';
import { peerComparison } from './figures/peer.ts';
import { startup } from './figures/startup.ts';
import { collectorTopology } from './figures/topology.ts';
import { foreignReadings, setQuietBudget, type OrderEntry } from './load.ts';
import { cpuPlacement, machineInfo, pinSelfToLoadCore } from './machine.ts';
import { parseOptions, USAGE } from './options.ts';
import { killAllNow, onCleanup, stopAll } from './processes.ts';
import { FIGURES, targetsTable, writeResults, type Results } from './report.ts';

/**
 * `make bench`: the benchmarks of the performance issue, printed and written to
 * test/bench/results/latest.{md,json}. See README "Performance" and `--help`.
 */

const run = promisify(execFile);
const started = performance.now();
const log = (line: string) => process.stdout.write(`${line}\n`);

let options: ReturnType<typeof parseOptions>;
try {
  options = parseOptions(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
  process.exit(2);
}

process.on('exit', killAllNow);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    log(`bench: ${signal}, stopping`);
    void stopAll().finally(() => process.exit(130));
  });
}

async function versionOf(command: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(command, args, { timeout: 20_000 });
    return (stdout || stderr).trim().split('\n')[0] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

async function pythonPackages(python: string): Promise<Record<string, string>> {
  const wanted = ['fastapi', 'uvicorn', 'uvloop', 'sqlalchemy', 'asyncpg', 'pydantic', 'opentelemetry-sdk', 'opentelemetry-instrumentation-fastapi', 'opentelemetry-instrumentation-sqlalchemy'];
  try {
    const { stdout } = await run(python, ['-m', 'pip', 'freeze', '--disable-pip-version-check']);
    const pins = new Map(stdout.split('\n').map((l) => l.split('==') as [string, string]).map(([n, v]) => [n.toLowerCase(), v]));
    return Object.fromEntries(wanted.map((n) => [`py:${n}`, pins.get(n) ?? 'unknown']));
  } catch {
    return {};
  }
}

const workDir = await mkdtemp(join(tmpdir(), 'tracebridge-bench-'));
const logDir = join(workDir, 'logs');
await mkdir(logDir, { recursive: true });
const outDir = options.out ? resolve(repoRoot, options.out) : join(workDir, 'results');
const records: BenchRecord[] = [];
const errors: { figure: number; error: string }[] = [];
const order: OrderEntry[] = [];
const details: Record<string, unknown> = {};
let results: Results | undefined;

try {
  pinSelfToLoadCore();
  // The smoke run checks the harness, not the numbers: it does not wait for a quiet machine.
  if (options.smoke) setQuietBudget(0);
  log(`bench: ${options.smoke ? 'smoke' : 'full'} run; ${cpuPlacement().description}`);
  log(`bench: work directory ${workDir}`);
  await resolveTools(log);
  const python = await resolvePython(log);
  log('bench: compiling the API (tsc -p api/tsconfig.build.json)');
  const apiDist = await buildApi(workDir);
  log('bench: starting PostgreSQL, seeding');
  const postgres = await startPostgres(workDir, logDir);
  onCleanup(postgres.stop);
  // A name of its own: on a shared server (BENCH_ADMIN_DATABASE_URL) another run may be going on.
  const databaseName = `tracebridge_bench_${process.pid}`;
  const databaseUrl = await createBenchDatabase(postgres.adminUrl, databaseName);
  if (process.env.BENCH_ADMIN_DATABASE_URL) onCleanup(() => dropDatabase(postgres.adminUrl, databaseName));
  log('bench: starting Jaeger and the collector (shipped pipeline, jaeger destination)');
  const { collector, jaeger } = await startTelemetryBackend();
  onCleanup(() => jaeger.stop());
  onCleanup(() => collector.stop());

  const cpuProf = options.cpuProf ? resolve(repoRoot, options.cpuProf) : '';
  if (cpuProf) await mkdir(cpuProf, { recursive: true });
  const launchers = serverLaunchers({ workDir, logDir, databaseUrl, python, apiDist, collector: () => collector, cpuProf, smoke: options.smoke });
  const shared = new Map<SharedServer, Promise<Server>>();
  const definitions: Record<SharedServer, () => Promise<Server>> = {
    'api-off': () => launchers.startApi('api-off', { OTEL_SDK_DISABLED: 'true' }),
    'api-100': () => launchers.startApi('api-100', launchers.tracingEnv(1)),
    'api-10': () => launchers.startApi('api-10', launchers.tracingEnv(0.1)),
    'peer-100': () => launchers.startPeer('peer-100', launchers.tracingEnv(1)),
    ceiling: () => launchers.startCeiling('ceiling'),
  };
  const bench: Bench = {
    options,
    workDir,
    logDir,
    databaseUrl,
    python,
    collector,
    jaeger,
    order,
    records,
    details,
    versions: {},
    log,
    record: (r) => {
      if (!Number.isFinite(r.value)) throw new Error(`record ${r.name}: value ${r.value} is not a finite number`);
      const pass = r.target === null ? null : meets(r.value, r.target);
      records.push({ ...r, pass });
      log(`  = ${r.name}: ${r.value} ${r.unit}${r.target ? ` (target ${r.target}: ${pass ? 'pass' : 'FAIL'})` : ''}`);
    },
    startApi: launchers.startApi,
    startPeer: launchers.startPeer,
    startCeiling: launchers.startCeiling,
    tracingEnv: launchers.tracingEnv,
    server: (name) => {
      let server = shared.get(name);
      if (!server) {
        server = definitions[name]();
        shared.set(name, server);
      }
      return server;
    },
  };

  // Startup first, on a quiet machine; the collector figures last, as they replace the servers on
  // the server core; memory after the HTTP comparisons, as it stops the shared collector.
  const figures: [number, (b: Bench) => Promise<void>][] = [
    [7, startup],
    [1, tracingOverhead],
    [2, peerComparison],
    [3, ceiling],
    [4, eagerVsLazy],
    [6, memory],
    [5, collectorThroughput],
    [8, collectorTopology],
  ];
  for (const [figure, fn] of figures) {
    if (!options.figures.includes(figure)) continue;
    if (figure === 5 || figure === 8) {
      // Free the server core for the collector under test.
      for (const [, server] of shared) await (await server).stop();
      shared.clear();
    }
    log(`\n== figure ${figure}: ${FIGURES[figure] ?? ''}`);
    const figureStarted = performance.now();
    try {
      await fn(bench);
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      errors.push({ figure, error: message });
      log(`figure ${figure} FAILED: ${message}`);
    }
    log(`   (figure ${figure}: ${Math.round((performance.now() - figureStarted) / 1000)} s)`);
  }

  const versions: Record<string, string> = {
    node: process.versions.node,
    python: await versionOf(python, ['--version']),
    postgresql: await postgresVersion(databaseUrl),
    otelcol: await versionOf(process.env.OTELCOL_BIN ?? 'otelcol', ['--version']),
    jaeger: (await versionOf(process.env.JAEGER_BIN ?? 'jaeger', ['version'])).slice(0, 120),
    helm: await versionOf(process.env.HELM_BIN ?? 'helm', ['version', '--short']),
    ...Object.fromEntries(
      ['hono', '@hono/node-server', '@opentelemetry/sdk-node', '@opentelemetry/instrumentation-pg', 'knex', 'objection', 'pg', 'autocannon'].map((p) => [`npm:${p}`, packageVersion(p)]),
    ),
    ...(await pythonPackages(python)),
  };
  const foreign = [...foreignReadings];
  results = {
    generatedAt: new Date().toISOString(),
    mode: options.smoke ? 'smoke' : 'full',
    totalSeconds: 0,
    machine: {
      ...machineInfo(),
      otherProcessesCores: foreign.length > 0 ? { median: median(foreign), max: Math.max(...foreign) } : null,
    },
    versions,
    settings: options,
    records,
    order,
    errors,
    details,
  };
} catch (error) {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  errors.push({ figure: 0, error: message });
  log(`bench FAILED: ${message}`);
} finally {
  await stopAll();
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

if (results) {
  results.totalSeconds = Math.round((performance.now() - started) / 1000);
  const { json, md } = await writeResults(outDir, results);
  log(`\n${targetsTable(results)}\n`);
  log(`bench: wrote ${md} and ${json} (${results.totalSeconds} s)`);
}
if (errors.length > 0) {
  log(`bench: ${errors.length} figure(s) failed; logs kept in ${logDir}`);
  process.exit(1);
}
await rm(workDir, { recursive: true, force: true });
process.exit(0);
