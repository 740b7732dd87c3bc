import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../support/process.ts';
import { GROUPS, windowTotals, type CpuProfile, type WindowTotals } from './cpu-profile.ts';
import {
  buildApi,
  createBenchDatabase,
  dropDatabase,
  endpoints,
  resolveTools,
  serverLaunchers,
  startPostgres,
  startTelemetryBackend,
  type Server,
} from './environment.ts';
import { runLoad, type Endpoint, type LoadSample } from './load.ts';
import { cpuPlacement, pinSelfToLoadCore } from './machine.ts';
import { killAllNow, onCleanup, stopAll } from './processes.ts';
import { round } from './stats.ts';

/**
 * `make profile`: GET /users/:id under the bench's load (autocannon, the bench's servers on the
 * server core) against each variant, untraced, traced at 100 % and 10 %, and the ceiling
 * (bare node:http + pg running the same two statements), each with `--cpu-prof`. Prints the
 * self time of every sampled frame during the measured run, per response, grouped by package,
 * and writes it to <out>/profile.md.
 */

const USAGE = `usage: node test/bench/profile.ts [options]
  --duration S     seconds of measured load per variant (default 20)
  --warmup S       seconds of warm-up per variant, not profiled (default 5)
  --connections N  HTTP connections of the load generator (default 10)
  --variants LIST  of untraced,100,10,ceiling (default all, in that order)
  --out DIR        where profile.md goes (default test/bench/results)
  --keep DIR       keep the .cpuprofile files in DIR/<variant>/ (for profile-summary.ts or DevTools)
environment: OTELCOL_BIN, JAEGER_BIN, HELM_BIN, BENCH_ADMIN_DATABASE_URL as for make bench`;

interface Variant {
  key: string;
  label: string;
  start: (launchers: ReturnType<typeof serverLaunchers>) => Promise<Server>;
  endpoint: Endpoint;
}

const withPosts: Endpoint = { ...endpoints.getUser, name: 'GET /users/:id/with-posts', path: () => `${endpoints.getUser.path()}/with-posts` };
const VARIANTS: Variant[] = [
  { key: 'untraced', label: 'untraced', start: (l) => l.startApi('untraced', { OTEL_SDK_DISABLED: 'true' }), endpoint: endpoints.getUser },
  { key: '100', label: 'tracing 100 %', start: (l) => l.startApi('traced-100', l.tracingEnv(1)), endpoint: endpoints.getUser },
  { key: '10', label: 'tracing 10 %', start: (l) => l.startApi('traced-10', l.tracingEnv(0.1)), endpoint: endpoints.getUser },
  { key: 'ceiling', label: 'ceiling (2 queries)', start: (l) => l.startCeiling('ceiling'), endpoint: withPosts },
];

function options(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      duration: { type: 'string', default: '20' },
      warmup: { type: 'string', default: '5' },
      connections: { type: 'string', default: '10' },
      variants: { type: 'string', default: VARIANTS.map((v) => v.key).join(',') },
      out: { type: 'string', default: 'test/bench/results' },
      keep: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const num = (name: string, text: string, min: number) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name}: expected a number >= ${min}, got "${text}"`);
    return value;
  };
  const keys = values.variants.split(',').map((k) => k.trim());
  const unknown = keys.filter((k) => !VARIANTS.some((v) => v.key === k));
  if (unknown.length > 0 || keys.length === 0) throw new Error(`--variants: expected some of ${VARIANTS.map((v) => v.key).join(',')}, got "${values.variants}"`);
  return {
    duration: num('duration', values.duration, 1),
    warmup: num('warmup', values.warmup, 0.5),
    connections: Math.round(num('connections', values.connections, 1)),
    variants: VARIANTS.filter((v) => keys.includes(v.key)),
    out: resolve(repoRoot, values.out),
    keep: values.keep ? resolve(repoRoot, values.keep) : undefined,
  };
}

interface Measured {
  variant: Variant;
  sample: LoadSample;
  totals: WindowTotals;
}

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const log = (line: string) => process.stdout.write(`${line}\n`);

function readProfiles(dir: string): CpuProfile[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile);
}

/** The table: a row per group, µs per response and share of the busy time, a column pair per variant. */
function profileTable(measured: readonly Measured[]): string[] {
  const perRequest = (m: Measured, us: number) => us / Math.max(1, m.sample.requests);
  const cell = (m: Measured, us: number) => `${perRequest(m, us).toFixed(1)} | ${m.totals.busy > 0 ? ((100 * us) / m.totals.busy).toFixed(1) : '0.0'} %`;
  const lines = [
    `| group | ${measured.map((m) => `${m.variant.label} µs/req | share`).join(' | ')} |`,
    `|---|${measured.map(() => '---:|---:').join('|')}|`,
  ];
  for (const group of GROUPS) lines.push(`| ${group} | ${measured.map((m) => cell(m, m.totals.groups.get(group) ?? 0)).join(' | ')} |`);
  lines.push(`| total (profiled threads, idle excluded) | ${measured.map((m) => cell(m, m.totals.busy)).join(' | ')} |`);
  lines.push(`| server CPU per request (/proc, all threads) | ${measured.map((m) => `${round(m.sample.cpuMsPerRequest * 1000, 4)} | `).join(' | ')} |`);
  lines.push(`| responses in the profiled run | ${measured.map((m) => `${m.sample.requests} | `).join(' | ')} |`);
  lines.push(`| req/s | ${measured.map((m) => `${round(m.sample.rps, 4)} | `).join(' | ')} |`);
  return lines;
}

function topFunctions(m: Measured, count: number): string[] {
  return [...m.totals.functions]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([fn, us]) => `  - ${(us / Math.max(1, m.sample.requests)).toFixed(1)} µs/req (${((100 * us) / m.totals.busy).toFixed(1)} %) \`${fn}\``);
}

