import { diag, DiagLogLevel, SpanStatusCode } from '@opentelemetry/api';
import { SamplingDecision, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { Hono } from 'hono';
import knex from 'knex';
import { createRequire } from 'node:module';
import { QueryBuilder } from 'objection';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Post } from '../../api/src/db/models/post.ts';
import { User } from '../../api/src/db/models/user.ts';
import type { Detection } from '../../api/src/telemetry/n-plus-one.ts';
import { HttpServerInstrumentation } from '../../api/src/telemetry/http-server/instrumentation.ts';
import { ObjectionInstrumentation, SUPPORTED, unsupportedVersions } from '../../api/src/telemetry/objection/instrumentation.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { inProcessTracing } from '../support/in-process-tracing.ts';

/** The methods the instrumentation wraps, as they are before it is enabled. */
const pgClient = createRequire(import.meta.url)('knex/lib/dialects/postgres/index.js') as { prototype: Record<string, unknown> };
const installedVersion = (name: string) => (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;
const ignore = (): void => undefined;
const targets = (): unknown[] => [
  (QueryBuilder.prototype as unknown as Record<string, unknown>).execute,
  (knex.Client.prototype as unknown as Record<string, unknown>).query,
  pgClient.prototype.transaction,
];
const originals = targets();

const sdk = inProcessTracing();
const http = new HttpServerInstrumentation({ nPlusOneThreshold: 3 });
http.setTracerProvider(sdk.tracerProvider);
http.setMeterProvider(sdk.meterProvider);
const detections: Detection[] = [];
const orm = new ObjectionInstrumentation({ onNPlusOne: (detection) => detections.push(detection) });
orm.setTracerProvider(sdk.tracerProvider);
orm.setMeterProvider(sdk.meterProvider);

let database: TestDatabase;
let aliceId: number;
const app = new Hono();
app.use(http.middleware());
app.get('/users/:id', async (c) => {
  const user = await User.query(database.db).findById(Number(c.req.param('id')));
  const posts = await user!.$relatedQuery('posts', database.db).orderBy('id');
  return c.json({ id: user!.id, posts: posts.length });
});
app.get('/posts', async (c) => {
  const posts = await Post.query(database.db).orderBy('id');
  for (const post of posts) await post.$relatedQuery('author', database.db);
  return c.json(posts);
});
app.post('/users', async (c) => {
  const email = c.req.query('email')!;
  const created = await database.db.transaction(async (trx) => {
    const user = await User.query(trx).insert({ name: 'T', email }).returning('*');
    await Post.query(trx).insert({ title: 't', content: 'c', author_id: user.id });
    return user;
  });
  return c.json(created, 201);
});
app.post('/users/model-transaction', async (c) => {
  await User.transaction(database.db, async (trx) => User.query(trx).insert({ name: 'M', email: 'alice@example.com' }));
  return c.body(null, 204);
});
app.onError((_error, c) => c.json({ error: 'failed' }, 500));

const children = (spans: readonly ReadableSpan[], parent: ReadableSpan) =>
  spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId).map((s) => s.name);

beforeAll(async () => {
  database = await createTestDatabase();
  aliceId = (await database.db('users').insert({ name: 'Alice', email: 'alice@example.com' }).returning<{ id: number }[]>('id'))[0]!.id;
  await database.db('posts').insert([1, 2, 3, 4].map((n) => ({ title: `p${n}`, content: 'c', author_id: aliceId })));
});

afterAll(async () => {
  orm.disable();
  await database.drop();
  await sdk.shutdown();
});

beforeEach(() => {
  sdk.reset();
  detections.length = 0;
  orm.enable();
});

