import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { repoRoot, runProcess } from '../support/process.ts';
import { API_NODE_OPTIONS, type BenchRecord } from './environment.ts';
import { GATEWAY_SPANS_PER_CORE_CLAIMED } from './figures/topology.ts';
import type { Results } from './report.ts';

/**
 * `make bench` at a tiny length, so the harness cannot rot: the real runner (real PostgreSQL,
 * collector, Jaeger, the FastAPI peer from its venv, helm, autocannon) produces every figure,
 * well-formed records, the interleaving order and the ratios. No timing is asserted: the
 * numbers of a one-second run on a busy machine mean nothing.
 */

const run = promisify(execFile);
let results: Results;
let markdown: string;
let output: string;
let out: string | undefined;

describe('make bench, smoke length', () => {
  beforeAll(async () => {
    // The peer's virtualenv (created once from PyPI, then reused).
    const python = process.env.BENCH_PYTHON ?? (await run('bash', ['test/bench/peer/setup.sh'], { cwd: repoRoot, timeout: 600_000 })).stdout.trim();
    out = await mkdtemp(join(tmpdir(), 'tracebridge-bench-smoke-'));
    const env: Record<string, string> = { BENCH_PYTHON: python, BENCH_ADMIN_DATABASE_URL: inject('adminDatabaseUrl'), HOME: process.env.HOME ?? '/tmp' };
    for (const name of ['OTELCOL_BIN', 'JAEGER_BIN', 'HELM_BIN', 'XDG_CACHE_HOME']) {
      const value = process.env[name];
      if (value) env[name] = value;
    }
    const bench = runProcess(process.execPath, ['test/bench/run.ts', '--smoke', '--out', out], env);
    const code = await bench.exited;
    output = bench.stdout() + bench.stderr();
    expect(code, output).toBe(0);
    results = JSON.parse(readFileSync(join(out, 'latest.json'), 'utf8')) as Results;
    markdown = readFileSync(join(out, 'latest.md'), 'utf8');
  }, 900_000);

  afterAll(async () => {
    if (out) await rm(out, { recursive: true, force: true });
  });

  it('produces every figure, without errors', () => {
    expect(results.errors).toEqual([]);
    expect(results.mode).toBe('smoke');
    expect([...new Set(results.records.map((r) => r.figure))].sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('writes well-formed records: name, value, unit, target, pass', () => {
    const names = new Set<string>();
    for (const record of results.records) {
      expect(Object.keys(record).sort()).toEqual(['figure', 'name', 'pass', 'target', 'unit', 'value']);
      expect(typeof record.name).toBe('string');
      expect(names.has(record.name), `duplicate record ${record.name}`).toBe(false);
      names.add(record.name);
      expect(typeof record.value).toBe('number');
      expect(record.unit).toMatch(/\S/);
      if (record.target === null) expect(record.pass).toBeNull();
      else {
        expect(record.target).toMatch(/^(>=|<=|=) -?[\d.]+$/);
        expect(typeof record.pass).toBe('boolean');
      }
    }
  });

  it('has a record with a target for each of the issue targets', () => {
    const targeted = (pattern: RegExp) => results.records.filter((r) => r.target !== null && pattern.test(r.name));
    for (const endpoint of ['GET /users/:id', 'GET /posts?eager=true', 'POST /users']) {
      expect(targeted(new RegExp(`^overhead · ${escape(endpoint)} · `)).map((r) => r.target)).toEqual(['>= 0.90', '<= 1.15', '>= 0.97', '<= 50', '<= 15']);
    }
    expect(targeted(/^peer · .* tracebridge \/ peer$/)).toHaveLength(2);
    expect(targeted(/^ceiling · GET \/users\/:id · req\/s ratio · API off \/ ceiling \(2 queries\)$/).map((r) => r.target)).toEqual(['>= 0.4']);
    expect(targeted(/SQL statements per request · eager$/)).toHaveLength(2);
    expect(targeted(/lazy \/ eager$/)).toHaveLength(1);
    expect(targeted(/^collector · spans\/s sustained/)).toHaveLength(1);
    expect(targeted(/^memory · /).map((r) => r.target)).toEqual(['<= 150', '<= 30']);
    expect(targeted(/^startup · /).map((r) => r.target)).toEqual(['<= 1.5']);
    expect(targeted(/^gateway · spans\/s sustained/).map((r) => r.target)).toEqual([`>= ${GATEWAY_SPANS_PER_CORE_CLAIMED}`]);
  });

  it('runs the agent-gateway tiers: the gateway tail-samples whole traces, the agent forwards every span', () => {
    const value = (pattern: RegExp) => results.records.find((r) => pattern.test(r.name))?.value;
    // 2 % 503s, all kept, and the example's 20 % of the rest: about 21.6 % of 1,200 traces.
    expect(value(/^gateway · traces kept of those decided/)).toBeGreaterThan(12);
    expect(value(/^gateway · traces kept of those decided/)).toBeLessThan(32);
    expect(value(/^gateway · export failures/)).toBe(0);
    expect(value(/^agent · spans accepted and forwarded = offered$/)).toBe(1);
  });

  it('the sizing tables claim what figure 8 checks one gateway sustains', () => {
    const claimed = GATEWAY_SPANS_PER_CORE_CLAIMED.toLocaleString('en-US');
    for (const readme of ['README.md', 'charts/tracebridge/README.md']) {
      expect(readFileSync(join(repoRoot, readme), 'utf8'), readme).toContain(`${claimed} spans/s per gateway`);
    }
  });

  it('computes the ratios from the measured pairs', () => {
    const ratios = results.records.filter((r) => r.unit === '×');
    expect(ratios.length).toBeGreaterThan(15);
    for (const r of ratios) expect(Number.isFinite(r.value) && r.value > 0, `${r.name} = ${r.value}`).toBe(true);
    // Eager loading is two statements whatever the page size; lazy is one per post more.
    const statements = (name: string) => results.records.find((r) => r.name.includes(name))?.value;
    expect(statements('limit=10 · SQL statements per request · eager')).toBe(2);
    expect(statements('limit=100 · SQL statements per request · eager')).toBe(2);
    expect(statements('limit=10 · SQL statements per request · lazy')).toBe(11);
    expect(statements('limit=100 · SQL statements per request · lazy')).toBe(101);
  });

  it('measures the SDK floor next to the overhead (more spans sampled cost more; it bounds the ratio below 1) and splits the 10 % cost', () => {
    const floor = (label: string) => results.records.find((r) => r.name.startsWith('overhead · GET /users/:id · SDK floor') && r.name.endsWith(`CPU per request · ${label}`))?.value;
    const allows = (label: string) => results.records.find((r) => r.name.startsWith('overhead · GET /users/:id · SDK floor') && r.name.endsWith(`ratio it allows · ${label} / off`))?.value;
    expect(floor('10 %')).toBeGreaterThan(0);
    expect(floor('100 %')).toBeGreaterThan(floor('10 %')!);
    expect(allows('100 %')).toBeGreaterThan(0);
    expect(allows('100 %')).toBeLessThan(allows('10 %')!);
    expect(allows('10 %')).toBeLessThan(1);
    // ... and splits the 10 % cost by switching instrumentations off, side by side.
    const parts = results.records.filter((r) => r.name.startsWith('overhead · GET /users/:id · 10 % CPU per request added by '));
    expect(parts.map((r) => r.name.split(' added by ')[1])).toEqual([
      'the SDK with no request instrumented',
      'our SERVER span middleware',
      'our ORM instrumentation',
    ]);
    for (const part of parts) expect(Number.isFinite(part.value)).toBe(true);
  });

  it('records the interleaving: a warm-up of each variant, then rounds of A B C ... A B C', () => {
    const comparisons = new Map<string, { variant: string; round: number }[]>();
    for (const entry of results.order.filter((e) => ['tracing overhead', 'peer', 'ceiling', 'eager vs lazy'].includes(e.figure))) {
      const key = `${entry.figure} ${entry.figure === 'eager vs lazy' || entry.figure === 'ceiling' ? '' : entry.endpoint}`;
      comparisons.set(key, [...(comparisons.get(key) ?? []), entry]);
    }
    expect(comparisons.size).toBe(3 + 3 + 1 + 1);
    for (const [key, entries] of comparisons) {
      const variants = entries.filter((e) => e.round === 0).map((e) => e.variant);
      expect(variants.length, key).toBeGreaterThanOrEqual(2);
      const expected = [0, ...Array.from({ length: results.settings.rounds }, (_, i) => i + 1)].flatMap((round) => variants.map((variant) => ({ variant, round })));
      expect(entries.map(({ variant, round }) => ({ variant, round })), key).toEqual(expected);
    }
  });

  it('reports the machine, the versions and the placement', () => {
    expect(results.machine).toMatchObject({ cores: expect.any(Number) as number, placement: expect.any(String) as string });
    expect(Object.keys(results.versions)).toEqual(expect.arrayContaining(['node', 'python', 'postgresql', 'otelcol', 'py:fastapi', 'npm:hono']));
    expect(markdown).toMatch(/^# tracebridge benchmarks \(smoke\)/);
    expect(markdown).toContain('## Targets');
    // The API is measured with the heap flags the chart deploys it with.
    expect(API_NODE_OPTIONS).toMatch(/--max-semi-space-size=\d+/);
    expect(markdown).toContain(`NODE_OPTIONS=${API_NODE_OPTIONS}`);
    for (const record of results.records.filter((r: BenchRecord) => r.target !== null)) expect(markdown).toContain(record.name.replaceAll('|', '\\|'));
    expect(existsSync(join(repoRoot, 'test/bench/peer/requirements.txt'))).toBe(true);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
