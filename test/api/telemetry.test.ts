import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { closedPort } from '../support/ports.ts';
import { startTracedApi as startApi, type ManagedProcess, type TracedApi } from '../support/process.ts';
import { parsePrometheus } from '../support/prometheus.ts';

/**
 * The real process, started as in production (`node --import preload server.ts`), exporting
 * over OTLP/gRPC to a receiver in the test. Span trees are asserted on what arrived.
 */

let database: TestDatabase;
let receiver: OtlpReceiver;
const procs: ManagedProcess[] = [];

async function startTracedApi(env: Record<string, string> = {}, databaseUrl = database.url): Promise<TracedApi> {
  const traced = await startApi({
    databaseUrl,
    otlpEndpoint: receiver.endpoint,
    service: 'tracebridge-api-test',
    env: { DEPLOYMENT_ENVIRONMENT: 'test', K8S_POD_NAME: 'api-7f9c-abcde', K8S_NAMESPACE_NAME: 'observability', ...env },
  });
  procs.push(traced.api);
  return traced;
}

/** The spans of the trace whose SERVER span has this name, once all `count` of them arrived. */
async function traceOf(serverName: string, count: number, after = 0n): Promise<ReceivedSpan[]> {
  let found: ReceivedSpan[] = [];
  await receiver.waitForSpans((spans) => {
    const server = spans.find((s) => s.kind === 'server' && s.name === serverName && s.startTimeUnixNano > after);
    found = server ? spans.filter((s) => s.traceId === server.traceId) : [];
    return found.length >= count;
  });
  return found;
}

const dbName = () => new URL(database.url).pathname.slice(1);
const nowNanos = () => BigInt(Date.now()) * 1_000_000n;
const only = (spans: ReceivedSpan[], predicate: (s: ReceivedSpan) => boolean) => {
  const matching = spans.filter(predicate);
  expect(matching).toHaveLength(1);
  return matching[0]!;
};
const childrenOf = (spans: ReceivedSpan[], parent: ReceivedSpan) =>
  spans
    .filter((s) => s.parentSpanId === parent.spanId)
    .sort((a, b) => (a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1));

/** name [kind] lines indented by depth: the tree a person sees in Jaeger. */
function outline(spans: ReceivedSpan[]): string {
  const root = only(spans, (s) => s.kind === 'server');
  const lines: string[] = [];
  const walk = (span: ReceivedSpan, depth: number) => {
    lines.push(`${'  '.repeat(depth)}${span.name} [${span.kind}]`);
    for (const child of childrenOf(spans, span)) walk(child, depth + 1);
  };
  walk(root, 0);
  return lines.join('\n');
}

let traced: TracedApi;
let aliceId: number;

beforeAll(async () => {
  database = await createTestDatabase();
  const insertUser = async (row: object) =>
    (await database.db('users').insert(row).returning<{ id: number }[]>('id'))[0]!.id;
  aliceId = await insertUser({ name: 'Alice', email: 'alice@example.com', age: 30 });
  const bobId = await insertUser({ name: 'Bob', email: 'bob@example.com' });
  await database.db('posts').insert(
    [1, 2, 3, 4, 5, 6].map((n) => ({ title: `p${n}`, content: 'c', author_id: n % 2 === 0 ? aliceId : bobId })),
  );
  receiver = await startOtlpReceiver();
  traced = await startTracedApi();
});

afterAll(async () => {
  for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
  await receiver.close();
  await database.drop();
});