describe('ObjectionInstrumentation', () => {
  it('a sampled request: db.query.find and the lazy db.relationship.load under the SERVER span, with their attributes', async () => {
    expect((await app.request(`/users/${aliceId}`)).status).toBe(200);
    const spans = sdk.spans();
    const server = spans.find((s) => s.name === 'GET /users/:id')!;
    expect(children(spans, server)).toEqual(['db.query.find', 'db.relationship.load']);
    const find = spans.find((s) => s.name === 'db.query.find')!;
    // One span per query, carrying its statement, parameterized.
    expect(find.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.collection.name': 'users',
      'db.operation.name': 'find',
      'db.namespace': new URL(database.url).pathname.slice(1),
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(database.url).port),
      'db.query.text': 'select "users".* from "users" where "users"."id" = $1',
      'db.response.returned_rows': 1,
    });
    expect(spans.find((s) => s.name === 'db.relationship.load')!.attributes).toMatchObject({
      'db.collection.name': 'posts',
      'db.relationship.name': 'posts',
      'db.relationship.strategy': 'lazy',
      'db.response.returned_rows': 4,
    });
  });

  it('an unsampled request: no db span is even started (one sampler call: the SERVER span), yet its N+1 is detected', async () => {
    sdk.sampler.decision = SamplingDecision.NOT_RECORD;
    expect((await app.request('/posts')).status).toBe(200);
    expect(sdk.sampler.calls.map((c) => c.name)).toEqual(['GET /posts']);
    expect(sdk.spans()).toEqual([]);
    expect(detections).toEqual([{ shape: 'select "users".* from "users" where "users"."id" in (?)', count: 3 }]);
  });

  it('db.client.operation.duration: one record per statement, sampled or not, by statement keyword', async () => {
    const selects = async () =>
      (await sdk.histogram('db.client.operation.duration')).find((p) => p.attributes['db.operation.name'] === 'SELECT')?.count ?? 0;
    const before = await selects();
    sdk.sampler.decision = SamplingDecision.NOT_RECORD;
    await app.request(`/users/${aliceId}`);
    sdk.sampler.decision = SamplingDecision.RECORD_AND_SAMPLED;
    await app.request(`/users/${aliceId}`);
    expect((await selects()) - before).toBe(4);
    const point = (await sdk.histogram('db.client.operation.duration')).find((p) => p.attributes['db.operation.name'] === 'SELECT');
    expect(point?.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': new URL(database.url).pathname.slice(1),
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(database.url).port),
      'db.operation.name': 'SELECT',
    });
  });

  it('the same N+1 in a sampled request: the SERVER span carries it', async () => {
    await app.request('/posts');
    const server = sdk.spans().find((s) => s.name === 'GET /posts')!;
    expect(server.attributes).toMatchObject({ 'tracebridge.n_plus_one.detected': true, 'tracebridge.n_plus_one.count': 4 });
    expect(detections).toHaveLength(1);
  });

  it('db.transaction(): one db.session.commit span holding its statements, with their count', async () => {
    expect((await app.request('/users?email=tx@example.com', { method: 'POST' })).status).toBe(201);
    const spans = sdk.spans();
    const session = spans.find((s) => s.name === 'db.session.commit')!;
    expect(session.attributes).toMatchObject({ 'db.system.name': 'postgresql', 'tracebridge.db.statement_count': 2 });
    expect(children(spans, session)).toEqual(['db.query.insert', 'db.query.insert']);
  });

  it('Model.transaction() that fails: db.session.rollback with the SQLSTATE as error.type', async () => {
    expect((await app.request('/users/model-transaction', { method: 'POST' })).status).toBe(500);
    const rollback = sdk.spans().find((s) => s.name === 'db.session.rollback')!;
    expect(rollback.status.code).toBe(SpanStatusCode.ERROR);
    expect(rollback.attributes).toMatchObject({ 'error.type': '23505', 'tracebridge.db.statement_count': 1 });
  });

  it('outside any span (migrations, startup) queries make no spans', async () => {
    await User.query(database.db).findById(aliceId);
    expect(sdk.spans()).toEqual([]);
    expect(sdk.sampler.calls).toEqual([]);
  });

  it('disable() restores the original methods and stops the ORM spans; enable() patches again', async () => {
    expect(targets().every((method, i) => method !== originals[i])).toBe(true);
    orm.disable();
    expect(targets()).toEqual(originals);
    await app.request(`/users/${aliceId}`);
    expect(sdk.spans().map((s) => s.name)).toEqual(['GET /users/:id']);
    orm.enable();
    sdk.reset();
    await app.request(`/users/${aliceId}`);
    expect(sdk.spans().map((s) => s.name).sort()).toEqual(['GET /users/:id', 'db.query.find', 'db.relationship.load']);
  });
});

describe('the version guard', () => {
  it('accepts the installed objection and knex', () => {
    expect(unsupportedVersions({ objection: installedVersion('objection'), knex: installedVersion('knex') })).toBeUndefined();
  });

  it('an instrumentation facing an untested objection patches nothing and says why', () => {
    const errors: string[] = [];
    diag.setLogger({ error: (...args: unknown[]) => errors.push(args.map(String).join(' ')), warn: ignore, info: ignore, debug: ignore, verbose: ignore }, DiagLogLevel.ERROR);
    orm.disable();
    class FacingObjection4 extends ObjectionInstrumentation {
      protected override installedVersions() {
        return { objection: '4.0.0', knex: installedVersion('knex') };
      }
    }
    const refused = new FacingObjection4();
    try {
      expect(refused.isEnabled()).toBe(false);
      expect(targets()).toEqual(originals);
      expect(errors.join('\n')).toContain(`not patching Objection: objection 4.0.0 is outside the tested range ${SUPPORTED.objection}`);
    } finally {
      diag.disable();
    }
  });

  it('refuses versions outside the tested ranges, naming each', () => {
    expect(unsupportedVersions({ objection: '2.2.18', knex: '3.3.0' })).toBe(
      `objection 2.2.18 is outside the tested range ${SUPPORTED.objection}`,
    );
    expect(unsupportedVersions({ objection: '4.0.0', knex: undefined })).toBe(
      `objection 4.0.0 is outside the tested range ${SUPPORTED.objection}; knex (not found) is outside the tested range ${SUPPORTED.knex}`,
    );
  });
});
