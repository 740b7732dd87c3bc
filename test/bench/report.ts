import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { API_NODE_OPTIONS, POSTS, USERS, type BenchRecord } from './environment.ts';
import type { OrderEntry } from './load.ts';
import type { BenchOptions } from './options.ts';

/** latest.json and latest.md: every figure as a record, plus the machine, versions and settings. */

export const FIGURES: Record<number, string> = {
  1: 'Tracing overhead',
  2: "Peer: the seed's own stack (FastAPI + SQLAlchemy + OpenTelemetry)",
  3: 'Ceiling: a bare node:http + pg server',
  4: 'Eager vs lazy loading',
  5: 'Collector throughput (chart config, all destinations)',
  6: 'Memory',
  7: 'Startup',
  8: 'Collector topology (chart config, agent-gateway): one gateway, one agent',
};

export interface Results {
  generatedAt: string;
  mode: 'full' | 'smoke';
  /** Wall-clock seconds of the whole run, setup included. */
  totalSeconds: number;
  machine: Record<string, unknown>;
  versions: Record<string, string>;
  settings: BenchOptions;
  records: BenchRecord[];
  /** Every load run in the order it ran (round 0 = warm-up). */
  order: OrderEntry[];
  /** Figures that failed to run, with the error. */
  errors: { figure: number; error: string }[];
  details: Record<string, unknown>;
}

const fmt = (value: number) => (Number.isFinite(value) ? String(value) : 'n/a');
const verdict = (pass: boolean | null) => (pass === null ? '' : pass ? 'pass' : '**FAIL**');
const escape = (text: string) => text.replaceAll('|', '\\|');

function table(records: BenchRecord[], withFigure: boolean): string[] {
  const lines = [
    `| ${withFigure ? 'fig. | ' : ''}figure | value | unit | target | result |`,
    `|${withFigure ? '---|' : ''}---|---:|---|---|---|`,
  ];
  for (const r of records) {
    lines.push(
      `| ${withFigure ? `${r.figure} | ` : ''}${escape(r.name)} | ${fmt(r.value)} | ${r.unit} | ${r.target ? escape(r.target.replace('>=', '≥').replace('<=', '≤')) : ''} | ${verdict(r.pass)} |`,
    );
  }
  return lines;
}

/** The table of targets, as the README's Performance section shows it. */
export function targetsTable(results: Results): string {
  return table(results.records.filter((r) => r.target !== null), true).join('\n');
}

export function toMarkdown(results: Results): string {
  const targets = results.records.filter((r) => r.target !== null);
  const passed = targets.filter((r) => r.pass === true).length;
  const lines: string[] = [
    `# tracebridge benchmarks (${results.mode})`,
    '',
    `Generated ${results.generatedAt} by \`make bench\` (\`node test/bench/run.ts\`) in ${Math.round(results.totalSeconds)} s.`,
    `Targets met: ${passed} of ${targets.length}.`,
    '',
    '## Machine and versions',
    '',
    ...Object.entries(results.machine).map(([k, v]) => `- ${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`),
    `- versions: ${Object.entries(results.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`,
    '',
    '## Method',
    '',
    `- Every comparison runs its variants interleaved (A B C, A B C, ...) in one run: a ${results.settings.warmup} s warm-up of each variant, ` +
      `then ${results.settings.rounds} rounds of ${results.settings.duration} s per variant; figures are medians over the rounds, ` +
      'ratios are medians of the per-round ratios (each pair measured back to back).',
    `- Load: autocannon, closed loop, ${results.settings.connections} connections, no pipelining; latency is measured per response ` +
      '(sub-millisecond). A run with more than 1 failed response (non-2xx or connection error) in 1000 fails the bench; fewer are reported as a record of their own.',
    '- Servers under test run as shipped: tracebridge compiled (`tsc -p api/tsconfig.build.json`), `NODE_ENV=production`, ' +
      `started with the telemetry preload and the chart's Node.js flags (\`NODE_OPTIONS=${API_NODE_OPTIONS}\`), logging a JSON line per request; the peer under one uvicorn process (uvloop, httptools) ` +
      'with its access log; both with a pool of 10 connections. Tracing exports over OTLP/gRPC to the real collector (shipped ' +
      'pipeline, jaeger destination) and real Jaeger, with the SDKs\' default batch settings.',
    `- Data: one PostgreSQL, migrated by tracebridge, ${USERS} users and ${POSTS} posts (round-robin authors); GET /users/:id picks a random user.`,
    '- `other processes` (latest.json, `foreignCores` per run) is CPU used meanwhile by processes outside the bench, in cores.',
    '',
    '## Targets',
    '',
    ...table(targets, true),
    '',
  ];
  for (const [figure, title] of Object.entries(FIGURES)) {
    const records = results.records.filter((r) => r.figure === Number(figure));
    if (records.length === 0) continue;
    lines.push(`## ${figure}. ${title}`, '', ...table(records, false), '');
  }
  if (results.errors.length > 0) {
    lines.push('## Errors', '', ...results.errors.map((e) => `- figure ${e.figure}: ${e.error.split('\n')[0] ?? ''}`), '');
  }
  return `${lines.join('\n')}\n`;
}

export async function writeResults(dir: string, results: Results): Promise<{ json: string; md: string }> {
  await mkdir(dir, { recursive: true });
  const json = join(dir, 'latest.json');
  const md = join(dir, 'latest.md');
  await writeFile(json, `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(md, toMarkdown(results));
  return { json, md };
}
