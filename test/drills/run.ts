/**
 * `make drills`: every reliability drill at full length, one after another, against real
 * processes on loopback; prints a table and writes test/drills/results/latest.md.
 *
 *   node test/drills/run.ts [--only collector-outage,fuzz] [--short]
 *
 * The tools come from the environment as for the suites (OTELCOL_BIN, JAEGER_BIN, HELM_BIN;
 * the Makefile fills them from collector/build-tools.sh), schemathesis from
 * test/drills/fuzz/setup.sh (SCHEMATHESIS_BIN to override). PostgreSQL is TEST_DATABASE_URL
 * (a superuser URL) or an embedded server in a temporary directory.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../api/src/dev/embedded-postgres.ts';
import { repoRoot } from '../support/process.ts';
import { freePort } from '../support/ports.ts';
import { DRILLS, type DrillName } from './drills.ts';
import { failures, round, type DrillResult } from './support/result.ts';

function summaryTable(results: DrillResult[]): string {
  const rows = results.map((r) => {
    const failed = failures(r).length;
    const verdict = failed === 0 ? `pass (${r.checks.length}/${r.checks.length})` : `**FAIL** (${r.checks.length - failed}/${r.checks.length})`;
    const figures = Object.entries(r.figures)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join('; ');
    return `| ${r.drill} | ${r.length} | ${figures.replaceAll('|', '\\|')} | ${verdict} | ${r.elapsedS} s |`;
  });
  return ['| drill | length | figures | checks | time |', '|---|---|---|---|---|', ...rows].join('\n');
}

function details(results: DrillResult[]): string {
  return results
    .map((r) =>
      [
        `### ${r.drill}`,
        '',
        ...r.checks.map((c) => `- ${c.ok ? '✅' : '❌'} ${c.claim} — ${c.detail}`),
      ].join('\n'),
    )
    .join('\n\n');
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, short: { type: 'boolean', default: false } },
  });
  const names = (values.only ? values.only.split(',') : Object.keys(DRILLS)) as DrillName[];
  for (const name of names) if (!(name in DRILLS)) throw new Error(`no drill ${name}; drills: ${Object.keys(DRILLS).join(', ')}`);

  let embedded: EmbeddedDatabase | undefined;
  let baseDir: string | undefined;
  let adminDatabaseUrl = process.env.TEST_DATABASE_URL;
  if (!adminDatabaseUrl) {
    baseDir = await mkdtemp(join(tmpdir(), 'tracebridge-drills-pg-'));
    embedded = await startEmbeddedPostgres({ baseDir, port: await freePort(), database: 'postgres', persistent: false });
    adminDatabaseUrl = embedded.url;
  }

  const results: DrillResult[] = [];
  const started = performance.now();
  try {
    for (const name of names) {
      const drill = DRILLS[name];
      const length = values.short ? 'short' : 'full';
      process.stdout.write(`\n== ${name} (${JSON.stringify(drill[length])})\n`);
      const result = await drill.run({ durationS: 0, adminDatabaseUrl, log: (line) => process.stdout.write(`   ${line}\n`) }, length);
      results.push(result);
      for (const [k, v] of Object.entries(result.figures)) process.stdout.write(`   ${k}: ${String(v)}\n`);
      for (const c of result.checks) process.stdout.write(`   ${c.ok ? 'pass' : 'FAIL'}  ${c.claim} (${c.detail})\n`);
    }
  } finally {
    await embedded?.stop();
    if (baseDir) await rm(baseDir, { recursive: true, force: true });
  }

  const total = round((performance.now() - started) / 1000);
  const table = summaryTable(results);
  process.stdout.write(`\n${table}\n\ntotal ${total} s\n`);
  const failed = results.flatMap(failures);
  if (!values.only && !values.short) {
    const dir = join(repoRoot, 'test/drills/results');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'latest.md'),
      [
        '# Latest `make drills` run',
        '',
        `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${total} s in all. Written by \`test/drills/run.ts\`.`,
        '',
        table,
        '',
        '## Checks',
        '',
        details(results),
        '',
      ].join('\n'),
    );
    process.stdout.write('wrote test/drills/results/latest.md\n');
  }
  process.stdout.write(`\ndrills: ${results.length - new Set(failed.map((f) => f.split(':')[0])).size} passed, ${new Set(failed.map((f) => f.split(':')[0])).size} failed\n`);
  for (const f of failed) process.stderr.write(`FAIL ${f}\n`);
  return failed.length === 0 ? 0 : 1;
}

// Explicit: nothing a drill left behind keeps the runner alive, and the code is the verdict.
process.exit(await main());
