import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, testApp, type TestApp } from '../support/app.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';

let database: TestDatabase;
let api: TestApp;
beforeAll(async () => {
  database = await createTestDatabase();
  api = testApp(database.url, { SERVICE_NAME: 'orders-api', SERVICE_VERSION: '2.3.4', DEPLOYMENT_ENVIRONMENT: 'staging' });
});
afterAll(async () => {
  await api.close();
  await database.drop();
});

describe('health endpoints', () => {
  it('GET / names the service, version, environment and tracing state', async () => {
    const response = await api.request('/');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      service: 'orders-api',
      version: '2.3.4',
      environment: 'staging',
      tracing: false,
    });
  });

  it('GET /healthz and /readyz answer 200 when the database is up', async () => {
    expect(await (await api.request('/healthz')).json()).toEqual({ status: 'ok' });
    const ready = await api.request('/readyz');
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });

  it('GET /readyz answers 503 once shutdown has begun, while /healthz stays 200', async () => {
    api.lifecycle.shuttingDown = true;
    try {
      const ready = await api.request('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.headers.get('retry-after')).toBe('1');
      expect((await errorOf(ready)).code).toBe('shutting_down');
      expect((await api.request('/healthz')).status).toBe(200);
    } finally {
      api.lifecycle.shuttingDown = false;
    }
  });

  it('unknown routes answer the JSON 404 of the contract', async () => {
    const response = await api.request('/nope?x=1');
    expect(response.status).toBe(404);
    expect(await errorOf(response)).toEqual({ code: 'not_found', message: 'no route for GET /nope', details: null });
  });

  it('logs one line per request with method, route template, status and duration', async () => {
    api.logs.length = 0;
    await api.request('/users/12345');
    const line = api.logs.find((l) => l.msg === 'request');
    expect(line).toMatchObject({ level: 'info', method: 'GET', route: '/users/:id', status: 404 });
    expect(typeof line?.duration_ms).toBe('number');
  });
});

describe('OpenAPI and docs', () => {
  it('serves an OpenAPI 3.1 document with every endpoint and its error responses', async () => {
    const response = await api.request('/openapi.json');
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      info: { version: string };
      paths: Record<string, Record<string, { responses: Record<string, unknown>; parameters?: { name: string }[] }>>;
      components: { schemas: Record<string, unknown> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.info.version).toBe('2.3.4');
    expect(Object.keys(doc.paths).sort()).toEqual(['/', '/healthz', '/posts', '/posts/{id}', '/readyz', '/users', '/users/{id}']);
    expect(Object.keys(doc.paths['/users']!).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/users/{id}']!).sort()).toEqual(['delete', 'get']);
    expect(Object.keys(doc.paths['/users']!.post!.responses).sort()).toEqual(['201', '400', '409', '413', '415', '422', '503']);
    expect(doc.paths['/posts']!.get!.parameters!.map((p) => p.name).sort()).toEqual(['eager', 'limit', 'offset']);
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining(['User', 'UserCreate', 'Post', 'PostCreate', 'PostWithAuthor', 'UserWithPosts', 'Error']),
    );
  });

  it('serves Swagger UI at /docs pointing at the document', async () => {
    const response = await api.request('/docs');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/html/);
    const html = await response.text();
    expect(html).toContain('SwaggerUIBundle');
    expect(html).toContain('/openapi.json');
  });
});
