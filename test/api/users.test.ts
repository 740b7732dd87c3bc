import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UserSchema, UserWithPostsSchema, pageOf } from '../../api/src/schemas.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { errorOf, testApp, type TestApp } from '../support/app.ts';

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
beforeEach(async () => {
  await database.db.raw('TRUNCATE users, posts RESTART IDENTITY CASCADE');
});

const alice = { name: 'Alice', email: 'alice@example.com', age: 30 };

async function createUser(body: Record<string, unknown>) {
  const response = await api.json('/users', body);
  expect(response.status).toBe(201);
  return UserSchema.parse(await response.json());
}

describe('POST /users', () => {
  it('creates a user: 201, Location, the stored row', async () => {
    const response = await api.json('/users', alice);
    expect(response.status).toBe(201);
    const user = UserSchema.parse(await response.json());
    expect(user).toMatchObject({ id: 1, ...alice });
    expect(response.headers.get('location')).toBe('/users/1');
    expect(await database.db('users').where({ id: 1 }).first()).toMatchObject(alice);
  });

  it('answers created_at as the stored time in UTC, to the millisecond', async () => {
    const user = await createUser(alice);
    const stored = await database.db.raw<{ rows: { iso: string }[] }>(
      `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS iso FROM users WHERE id = ?`,
      [user.id],
    );
    expect(user.created_at).toBe(stored.rows[0]!.iso);
    const response = await api.request(`/users/${user.id}`);
    expect(((await response.json()) as { created_at: string }).created_at).toBe(user.created_at);
  });

  it('accepts a missing or null age', async () => {
    expect((await createUser({ name: 'Bob', email: 'bob@example.com' })).age).toBeNull();
    expect((await createUser({ name: 'Cy', email: 'cy@example.com', age: null })).age).toBeNull();
  });

  it('answers 409 for an email already registered, whatever its case', async () => {
    await createUser(alice);
    const response = await api.json('/users', { ...alice, email: 'ALICE@Example.com' });
    expect(response.status).toBe(409);
    const error = await errorOf(response);
    expect(error.code).toBe('conflict');
    expect(error.details).toEqual([{ location: 'body', field: 'email', message: 'already registered' }]);
    expect(await database.db('users').count({ n: '*' })).toEqual([{ n: '1' }]);
  });

  it.each([
    ['missing name', { email: 'a@b.co' }, 'name'],
    ['blank name', { name: '   ', email: 'a@b.co' }, 'name'],
    ['name over 200 chars', { name: 'x'.repeat(201), email: 'a@b.co' }, 'name'],
    ['NUL in name', { name: 'a\u0000b', email: 'a@b.co' }, 'name'],
    ['invalid email', { name: 'A', email: 'not-an-email' }, 'email'],
    ['email of the wrong type', { name: 'A', email: 42 }, 'email'],
    ['negative age', { name: 'A', email: 'a@b.co', age: -1 }, 'age'],
    ['fractional age', { name: 'A', email: 'a@b.co', age: 3.5 }, 'age'],
    ['age as a string', { name: 'A', email: 'a@b.co', age: '30' }, 'age'],
    ['unknown field', { name: 'A', email: 'a@b.co', admin: true }, 'admin'],
  ])('answers 422 naming the field: %s', async (_case, body, field) => {
    const response = await api.json('/users', body);
    expect(response.status).toBe(422);
    const error = await errorOf(response);
    expect(error.code).toBe('validation_failed');
    expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ location: 'body', field })]));
    expect(error.message).toContain(field);
  });

  it.each([
    ['a JSON array', '[]'],
    ['a JSON string', '"alice"'],
    ['null', 'null'],
  ])('answers 422 for a body that is %s', async (_case, body) => {
    const response = await api.request('/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(422);
    expect((await errorOf(response)).code).toBe('validation_failed');
  });

  it.each([
    ['truncated', '{"name":"Alice","email":'],
    ['trailing garbage', '{"name":"Alice"} x'],
    ['empty', ''],
    ['single quotes', "{'name':'Alice'}"],
  ])('answers 400 for malformed JSON (%s)', async (_case, body) => {
    const response = await api.request('/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toEqual({ code: 'malformed_json', message: 'request body is not valid JSON', details: null });
  });

  it.each(['text/plain', 'application/x-www-form-urlencoded'])('answers 415 for a %s body', async (type) => {
    const response = await api.request('/users', { method: 'POST', headers: { 'content-type': type }, body: 'name=A' });
    expect(response.status).toBe(415);
    expect((await errorOf(response)).code).toBe('unsupported_media_type');
  });

  it('answers 413 for a body over the limit, without storing anything', async () => {
    const response = await api.json('/users', { ...alice, name: 'x'.repeat(1024 * 1024) });
    expect(response.status).toBe(413);
    expect((await errorOf(response)).code).toBe('payload_too_large');
    expect(await database.db('users').count({ n: '*' })).toEqual([{ n: '0' }]);
  });
});

