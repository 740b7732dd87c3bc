import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, testApp, type TestApp } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { runNode } from '../support/process.ts';

/** Regressions for the contract violations the reliability drills found (test/drills/). */

let database: TestDatabase;
let api: TestApp;
beforeAll(async () => {
  database = await createTestDatabase();
  api = testApp(database.url);
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

/**
 * Deletes the author while the request waits between its two statements: the users table is
 * locked, the request's post query has run, its author query waits; the delete (cascading to
 * the post) commits first.
 */
async function deleteAuthorMidRequest(path: string, authorId: number): Promise<Response> {
  const trx = await database.db.transaction();
  await trx.raw('LOCK TABLE users IN ACCESS EXCLUSIVE MODE');
  const pending = api.request(path);
  for (;;) {
    const { rows } = await database.db.raw<{ rows: unknown[] }>(
      "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'users' AND NOT l.granted",
    );
    if (rows.length > 0) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  await trx('users').where({ id: authorId }).delete();
  await trx.commit();
  return pending;
}

async function userWithPost(email: string): Promise<{ userId: number; postId: number }> {
  const [user] = await database.db('users').insert({ name: 'Gone', email }).returning<{ id: number }[]>('id');
  const [post] = await database.db('posts').insert({ title: 't', content: 'c', author_id: user!.id }).returning<{ id: number }[]>('id');
  return { userId: user!.id, postId: post!.id };
}

describe('a post whose author is deleted between its two statements (schemathesis found a 500)', () => {
  it('GET /posts/:id answers 404: the post went with its author', async () => {
    const { userId, postId } = await userWithPost('gone1@example.com');
    const response = await deleteAuthorMidRequest(`/posts/${postId}`, userId);
    expect(response.status).toBe(404);
    expect((await errorOf(response)).code).toBe('not_found');
  });

  it.each(['false', 'true'])('GET /posts?eager=%s leaves it out of the page', async (eager) => {
    const kept = await userWithPost(`kept-${eager}@example.com`);
    const gone = await userWithPost(`gone-${eager}@example.com`);
    const response = await deleteAuthorMidRequest(`/posts?limit=100&eager=${eager}`, gone.userId);
    expect(response.status).toBe(200);
    const ids = ((await response.json()) as { items: { id: number }[] }).items.map((p) => p.id);
    expect(ids).toContain(kept.postId);
    expect(ids).not.toContain(gone.postId);
  });
});

describe('integers in paths and query strings are decimal digits only (0x10 was user 16)', () => {
  it.each(['0x10', '1e3', '%201', '1%20', 'Infinity', '+1', '١٢'])('GET /users/%s is a 422 naming id', async (id) => {
    const response = await api.request(`/users/${id}`);
    expect(response.status).toBe(422);
    expect((await errorOf(response)).details).toEqual([expect.objectContaining({ location: 'path', field: 'id' })]);
  });

  it.each(['limit=1e1', 'limit=0x10', 'offset=%201', 'limit='])('GET /users?%s is a 422', async (query) => {
    expect((await api.request(`/users?${query}`)).status).toBe(422);
  });

  it('plain decimals still work, defaults still apply', async () => {
    expect((await api.request('/users?limit=007&offset=0')).status).toBe(200);
    expect(await (await api.request('/users')).json()).toMatchObject({ limit: 20, offset: 0 });
  });
});

describe('the OpenAPI document states what validation enforces', () => {
  it('ids and pages with their bounds; text fields with their NUL and blank rules', async () => {
    const doc = (await (await api.request('/openapi.json')).json()) as {
      paths: Record<string, Record<string, { parameters?: { name: string; schema: Record<string, unknown> }[] }>>;
      components: { schemas: Record<string, { properties: Record<string, Record<string, unknown>> }> };
    };
    const params = doc.paths['/users']!.get!.parameters!;
    expect(params.find((p) => p.name === 'limit')!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 100, default: 20 });
    expect(doc.paths['/users/{id}']!.get!.parameters![0]!.schema).toMatchObject({ type: 'integer', minimum: 1, maximum: 2147483647 });
    const title = doc.components.schemas.PostCreate!.properties.title!;
    expect(title).toMatchObject({ minLength: 1, pattern: '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$' });
    const pattern = new RegExp(title.pattern as string);
    for (const [value, valid] of [['a', true], [' x ', true], ['', false], ['  \t', false], ['a\u0000', false]] as const) {
      expect(pattern.test(value), JSON.stringify(value)).toBe(valid);
      const response = await api.json('/posts', { title: value, content: 'c', author_id: 2147483647 });
      // Valid titles get as far as the author check (422 on author_id), invalid ones fail on title.
      const fields = ((await errorOf(response)).details as { field: string }[]).map((d) => d.field);
      expect(fields, JSON.stringify(value)).toEqual(valid ? ['author_id'] : ['title']);
    }
  });
});

describe('413 over a real socket (a client still sending got a reset)', () => {
  it('a streamed body over the limit is answered 413, declared or chunked, and the connection closes', async () => {
    const port = await freePort();
    const server = runNode('api/src/server.ts', [], { DATABASE_URL: database.url, PORT: String(port), HOST: '127.0.0.1', BODY_LIMIT_BYTES: '65536' });
    await server.waitFor(/"msg":"listening on/);
    try {
      const payload = Buffer.from(JSON.stringify({ name: 'x'.repeat(1024 * 1024), email: 'big@example.com' }));
      for (const chunked of [false, true, false, true]) {
        const answer = await new Promise<{ status: number; connection: string | undefined }>((resolve, reject) => {
          const req = request(
            {
              host: '127.0.0.1',
              port,
              method: 'POST',
              path: '/users',
              headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(payload.length) }) },
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
            },
          );
          req.on('error', reject);
          void (async () => {
            // Paced like a real upload: each chunk waits for the previous one to be written.
            for (let i = 0; i < payload.length; i += 16 * 1024) await new Promise((r) => req.write(payload.subarray(i, i + 16 * 1024), r));
            req.end();
          })().catch(reject);
        });
        expect(answer).toEqual({ status: 413, connection: 'close' });
      }
    } finally {
      await server.stop();
    }
  });
});
