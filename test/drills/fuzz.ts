import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
import { repoRoot, startTracedApi } from '../support/process.ts';
import { check, timedDrill, type DrillOptions, type DrillResult } from './support/result.ts';
import { createDatabase, requestLines, seed } from './support/stack.ts';

/**
 * Drill 6a: schemathesis against the API's own /openapi.json (all phases: examples, coverage,
 * fuzzing, stateful), with the checks that hold the API to its document: no 5xx, every status
 * documented, every body and content type as documented. The API runs as in production (the
 * telemetry preload, a real PostgreSQL); its own request log is checked for 5xx as well.
 */

const run = promisify(execFile);

/** The checks, by this schemathesis version's names (`st run --help`). */
export const SCHEMATHESIS_CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_schema_conformance',
] as const;

/** The schemathesis CLI: SCHEMATHESIS_BIN, or the pinned virtualenv that fuzz/setup.sh creates (once). */
export async function schemathesisBinary(): Promise<string> {
  if (process.env.SCHEMATHESIS_BIN) return process.env.SCHEMATHESIS_BIN;
  const { stdout } = await run('bash', [join(repoRoot, 'test/drills/fuzz/setup.sh')], { maxBuffer: 16 * 1024 * 1024 });
  return stdout.trim().split('\n').at(-1)!;
}

interface Report {
  schemathesis_version: string;
  seed: number;
  exit_code: number;
  running_time: number;
  operations: { total: number; tested: number; errored: number };
  test_cases: { generated: number; with_failures: number; errored: number };
  failures: { code: string; title: string; count: number; operations: string[] }[];
  errors: unknown[];
}

export interface FuzzOptions extends DrillOptions {
  /** Test cases per operation and phase (schemathesis --max-examples). */
  maxExamples: number;
  /** The run must generate at least this many cases in all. */
  minCases: number;
  seed?: number;
}

export async function fuzz(options: FuzzOptions): Promise<DrillResult> {
  const seedValue = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  return timedDrill('fuzzing (schemathesis)', `--max-examples ${options.maxExamples}, ≥ ${options.minCases} cases, seed ${seedValue}`, async (figures, checks, defer) => {
    const st = await schemathesisBinary();
    const database = await createDatabase(options.adminDatabaseUrl);
    defer(() => database.drop());
    await seed(database.db, 5, 3);
    const receiver = await startOtlpReceiver();
    defer(() => receiver.close());
    const { api, base } = await startTracedApi({ databaseUrl: database.url, otlpEndpoint: receiver.endpoint, service: 'drill-fuzz' });
    defer(() => api.stop());
    const dir = await mkdtemp(join(tmpdir(), 'tracebridge-fuzz-'));
    defer(() => rm(dir, { recursive: true, force: true }));
    const reportPath = join(dir, 'report.json');

    const args = [
      'run',
      `${base}/openapi.json`,
      '--checks',
      SCHEMATHESIS_CHECKS.join(','),
      '--max-examples',
      String(options.maxExamples),
      '--seed',
      String(seedValue),
      '--workers',
      '2',
      '--request-timeout',
      '10',
      '--continue-on-failure',
      '--report',
      'json',
      '--report-json-path',
      reportPath,
    ];
    options.log?.(`${st} ${args.join(' ')}`);
    let output: string;
    try {
      const { stdout, stderr } = await run(st, args, { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024, cwd: dir });
      output = stdout + stderr;
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string };
      output = (e.stdout ?? '') + (e.stderr ?? '');
    }
    let report: Report | undefined;
    try {
      report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
    } catch {
      report = undefined;
    }
    const serverErrors = requestLines(api.stdout()).filter((l) => typeof l.status === 'number' && l.status >= 500);
    const failureText = (report?.failures ?? []).map((f) => `${f.code} ${f.title} ×${f.count} (${f.operations.join(', ')})`).join('; ');
    const summary = output.split('\n').filter((l) => /FAILURES|Reproduce|curl |ST\d{3}|Test cases:|generated/.test(l)).slice(0, 30).join('\n');

    Object.assign(figures, {
      schemathesis: report?.schemathesis_version ?? 'no report',
      'operations tested': report ? `${report.operations.tested}/${report.operations.total}` : 'none',
      'cases generated': report?.test_cases.generated ?? 0,
      'cases failing': report?.test_cases.with_failures ?? 'unknown',
      'API responses 5xx (its own log)': serverErrors.length,
      'run time': report ? `${Math.round(report.running_time)} s` : 'n/a',
    });
    checks.push(
      check('schemathesis ran and reported', report !== undefined, report ? `exit ${report.exit_code}` : output.slice(-2000)),
      check(`at least ${options.minCases} generated cases, every operation tested`, (report?.test_cases.generated ?? 0) >= options.minCases && report?.operations.tested === report?.operations.total, `${report?.test_cases.generated ?? 0} cases, ${report?.operations.tested ?? 0}/${report?.operations.total ?? 0} operations`),
      check(
        `zero failures of ${SCHEMATHESIS_CHECKS.join(', ')}, zero errors`,
        report !== undefined && report.failures.length === 0 && report.errors.length === 0,
        [failureText, report?.errors.length ? JSON.stringify(report.errors).slice(0, 500) : '', failureText || report?.errors.length ? summary : ''].filter(Boolean).join(' | ') || 'none',
      ),
      check('zero 5xx in the API\'s own request log', serverErrors.length === 0, serverErrors.slice(0, 5).map((l) => `${String(l.method)} ${String(l.route)} ${String(l.status)}`).join(', ') || 'none'),
    );
  });
}