describe('span trees', () => {
  it('GET /users/:id: one SERVER span, the user query and the lazy posts load, each carrying its SQL', async () => {
    const since = nowNanos();
    expect((await fetch(`${traced.base}/users/${aliceId}`)).status).toBe(200);
    const spans = await traceOf('GET /users/:id', 3, since);
    expect(outline(spans)).toBe(['GET /users/:id [server]', '  db.query.find [internal]', '  db.relationship.load [internal]'].join('\n'));
    const server = only(spans, (s) => s.kind === 'server');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/users/:id',
      'http.response.status_code': 200,
    });
    expect(server.status.code).toBe('unset');
    expect(server.resource).toMatchObject({
      'service.name': 'tracebridge-api-test',
      'service.version': '0.1.0',
      'deployment.environment.name': 'test',
      'k8s.pod.name': 'api-7f9c-abcde',
      'k8s.namespace.name': 'observability',
      'service.instance.id': 'api-7f9c-abcde',
    });
    const [find, load] = childrenOf(spans, server);
    // Parameterized SQL only: the id is a placeholder, no db.query.parameter.* attributes.
    expect(find!.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.collection.name': 'users',
      'db.operation.name': 'find',
      'db.namespace': dbName(),
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(database.url).port),
      'db.query.text': 'select "users".* from "users" where "users"."id" = $1',
      'db.response.returned_rows': 1,
    });
    expect(load!.attributes).toMatchObject({
      'db.collection.name': 'posts',
      'db.relationship.name': 'posts',
      'db.relationship.strategy': 'lazy',
      'db.response.returned_rows': 3,
    });
    expect(load!.attributes['db.query.text']).toBe(
      'select "posts".* from "posts" where "posts"."author_id" in ($1) order by "id" asc',
    );
  });

  it('GET /posts (lazy): 1 + N statements, the SERVER span flags the N+1 with an event', async () => {
    const since = nowNanos();
    expect((await fetch(`${traced.base}/posts`)).status).toBe(200);
    // server + find + 6 loads
    const spans = await traceOf('GET /posts', 1 + 7, since);
    const server = only(spans, (s) => s.kind === 'server');
    const orm = childrenOf(spans, server);
    expect(orm.map((s) => s.name)).toEqual(['db.query.find', ...Array<string>(6).fill('db.relationship.load')]);
    expect(orm.slice(1).every((s) => s.attributes['db.relationship.strategy'] === 'lazy')).toBe(true);
    expect(server.attributes).toMatchObject({
      'tracebridge.n_plus_one.detected': true,
      'tracebridge.n_plus_one.count': 6,
      'tracebridge.n_plus_one.statement': 'select "users".* from "users" where "users"."id" in (?)',
    });
    expect(server.events.map((e) => e.name)).toEqual(['tracebridge.n_plus_one.detected']);
    expect(server.status.code).toBe('unset');
  });

  it('GET /posts?eager=true: two statements, the eager load nested in the query, no N+1 flag', async () => {
    const since = nowNanos();
    expect((await fetch(`${traced.base}/posts?eager=true`)).status).toBe(200);
    const spans = await traceOf('GET /posts', 3, since);
    const server = only(spans, (s) => s.kind === 'server');
    expect(outline(spans)).toBe(['GET /posts [server]', '  db.query.find [internal]', '    db.relationship.load [internal]'].join('\n'));
    const load = only(spans, (s) => s.name === 'db.relationship.load');
    expect(load.attributes).toMatchObject({ 'db.relationship.name': 'author', 'db.relationship.strategy': 'eager' });
    expect(server.attributes['tracebridge.n_plus_one.detected']).toBeUndefined();
  });

  it('GET /users/:id of a missing user: 404 is not a span error', async () => {
    const since = nowNanos();
    expect((await fetch(`${traced.base}/users/999999`)).status).toBe(404);
    const spans = await traceOf('GET /users/:id', 2, since);
    const server = only(spans, (s) => s.kind === 'server');
    expect(server.attributes['http.response.status_code']).toBe(404);
    expect(server.status.code).toBe('unset');
  });

  it('POST /users with initial posts: one transaction span, committed, with its statement count', async () => {
    const since = nowNanos();
    const response = await fetch(`${traced.base}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer s3cr3t-token', cookie: 'session=abc123' },
      body: JSON.stringify({ name: 'Carol', email: 'carol@example.com', posts: [{ title: 'a', content: 'b' }, { title: 'c', content: 'd' }] }),
    });
    expect(response.status).toBe(201);
    const spans = await traceOf('POST /users', 5, since);
    const business = only(spans, (s) => s.name === 'users.create_with_posts');
    expect(business.attributes['tracebridge.posts.count']).toBe(2);
    const session = only(spans, (s) => s.name === 'db.session.commit');
    expect(session.parentSpanId).toBe(business.spanId);
    expect(session.attributes['tracebridge.db.statement_count']).toBe(2);
    expect(childrenOf(spans, session).map((s) => s.name)).toEqual([
      'db.query.insert',
      'db.query.insert',
    ]);
    expect(session.status.code).toBe('unset');
  });

  it('POST /users duplicate with posts: 409, the transaction rolls back, the SERVER span is not an error', async () => {
    const since = nowNanos();
    const response = await fetch(`${traced.base}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'A2', email: 'ALICE@example.com', posts: [{ title: 'x', content: 'y' }] }),
    });
    expect(response.status).toBe(409);
    const spans = await traceOf('POST /users', 4, since);
    const server = only(spans, (s) => s.kind === 'server');
    expect(server.status.code).toBe('unset');
    expect(server.attributes['http.response.status_code']).toBe(409);
    const rollback = only(spans, (s) => s.name === 'db.session.rollback');
    expect(rollback.status.code).toBe('error');
    expect(rollback.attributes).toMatchObject({ 'error.type': '23505', 'tracebridge.db.statement_count': 1 });
    const insert = only(spans, (s) => s.name === 'db.query.insert');
    expect(insert.parentSpanId).toBe(rollback.spanId);
    expect(insert.attributes['error.type']).toBe('23505');
    expect(await database.db('users').where({ name: 'A2' }).first()).toBeUndefined();
  });

  it('a database failure: 503, the SERVER span is an error with error.type and the exception', async () => {
    const down = await startTracedApi({}, `postgresql://postgres:pw@127.0.0.1:${await closedPort()}/none`);
    const since = nowNanos();
    expect((await fetch(`${down.base}/users/1`)).status).toBe(503);
    const spans = await traceOf('GET /users/:id', 2, since);
    const server = only(spans, (s) => s.kind === 'server');
    expect(server.status.code).toBe('error');
    expect(server.attributes['http.response.status_code']).toBe(503);
    expect(server.attributes['error.type']).toBe('ECONNREFUSED');
    expect(server.events.find((e) => e.name === 'exception')?.attributes['exception.type']).toBe('ECONNREFUSED');
    const find = only(spans, (s) => s.name === 'db.query.find');
    expect(find.status.code).toBe('error');
    down.api.child.kill('SIGTERM');
  });
});

