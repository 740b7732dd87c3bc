import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateLatest } from '../../api/src/db/migrations/index.ts';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../api/src/dev/embedded-postgres.ts';
import { errorOf, testApp } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { closedPort, freePort } from '../support/ports.ts';

async function timed<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const result = await fn();
  return [result, performance.now() - start];
}

describe('pool exhausted', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.drop());

  it('answers 503 + Retry-After after the acquire timeout, and recovers at once', async () => {
    const api = testApp(database.url, { DB_POOL_MAX: '1', DB_POOL_ACQUIRE_TIMEOUT_MS: '300', RETRY_AFTER_SECONDS: '2' });
    try {
      const held = await api.db.transaction(); // takes the pool's only connection
      const [response, elapsed] = await timed(() => api.request('/users'));
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('2');
      expect(await errorOf(response)).toEqual({
        code: 'database_unavailable',
        message: 'the database is unavailable; retry later',
        details: null,
      });
      expect(elapsed).toBeGreaterThanOrEqual(250);
      expect(elapsed).toBeLessThan(2000);
      expect((await api.request('/readyz')).status).toBe(503);

      await held.rollback();
      expect((await api.request('/users')).status).toBe(200);
      expect((await api.request('/readyz')).status).toBe(200);
      const warning = api.logs.find((l) => l.level === 'warn' && l.status === 503);
      expect(warning).toMatchObject({ route: '/users', error: { type: 'KnexTimeoutError' } });
    } finally {
      await api.close();
    }
  });
});

describe('database unreachable', () => {
  it('answers 503 at once when nothing listens on the database port', async () => {
    const url = `postgresql://postgres:secret@127.0.0.1:${await closedPort()}/nowhere`;
    const api = testApp(url, { RETRY_AFTER_SECONDS: '1' });
    try {
      for (const path of ['/users', '/users/1', '/posts?eager=true']) {
        const [response, elapsed] = await timed(() => api.request(path));
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('1');
        expect((await errorOf(response)).code).toBe('database_unavailable');
        expect(elapsed).toBeLessThan(1000);
      }
      const created = await api.json('/users', { name: 'A', email: 'a@example.com' });
      expect(created.status).toBe(503);
      const ready = await api.request('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe('1');
      expect((await api.request('/healthz')).status).toBe(200);
      expect(JSON.stringify(api.logs)).not.toContain('secret');
    } finally {
      await api.close();
    }
  });
});

describe('PostgreSQL stopped and started again', () => {
  let baseDir: string;
  let port: number;
  let server: EmbeddedDatabase | undefined;

  beforeAll(async () => {
    baseDir = await mkdtemp(join(tmpdir(), 'tracebridge-restart-pg-'));
    port = await freePort();
    server = await startEmbeddedPostgres({ baseDir, port, database: 'app', persistent: true });
  });
  afterAll(async () => {
    await server?.stop();
    await rm(baseDir, { recursive: true, force: true });
  });

  it('serves 503 while it is down, readyz follows, and the service recovers without a restart', async () => {
    const url = server!.url;
    const api = testApp(url);
    try {
      await migrateLatest(api.db);
      expect((await api.json('/users', { name: 'A', email: 'a@example.com' })).status).toBe(201);
      expect((await api.request('/readyz')).status).toBe(200);

      await server!.stop();
      server = undefined;
      // Pooled connections are now dead sockets and new ones are refused: both must be 503, fast.
      for (let i = 0; i < 3; i++) {
        const [response, elapsed] = await timed(() => api.request('/users/1'));
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBe('1');
        expect(elapsed).toBeLessThan(2000);
      }
      expect((await api.request('/readyz')).status).toBe(503);

      server = await startEmbeddedPostgres({ baseDir, port, database: 'app', persistent: true });
      const [recovered, elapsed] = await timed(async () => {
        for (;;) {
          const response = await api.request('/users/1');
          if (response.status !== 503) return response;
          await new Promise((r) => setTimeout(r, 100));
        }
      });
      expect(recovered.status).toBe(200);
      expect(elapsed).toBeLessThan(5000);
      expect((await api.request('/readyz')).status).toBe(200);
      expect(api.logs.filter((l) => l.status === 500)).toEqual([]);
    } finally {
      await api.close();
    }
  });
});

describe('a pooled connection killed by the server', () => {
  it('is replaced: no 500, the next request succeeds', async () => {
    const database = await createTestDatabase();
    const api = testApp(database.url, { DB_POOL_MAX: '1' });
    try {
      expect((await api.request('/users')).status).toBe(200);
      await database.db.raw(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = 'tracebridge-api'",
      );
      await new Promise((r) => setTimeout(r, 100));
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await api.request('/users')).status);
      expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
      expect(statuses.at(-1)).toBe(200);
    } finally {
      await api.close();
      await database.drop();
    }
  });
});
