import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { runNode } from '../support/process.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
  await database.db('users').insert({ name: 'Alice', email: 'alice@example.com', age: 30 });
});
afterAll(() => database.drop());

async function startApi(env: Record<string, string> = {}) {
  const port = await freePort();
  const api = runNode('api/src/server.ts', [], {
    DATABASE_URL: database.url,
    PORT: String(port),
    HOST: '127.0.0.1',
    ...env,
  });
  await api.waitFor(/"msg":"listening on/);
  return { api, base: `http://127.0.0.1:${port}` };
}

/** Blocks every statement on `users` until released, and resolves once a query is waiting on it. */
async function lockUsersTable() {
  const trx = await database.db.transaction();
  await trx.raw('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
  const waiting = async () => {
    for (;;) {
      const { rows } = await database.db.raw<{ rows: unknown[] }>(
        "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'users' AND NOT l.granted",
      );
      if (rows.length > 0) return;
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return { release: () => trx.commit(), waiting };
}

describe('graceful shutdown on SIGTERM', () => {
  it('finishes the in-flight request, refuses new connections, closes the pool, exits 0', async () => {
    const { api, base } = await startApi({ SHUTDOWN_TIMEOUT_MS: '10000' });
    const lock = await lockUsersTable();
    const inFlight = fetch(`${base}/users/1`);
    try {
      await lock.waiting();
    } catch (error) {
      await lock.release();
      throw error;
    }

    api.child.kill('SIGTERM');
    await api.waitFor(/shutting down: draining/);
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();

    await new Promise((r) => setTimeout(r, 300));
    await lock.release();
    const response = await inFlight;
    expect(response.status).toBe(200);
    expect(((await response.json()) as { name: string }).name).toBe('Alice');
    expect(await api.exited).toBe(0);
    expect(api.stdout()).toMatch(/"clean":true,"msg":"shutdown complete"/);
    // Backends end a moment after their client disconnects.
    await expect.poll(async () => {
      const { rows } = await database.db.raw<{ rows: unknown[] }>(
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'tracebridge-api' AND datname = current_database()",
      );
      return rows.length;
    }, { timeout: 3000 }).toBe(0);
  });

  it('is bounded: a request stuck past SHUTDOWN_TIMEOUT_MS does not keep the process alive', async () => {
    const { api, base } = await startApi({ SHUTDOWN_TIMEOUT_MS: '300' });
    const lock = await lockUsersTable();
    try {
      const stuck = fetch(`${base}/users/1`).catch((error: unknown) => error);
      await lock.waiting();
      const start = performance.now();
      api.child.kill('SIGINT');
      expect(await api.exited).toBe(0);
      // 300 ms drain + at most 1 s to close the pool, never the 10 s statement timeout.
      expect(performance.now() - start).toBeLessThan(3000);
      expect(api.stdout()).toMatch(/"clean":false,"msg":"shutdown complete"/);
      expect(await stuck).toBeInstanceOf(Error);
    } finally {
      await lock.release();
    }
  });
});

describe('over the real HTTP server', () => {
  it('answers 413 for oversized bodies, declared or chunked, and keeps serving', async () => {
    const { api, base } = await startApi({ BODY_LIMIT_BYTES: '1024' });
    try {
      const big = JSON.stringify({ name: 'x'.repeat(2000), email: 'big@example.com' });
      const declared = await fetch(`${base}/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
      expect(declared.status).toBe(413);
      expect(((await declared.json()) as { error: { code: string } }).error.code).toBe('payload_too_large');

      const chunks = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(big.slice(i * 500, (i + 1) * 500)));
          controller.close();
        },
      });
      const chunked = await fetch(`${base}/users`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: chunks,
        duplex: 'half',
      });
      expect(chunked.status).toBe(413);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect(await database.db('users').where({ email: 'big@example.com' }).first()).toBeUndefined();
    } finally {
      api.child.kill('SIGTERM');
      await api.exited;
    }
  });
});

describe('startup', () => {
  it('fails fast naming each invalid variable', async () => {
    const api = runNode('api/src/server.ts', [], { PORT: 'eighty', DB_POOL_MAX: '0' });
    expect(await api.exited).toBe(1);
    expect(api.stderr()).toContain('invalid configuration');
    expect(api.stderr()).toMatch(/PORT: .*number.*\(got "eighty"\)/);
    expect(api.stderr()).toContain('DATABASE_URL: is required');
    expect(api.stderr()).toMatch(/DB_POOL_MAX: /);
  });

  it("a misspelt variable in the API's namespace stops it, naming the variable and the one meant", async () => {
    // Through the preload, as the image starts: the telemetry half of the configuration is read first.
    const api = runNode('api/src/server.ts', [], { DATABASE_URL: database.url, DB_POOL_MAXX: '20', OTEL_EXPORTER_OTLP_ENDPIONT: 'http://x:4317' }, ['--import', './api/src/telemetry/preload.ts']);
    expect(await api.exited).toBe(1);
    expect(api.stderr()).toContain('tracebridge-api: invalid configuration:');
    expect(api.stderr()).toContain('DB_POOL_MAXX: not a variable the API reads; did you mean DB_POOL_MAX?');
    expect(api.stderr()).toContain('OTEL_EXPORTER_OTLP_ENDPIONT: not a variable the API reads; did you mean OTEL_EXPORTER_OTLP_ENDPOINT?');
  });

  it('fails with a clear message when the port is taken, and never prints the database password', async () => {
    const { api: first, base } = await startApi();
    const port = new URL(base).port;
    const second = runNode('api/src/server.ts', [], { DATABASE_URL: database.url, PORT: port, HOST: '127.0.0.1' });
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/failed to start: .*EADDRINUSE/);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    const password = decodeURIComponent(new URL(database.url).password);
    expect(password.length).toBeGreaterThan(8);
    expect(first.stdout() + second.stdout() + second.stderr()).not.toContain(password);
  });
});