describe('logs and metrics', () => {
  it('the N+1 warning is logged once per route and statement, not once per request', async () => {
    const fresh = await startTracedApi();
    for (let i = 0; i < 3; i++) expect((await fetch(`${fresh.base}/posts`)).status).toBe(200);
    const warnings = fresh.api
      .stdout()
      .split('\n')
      .filter((l) => l.includes('N+1 queries'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 'warn', route: '/posts', statement: expect.stringContaining('from "users"') as unknown });
    expect(typeof warnings[0]!.trace_id).toBe('string');
    fresh.api.child.kill('SIGTERM');
  });

  it('request log lines carry the trace and span ids of the SERVER span', async () => {
    const since = nowNanos();
    await fetch(`${traced.base}/users/${aliceId}`);
    const spans = await traceOf('GET /users/:id', 3, since);
    const server = only(spans, (s) => s.kind === 'server');
    const line = traced.api
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === 'request' && l.trace_id === server.traceId);
    expect(line).toMatchObject({ route: '/users/:id', status: 200, span_id: server.spanId });
  });

  it('/metrics: HTTP duration by route, pool state, operation duration, N+1 counter, export health', async () => {
    await fetch(`${traced.base}/posts`);
    const samples = parsePrometheus(await (await fetch(traced.metrics)).text());
    const find = (name: string, labels: Record<string, string> = {}) =>
      samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    expect(find('http_server_request_duration_count', { http_route: '/users/:id' })[0]?.value).toBeGreaterThan(0);
    expect(find('tracebridge_db_n_plus_one_total', { http_route: '/posts' })[0]?.value).toBeGreaterThanOrEqual(1);
    expect(find('db_client_connection_limit')[0]?.value).toBe(10);
    expect(find('db_client_connection_count', { db_client_connection_state: 'used' })).toHaveLength(1);
    expect(find('db_client_operation_duration_count', { db_operation_name: 'SELECT', db_system_name: 'postgresql' })[0]?.value).toBeGreaterThan(0);
    expect(find('otel_sdk_processor_span_queue_size').length).toBeGreaterThan(0);
    expect(find('tracebridge_export_spans_total', { outcome: 'exported' })[0]?.value).toBeGreaterThan(0);
  });

  it('no span attribute or log line carries an email, a bound value, or a header secret', () => {
    const spans = JSON.stringify(receiver.spans, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    const logs = traced.api.stdout() + traced.api.stderr();
    for (const secret of ['@example.com', 's3cr3t-token', 'session=abc123', 'Carol', decodeURIComponent(new URL(database.url).password)]) {
      expect(spans).not.toContain(secret);
      expect(logs).not.toContain(secret);
    }
  });
});