async function main(): Promise<number> {
  let opts: ReturnType<typeof options>;
  try {
    opts = options(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  process.on('exit', killAllNow);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().finally(() => process.exit(130)));
  const workDir = await mkdtemp(join(tmpdir(), 'tracebridge-profile-'));
  const logDir = join(workDir, 'logs');
  const profDir = opts.keep ?? join(workDir, 'profiles');
  await mkdir(logDir, { recursive: true });
  const measured: Measured[] = [];
  try {
    pinSelfToLoadCore();
    log(`profile: ${opts.variants.map((v) => v.label).join(', ')}; ${opts.warmup} s warm-up + ${opts.duration} s profiled each; ${cpuPlacement().description}`);
    await resolveTools(log);
    const apiDist = await buildApi(workDir);
    const postgres = await startPostgres(workDir, logDir);
    onCleanup(postgres.stop);
    const databaseName = `tracebridge_profile_${process.pid}`;
    const databaseUrl = await createBenchDatabase(postgres.adminUrl, databaseName);
    if (process.env.BENCH_ADMIN_DATABASE_URL) onCleanup(() => dropDatabase(postgres.adminUrl, databaseName));
    const { collector, jaeger } = await startTelemetryBackend();
    onCleanup(() => jaeger.stop());
    onCleanup(() => collector.stop());
    const launchers = serverLaunchers({ workDir, logDir, databaseUrl, python: '', apiDist, collector: () => collector, cpuProf: profDir });
    for (const variant of opts.variants) {
      const server = await variant.start(launchers);
      log(`profile: ${variant.label}, warm-up`);
      await runLoad(server.base, variant.endpoint, { seconds: opts.warmup, connections: opts.connections });
      const from = nowUs();
      const sample = await runLoad(server.base, variant.endpoint, { seconds: opts.duration, connections: opts.connections, pid: server.proc.pid });
      const to = nowUs();
      // The profile is written when the process exits.
      await server.stop();
      if (sample.requests === 0 || sample.non2xx + sample.errors > sample.requests / 1000) {
        throw new Error(`${variant.label}: ${sample.requests} responses, ${sample.non2xx} non-2xx, ${sample.errors} errors\n${server.proc.tail()}`);
      }
      const totals = windowTotals(readProfiles(join(profDir, server.name)), from, to);
      if (totals.busy === 0) throw new Error(`${variant.label}: the CPU profile has no samples within the measured run`);
      measured.push({ variant, sample, totals });
      log(`profile: ${variant.label}: ${sample.requests} responses, ${round(sample.rps, 4)} req/s, ${(totals.busy / sample.requests).toFixed(1)} µs/req profiled`);
    }
  } finally {
    await stopAll();
  }

  const lines = [
    '# tracebridge CPU profile (`make profile`)',
    '',
    `Generated ${new Date().toISOString()} by \`make profile\` (\`node test/bench/profile.ts\`): GET /users/:id (the ceiling: ` +
      `the same two statements), ${opts.connections} connections, ${opts.warmup} s warm-up, then ${opts.duration} s profiled per variant ` +
      '(`--cpu-prof`). Self time of the frames sampled during the profiled run, divided by the responses in it; share of the ' +
      'busy (non-idle) time. Servers on their own core; timings include what a busy machine adds, read the shares.',
    '',
    ...profileTable(measured),
    '',
    '## Top functions by self time',
    '',
    ...measured.flatMap((m) => [`- ${m.variant.label}:`, ...topFunctions(m, 12)]),
    '',
  ];
  const text = lines.join('\n');
  await mkdir(opts.out, { recursive: true });
  const file = join(opts.out, 'profile.md');
  await writeFile(file, text);
  log(`\n${profileTable(measured).join('\n')}\n\nprofile: wrote ${file}`);
  await rm(workDir, { recursive: true, force: true });
  return 0;
}

process.exit(await main().catch((error: unknown) => {
  log(`profile FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  return 1;
}));