describe('GET /users', () => {
  const Page = pageOf(UserSchema, 'UserPage');

  beforeEach(async () => {
    for (let i = 1; i <= 5; i++) await createUser({ name: `U${i}`, email: `u${i}@example.com`, age: 20 + i });
  });

  it('lists users oldest first with the default page', async () => {
    const page = Page.parse(await (await api.request('/users')).json());
    expect(page.items.map((u) => u.name)).toEqual(['U1', 'U2', 'U3', 'U4', 'U5']);
    expect(page).toMatchObject({ limit: 20, offset: 0, next_offset: null });
  });

  it('pages through with limit and offset, next_offset null on the last page', async () => {
    const first = Page.parse(await (await api.request('/users?limit=2')).json());
    expect(first.items.map((u) => u.name)).toEqual(['U1', 'U2']);
    expect(first.next_offset).toBe(2);
    const last = Page.parse(await (await api.request('/users?limit=2&offset=4')).json());
    expect(last.items.map((u) => u.name)).toEqual(['U5']);
    expect(last.next_offset).toBeNull();
    const exact = Page.parse(await (await api.request('/users?limit=5')).json());
    expect(exact.items).toHaveLength(5);
    expect(exact.next_offset).toBeNull();
  });

  it('returns an empty page past the end', async () => {
    const page = Page.parse(await (await api.request('/users?offset=100')).json());
    expect(page).toEqual({ items: [], limit: 20, offset: 100, next_offset: null });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=101', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=abc', 'limit'],
    ['limit=1.5', 'limit'],
    ['offset=-1', 'offset'],
    ['offset=99999999999', 'offset'],
  ])('answers 422 for %s', async (query, field) => {
    const response = await api.request(`/users?${query}`);
    expect(response.status).toBe(422);
    expect((await errorOf(response)).details).toEqual([expect.objectContaining({ location: 'query', field })]);
  });
});

describe('GET /users/:id', () => {
  it("returns the user with their posts in id order", async () => {
    const user = await createUser(alice);
    const other = await createUser({ name: 'Bob', email: 'bob@example.com' });
    for (const [author, title] of [[user.id, 'first'], [other.id, 'not hers'], [user.id, 'second']] as const) {
      await api.json('/posts', { title, content: '...', author_id: author });
    }
    const response = await api.request(`/users/${user.id}`);
    expect(response.status).toBe(200);
    const body = UserWithPostsSchema.parse(await response.json());
    expect(body).toMatchObject(alice);
    expect(body.posts.map((p) => p.title)).toEqual(['first', 'second']);
  });

  it('returns an empty post list for a user without posts', async () => {
    const user = await createUser(alice);
    expect(UserWithPostsSchema.parse(await (await api.request(`/users/${user.id}`)).json()).posts).toEqual([]);
  });

  it('answers 404 for an unknown id', async () => {
    const response = await api.request('/users/4242');
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toEqual({ code: 'not_found', message: 'user 4242 not found', details: null });
  });

  it.each(['abc', '0', '-1', '1.5', '2147483648', '1e400', '%00'])('answers 422 for the id %s', async (id) => {
    const response = await api.request(`/users/${id}`);
    expect(response.status).toBe(422);
    expect((await errorOf(response)).details).toEqual([expect.objectContaining({ location: 'path', field: 'id' })]);
  });
});

describe('DELETE /users/:id', () => {
  it("deletes the user and their posts, then answers 404", async () => {
    const user = await createUser(alice);
    const keep = await createUser({ name: 'Bob', email: 'bob@example.com' });
    await api.json('/posts', { title: 'gone', content: '', author_id: user.id });
    await api.json('/posts', { title: 'kept', content: '', author_id: keep.id });

    const response = await api.request(`/users/${user.id}`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect((await api.request(`/users/${user.id}`)).status).toBe(404);
    expect(await database.db('posts').pluck('title')).toEqual(['kept']);
    expect((await api.request(`/users/${user.id}`, { method: 'DELETE' })).status).toBe(404);
  });
});