describe('export resilience and shutdown', () => {
  it('OTEL_EXPORTER_OTLP_HEADERS reach the collector and never the logs', async () => {
    const since = nowNanos();
    const withAuth = await startTracedApi({ OTEL_EXPORTER_OTLP_HEADERS: 'authorization=Bearer%20collector-token-42,x-scope=team-a' });
    await fetch(`${withAuth.base}/users/${aliceId}`);
    await traceOf('GET /users/:id', 3, since);
    expect(receiver.headers.some((h) => h.authorization === 'Bearer collector-token-42' && h['x-scope'] === 'team-a')).toBe(true);
    withAuth.api.child.kill('SIGTERM');
    await withAuth.api.exited;
    expect(withAuth.api.stdout() + withAuth.api.stderr()).not.toContain('collector-token-42');
  });

  it('a collector unreachable from startup costs the clients nothing: every request answers at once', async () => {
    const orphan = await startTracedApi({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${await closedPort()}` });
    const statuses: number[] = [];
    let slowest = 0;
    for (let i = 0; i < 30; i++) {
      const start = performance.now();
      statuses.push((await fetch(`${orphan.base}/users/${aliceId}`)).status);
      slowest = Math.max(slowest, performance.now() - start);
    }
    expect(statuses.every((s) => s === 200)).toBe(true);
    // A guard against blocking on the exporter (seconds), not a benchmark.
    expect(slowest).toBeLessThan(1000);
    orphan.api.child.kill('SIGTERM');
    expect(await orphan.api.exited).toBe(0);
  });

  it('a receiver that is down and comes back loses no span', async () => {
    await receiver.stop();
    const since = nowNanos();
    for (let i = 0; i < 5; i++) expect((await fetch(`${traced.base}/users/${aliceId}`)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1500));
    await receiver.start();
    await receiver.waitForSpans(
      (spans) => spans.filter((s) => s.name === 'GET /users/:id' && s.startTimeUnixNano > since).length === 5,
      20_000,
    );
    const traces = new Set(receiver.spans.filter((s) => s.startTimeUnixNano > since).map((s) => s.traceId));
    expect(traces.size).toBe(5);
    expect(receiver.spans.filter((s) => s.startTimeUnixNano > since)).toHaveLength(15);
  });

  it('SIGTERM right after a request: its spans are flushed before exit', async () => {
    const short = await startTracedApi({ OTEL_BSP_SCHEDULE_DELAY: '60000' });
    const since = nowNanos();
    expect((await fetch(`${short.base}/users/${aliceId}`)).status).toBe(200);
    short.api.child.kill('SIGTERM');
    expect(await short.api.exited).toBe(0);
    const spans = await traceOf('GET /users/:id', 3, since);
    expect(spans).toHaveLength(3);
  });
});

describe('TLS to the collector', () => {
  it('OTEL_EXPORTER_OTLP_CERTIFICATE: trusted → spans arrive over TLS; untrusted → nothing, requests unaffected', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracebridge-tls-'));
    try {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ], { stdio: 'ignore' });
      const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
      const secure = await startOtlpReceiver({ tls });
      try {
        const trusted = await startTracedApi({
          OTEL_EXPORTER_OTLP_ENDPOINT: secure.endpoint,
          OTEL_EXPORTER_OTLP_CERTIFICATE: join(dir, 'cert.pem'),
          K8S_POD_NAME: 'tls-trusted',
        });
        const untrusted = await startTracedApi({ OTEL_EXPORTER_OTLP_ENDPOINT: secure.endpoint, K8S_POD_NAME: 'tls-untrusted' });
        for (const api of [trusted, untrusted]) expect((await fetch(`${api.base}/users/${aliceId}`)).status).toBe(200);
        await secure.waitForSpans((spans) => spans.filter((s) => s.resource['k8s.pod.name'] === 'tls-trusted').length === 3);
        await new Promise((r) => setTimeout(r, 1000));
        expect(secure.spans.filter((s) => s.resource['k8s.pod.name'] === 'tls-untrusted')).toEqual([]);
        for (const api of [trusted, untrusted]) api.api.child.kill('SIGTERM');
      } finally {
        await secure.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('switches', () => {
  it('TRACEBRIDGE_ORM_TRACING=false: instrumentation-pg driver spans directly under the SERVER span instead', async () => {
    const plain = await startTracedApi({ TRACEBRIDGE_ORM_TRACING: 'false' });
    const since = nowNanos();
    await fetch(`${plain.base}/users/${aliceId}`);
    const spans = await traceOf('GET /users/:id', 3, since);
    expect(outline(spans)).toBe(
      ['GET /users/:id [server]', `  pg.query:SELECT ${dbName()} [client]`, `  pg.query:SELECT ${dbName()} [client]`].join('\n'),
    );
    plain.api.child.kill('SIGTERM');
  });

  it('OTEL_NODE_DISABLED_INSTRUMENTATIONS=pg: the ORM spans stay, with their SQL and no driver span under them', async () => {
    const noPg = await startTracedApi({ OTEL_NODE_DISABLED_INSTRUMENTATIONS: 'pg' });
    const since = nowNanos();
    await fetch(`${noPg.base}/users/${aliceId}`);
    const spans = await traceOf('GET /users/:id', 3, since);
    expect(outline(spans)).toBe(['GET /users/:id [server]', '  db.query.find [internal]', '  db.relationship.load [internal]'].join('\n'));
    noPg.api.child.kill('SIGTERM');
  });

  it('parent-based ratio sampling: ratio 0 drops new traces, a sampled traceparent is honoured', async () => {
    const sampled = await startTracedApi({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
      K8S_POD_NAME: 'sampled-pod',
    });
    for (let i = 0; i < 5; i++) await fetch(`${sampled.base}/users/${aliceId}`);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await fetch(`${sampled.base}/posts/1`, { headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` } });
    const spans = await receiver.waitForSpans((all) => all.some((s) => s.traceId === traceId && s.kind === 'server'));
    const server = only(spans, (s) => s.traceId === traceId && s.kind === 'server');
    expect(server.parentSpanId).toBe('00f067aa0ba902b7');
    // Unsampled requests record no ORM spans, but their N+1 queries are still counted (metrics are not sampled).
    await fetch(`${sampled.base}/posts`);
    await fetch(`${sampled.base}/posts`);
    // Longer than the batch delay the test API exports with: a stray span would have arrived.
    await new Promise((r) => setTimeout(r, 500));
    const fromThisProcess = receiver.spans.filter((s) => s.resource['service.instance.id'] === 'sampled-pod');
    expect(new Set(fromThisProcess.map((s) => s.traceId))).toEqual(new Set([traceId]));
    const nPlusOne = parsePrometheus(await (await fetch(sampled.metrics)).text()).filter(
      (m) => m.name === 'tracebridge_db_n_plus_one_total' && m.labels.http_route === '/posts',
    );
    expect(nPlusOne[0]?.value).toBe(2);
    sampled.api.child.kill('SIGTERM');
  });

  it('OTEL_SDK_DISABLED=true: no spans, no metrics endpoint, GET / says tracing is off', async () => {
    const off = await startTracedApi({ OTEL_SDK_DISABLED: 'true' });
    expect(await (await fetch(`${off.base}/`)).json()).toMatchObject({ tracing: false });
    await expect(fetch(off.metrics)).rejects.toThrow();
    expect(await (await fetch(`${traced.base}/`)).json()).toMatchObject({ tracing: true });
    off.api.child.kill('SIGTERM');
  });
});
