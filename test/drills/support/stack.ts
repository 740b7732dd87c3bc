import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { createDb, type Db } from '../../../api/src/db/knex.ts';
import { migrateLatest } from '../../../api/src/db/migrations/index.ts';
import { testPool } from '../../support/config.ts';
import { parsePrometheus, type Sample } from '../../support/prometheus.ts';

/**
 * What the drills share. Nothing here imports vitest: the same drills run under `make test`
 * (short) and under `node test/drills/run.ts` (full length, `make drills`).
 */

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface DrillDatabase {
  url: string;
  db: Db;
  drop(): Promise<void>;
}

async function admin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A fresh, migrated database on the server of adminUrl (test/support/database.ts without vitest). */
export async function createDatabase(adminUrl: string): Promise<DrillDatabase> {
  const name = `drill_${randomBytes(6).toString('hex')}`;
  await admin(adminUrl, (c) => c.query(`CREATE DATABASE ${c.escapeIdentifier(name)}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.href, testPool, { applicationName: 'tracebridge-drill' });
  await migrateLatest(db);
  return {
    url: url.href,
    db,
    drop: async () => {
      await db.destroy();
      await admin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${c.escapeIdentifier(name)} WITH (FORCE)`));
    },
  };
}

/** `users` users with `postsEach` posts each; returns the user ids. */
export async function seed(db: Db, users: number, postsEach: number): Promise<number[]> {
  const rows = Array.from({ length: users }, (_, i) => ({ name: `User ${i}`, email: `user${i}@example.com`, age: 20 + (i % 50) }));
  const ids = (await db('users').insert(rows).returning<{ id: number }[]>('id')).map((r) => r.id);
  const posts = ids.flatMap((id) => Array.from({ length: postsEach }, (_, n) => ({ title: `Post ${n}`, content: 'Seeded.', author_id: id })));
  if (posts.length > 0) await db('posts').insert(posts);
  return ids;
}

/** Resident set size of a process, sampled periodically from /proc (Linux). */
export function sampleRss(pid: number, intervalMs = 250) {
  const samples: { t: number; mib: number }[] = [];
  const read = () => {
    try {
      const kib = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      if (Number.isFinite(kib)) samples.push({ t: performance.timeOrigin + performance.now(), mib: kib / 1024 });
    } catch {
      // the process has exited
    }
  };
  read();
  const timer = setInterval(read, intervalMs);
  return {
    samples,
    stop: () => clearInterval(timer),
    /** Highest RSS (MiB) sampled in [from, to). */
    max(from = -Infinity, to = Infinity): number {
      return Math.max(0, ...samples.filter((s) => s.t >= from && s.t < to).map((s) => s.mib));
    },
  };
}

export async function scrape(url: string): Promise<Sample[]> {
  return parsePrometheus(await (await fetch(url)).text());
}

/** Sum of the samples named `name` whose labels include `labels` (0 when there is none). */
export function total(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** Polls until fn returns a value (not undefined) or the time is up; returns the last value either way. */
export async function poll<T>(fn: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 250): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined || Date.now() > deadline) return value;
    await sleep(intervalMs);
  }
}

/**
 * Span counts per trace id (32 hex characters) that Jaeger holds for a service, from its HTTP
 * query API. Jaeger prints trace ids without leading zeros; they are padded back.
 */
export async function jaegerSpanCounts(queryUrl: string, service: string): Promise<Map<string, number>> {
  const params = new URLSearchParams({ service, limit: '100000', lookback: '2h' });
  const response = await fetch(`${queryUrl}/api/traces?${params.toString()}`);
  const counts = new Map<string, number>();
  if (!response.ok) return counts;
  const body = (await response.json()) as { data: { traceID: string; spans: unknown[] }[] | null };
  for (const trace of body.data ?? []) counts.set(trace.traceID.padStart(32, '0'), trace.spans.length);
  return counts;
}

/**
 * Waits until every one of `traceIds` is in Jaeger with at least `spansEach` spans, or the time
 * is up; returns how many are complete.
 */
export async function completeInJaeger(
  queryUrl: string,
  service: string,
  traceIds: readonly string[],
  spansEach: number,
  timeoutMs: number,
): Promise<number> {
  let complete = 0;
  await poll(async () => {
    const counts = await jaegerSpanCounts(queryUrl, service);
    complete = traceIds.filter((id) => (counts.get(id) ?? 0) >= spansEach).length;
    return complete === traceIds.length ? true : undefined;
  }, timeoutMs, 1000);
  return complete;
}

/** The `msg: "request"` lines of the API's JSON log. */
export function requestLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === 'request');
}
