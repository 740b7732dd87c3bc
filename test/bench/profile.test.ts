import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { runProcess } from '../support/process.ts';
import { GROUPS } from './cpu-profile.ts';

/**
 * `make profile` at a short length: the real servers (compiled API untraced and traced, the
 * ceiling) under the bench's load with --cpu-prof, and the table it prints. No timing is
 * asserted, only that every group is there and the numbers add up.
 */

let markdown: string;
let output: string;
let out: string | undefined;
const VARIANTS = ['untraced', 'tracing 100 %', 'tracing 10 %', 'ceiling (2 queries)'];

/** The table's rows: first cell → the other cells. */
function rows(text: string): Map<string, string[]> {
  const table = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('|---')) continue;
    const cells = line.slice(2, -2).split(' | ');
    table.set(cells[0]!, cells.slice(1));
  }
  return table;
}

/** µs per request and share (%) of each variant in a row. */
function values(cells: string[]): { us: number; share: number }[] {
  const result: { us: number; share: number }[] = [];
  for (let i = 0; i < cells.length; i += 2) result.push({ us: Number(cells[i]), share: Number(cells[i + 1]!.replace(' %', '')) });
  return result;
}

describe('make profile, short run', () => {
  beforeAll(async () => {
    out = await mkdtemp(join(tmpdir(), 'tracebridge-profile-smoke-'));
    const env: Record<string, string> = { BENCH_ADMIN_DATABASE_URL: inject('adminDatabaseUrl'), HOME: process.env.HOME ?? '/tmp' };
    for (const name of ['OTELCOL_BIN', 'JAEGER_BIN', 'HELM_BIN', 'XDG_CACHE_HOME']) {
      const value = process.env[name];
      if (value) env[name] = value;
    }
    const profile = runProcess(process.execPath, ['test/bench/profile.ts', '--duration', '2', '--warmup', '1', '--out', out], env);
    const code = await profile.exited;
    output = profile.stdout() + profile.stderr();
    expect(code, output).toBe(0);
    markdown = readFileSync(join(out, 'profile.md'), 'utf8');
  }, 600_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('has a column pair per variant and a row per package group, in order', () => {
    const header = markdown.split('\n').find((l) => l.startsWith('| group |'))!;
    expect(header).toBe(`| group | ${VARIANTS.map((v) => `${v} µs/req | share`).join(' | ')} |`);
    const names = [...rows(markdown).keys()];
    expect(names.slice(1, 1 + GROUPS.length)).toEqual([...GROUPS]);
    expect(names).toContain('total (profiled threads, idle excluded)');
    // What the command prints is what it wrote.
    expect(output).toContain(header);
  });

  it('adds up: the groups make the total, the shares make 100 %', () => {
    const table = rows(markdown);
    const total = values(table.get('total (profiled threads, idle excluded)')!);
    const groups = GROUPS.map((g) => values(table.get(g)!));
    VARIANTS.forEach((variant, v) => {
      expect(total[v]!.us, variant).toBeGreaterThan(0);
      expect(total[v]!.share, variant).toBe(100);
      const us = groups.reduce((sum, g) => sum + g[v]!.us, 0);
      const share = groups.reduce((sum, g) => sum + g[v]!.share, 0);
      // Each cell is rounded to 0.1.
      expect(Math.abs(us - total[v]!.us), `${variant}: groups ${us} vs total ${total[v]!.us}`).toBeLessThanOrEqual(0.05 * GROUPS.length + 0.05);
      expect(Math.abs(share - 100), `${variant}: shares ${share}`).toBeLessThanOrEqual(0.05 * GROUPS.length + 0.05);
      const responses = Number(table.get('responses in the profiled run')![2 * v]);
      expect(responses, variant).toBeGreaterThan(0);
      expect(Number(table.get('server CPU per request (/proc, all threads)')![2 * v]), variant).toBeGreaterThan(0);
    });
  });

  it('charges each package to the servers that run it', () => {
    const table = rows(markdown);
    const us = (group: string, variant: string) => values(table.get(group)!)[VARIANTS.indexOf(variant)]!.us;
    // The ceiling is node:http and pg only.
    for (const group of ['hono', '@hono/node-server', 'zod', 'knex', 'objection', 'tarn', 'pino', '@opentelemetry/*']) {
      expect(us(group, 'ceiling (2 queries)'), group).toBe(0);
    }
    expect(us('pg', 'ceiling (2 queries)')).toBeGreaterThan(0);
    for (const variant of VARIANTS.slice(0, 3)) for (const group of ['knex', 'objection', 'pg']) expect(us(group, variant), `${group} ${variant}`).toBeGreaterThan(0);
    // Every request of the 100 % API makes and exports spans.
    expect(us('@opentelemetry/*', 'tracing 100 %')).toBeGreaterThan(0);
  });
});
