import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostSchema, PostWithAuthorSchema, pageOf } from '../../api/src/schemas.ts';
import { errorOf, testApp, type TestApp } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let database: TestDatabase;
let api: TestApp;
const authors: number[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  api = testApp(database.url);
  for (const name of ['Ann', 'Ben', 'Cat']) {
    const response = await api.json('/users', { name, email: `${name}@example.com` });
    authors.push(((await response.json()) as { id: number }).id);
  }
  // 12 posts, authors interleaved, so every page mixes authors.
  for (let i = 1; i <= 12; i++) {
    const response = await api.json('/posts', { title: `post ${i}`, content: `body ${i}`, author_id: authors[i % 3] });
    expect(response.status).toBe(201);
  }
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

const Page = pageOf(PostWithAuthorSchema, 'PostPage');

describe('POST /posts', () => {
  it('creates a post: 201, Location, stored', async () => {
    const response = await api.json('/posts', { title: 'Hello', content: 'World', author_id: authors[0] });
    expect(response.status).toBe(201);
    const post = PostSchema.parse(await response.json());
    expect(post).toMatchObject({ title: 'Hello', content: 'World', author_id: authors[0] });
    expect(response.headers.get('location')).toBe(`/posts/${post.id}`);
    await api.request(`/posts/${post.id}`, { method: 'DELETE' });
    await database.db('posts').where({ id: post.id }).delete();
  });

  it('answers 422 on author_id when the author does not exist', async () => {
    const response = await api.json('/posts', { title: 'Orphan', content: '', author_id: 999_999 });
    expect(response.status).toBe(422);
    expect(await errorOf(response)).toEqual({
      code: 'validation_failed',
      message: 'invalid body: author_id',
      details: [{ location: 'body', field: 'author_id', message: 'no user with id 999999' }],
    });
  });

  it.each([
    ['missing title', { content: '', author_id: 1 }, 'title'],
    ['missing content', { title: 't', author_id: 1 }, 'content'],
    ['author_id as a string', { title: 't', content: '', author_id: '1' }, 'author_id'],
    ['author_id zero', { title: 't', content: '', author_id: 0 }, 'author_id'],
    ['author_id beyond int4', { title: 't', content: '', author_id: 2 ** 31 }, 'author_id'],
    ['NUL in content', { title: 't', content: 'a\u0000', author_id: 1 }, 'content'],
  ])('answers 422 naming the field: %s', async (_case, body, field) => {
    const response = await api.json('/posts', body);
    expect(response.status).toBe(422);
    expect((await errorOf(response)).details).toEqual(
      expect.arrayContaining([expect.objectContaining({ location: 'body', field })]),
    );
  });
});

describe('GET /posts', () => {
  it('lazy and eager loading return the same page, for every page', async () => {
    for (const [limit, offset] of [[5, 0], [5, 5], [5, 10], [100, 0], [3, 11]] as const) {
      const lazy = Page.parse(await (await api.request(`/posts?limit=${limit}&offset=${offset}`)).json());
      const eager = Page.parse(await (await api.request(`/posts?limit=${limit}&offset=${offset}&eager=true`)).json());
      expect(eager).toEqual(lazy);
      expect(lazy.items.length).toBe(Math.min(limit, 12 - offset));
      for (const post of lazy.items) expect(post.author.id).toBe(post.author_id);
    }
  });

  it('pages in id order with next_offset', async () => {
    const page = Page.parse(await (await api.request('/posts?limit=5&offset=5&eager=true')).json());
    expect(page.items.map((p) => p.title)).toEqual(['post 6', 'post 7', 'post 8', 'post 9', 'post 10']);
    expect(page.next_offset).toBe(10);
  });

  it.each(['eager=yes', 'eager=1', 'limit=0', 'offset=-5'])('answers 422 for %s', async (query) => {
    const response = await api.request(`/posts?${query}`);
    expect(response.status).toBe(422);
    expect((await errorOf(response)).code).toBe('validation_failed');
  });
});

describe('GET /posts/:id', () => {
  it('returns the post with its author', async () => {
    const response = await api.request('/posts/1');
    expect(response.status).toBe(200);
    const post = PostWithAuthorSchema.parse(await response.json());
    expect(post).toMatchObject({ id: 1, title: 'post 1', author: { id: authors[1], name: 'Ben' } });
  });

  it('answers 404 for an unknown id and 422 for a malformed one', async () => {
    expect(await errorOf(await api.request('/posts/777'))).toEqual({
      code: 'not_found',
      message: 'post 777 not found',
      details: null,
    });
    expect((await api.request('/posts/seven')).status).toBe(422);
  });
});
