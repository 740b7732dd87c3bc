import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jaegerTraces, startCollector, startJaeger, type Collector, type Jaeger, type JaegerSpan } from '../support/backends.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTracedApi, type ManagedProcess } from '../support/process.ts';

/**
 * The whole path with real parts: API (with the preload) → the real collector running the
 * shipped pipeline (collector/config) → real Jaeger v2; the trees are read back from Jaeger's
 * query API, as the UI shows them.
 */

const SERVICE = 'tracebridge-e2e';
let database: TestDatabase;
let jaeger: Jaeger;
let collector: Collector;
let api: ManagedProcess;
let base: string;
let aliceId: number;

beforeAll(async () => {
  database = await createTestDatabase();
  aliceId = (await database.db('users').insert({ name: 'Alice', email: 'alice@example.com' }).returning<{ id: number }[]>('id'))[0]!.id;
  await database.db('posts').insert([1, 2, 3, 4, 5, 6].map((n) => ({ title: `p${n}`, content: 'c', author_id: aliceId })));
  jaeger = await startJaeger();
  collector = await startCollector(['jaeger'], { JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint });
  ({ api, base } = await startTracedApi({ databaseUrl: database.url, otlpEndpoint: collector.otlpGrpcEndpoint, service: SERVICE }));
});

afterAll(async () => {
  await api.stop();
  await collector.stop();
  await jaeger.stop();
  await database.drop();
});

/** Polls Jaeger until a trace of this operation with `spans` spans is there. */
async function traceInJaeger(operation: string, spans: number, timeoutMs = 20_000): Promise<JaegerSpan[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const traces = await jaegerTraces(jaeger.queryUrl, SERVICE, operation);
    const complete = traces.find((t) => t.length >= spans);
    if (complete) return complete;
    if (Date.now() > deadline) throw new Error(`no complete "${operation}" trace in Jaeger; got sizes ${traces.map((t) => t.length).join(',')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const tag = (span: JaegerSpan, key: string) => span.tags.find((t) => t.key === key)?.value;
const parentOf = (span: JaegerSpan) => span.references.find((r) => r.refType === 'CHILD_OF')?.spanID;

function outline(spans: JaegerSpan[]): string {
  const root = spans.find((s) => parentOf(s) === undefined)!;
  const lines: string[] = [];
  const walk = (span: JaegerSpan, depth: number) => {
    lines.push(`${'  '.repeat(depth)}${span.operationName}`);
    spans
      .filter((s) => parentOf(s) === span.spanID)
      .sort((a, b) => a.startTime - b.startTime)
      .forEach((c) => walk(c, depth + 1));
  };
  walk(root, 0);
  return lines.join('\n');
}

describe('API → collector → Jaeger', () => {
  it("GET /users/:id arrives in Jaeger as the seed's tree, HTTP → ORM, with the SQL on each ORM span", async () => {
    expect((await fetch(`${base}/users/${aliceId}`)).status).toBe(200);
    const spans = await traceInJaeger('GET /users/:id', 3);
    expect(outline(spans)).toBe(['GET /users/:id', '  db.query.find', '  db.relationship.load'].join('\n'));
    const find = spans.find((s) => s.operationName === 'db.query.find')!;
    expect(tag(find, 'db.query.text')).toBe('select "users".* from "users" where "users"."id" = $1');
    const load = spans.find((s) => s.operationName === 'db.relationship.load')!;
    expect(tag(load, 'db.query.text')).toBe('select "posts".* from "posts" where "posts"."author_id" in ($1) order by "id" asc');
    expect(tag(load, 'db.relationship.strategy')).toBe('lazy');
    expect(tag(load, 'db.response.returned_rows')).toBe(6);
    const server = spans.find((s) => s.operationName === 'GET /users/:id')!;
    expect(tag(server, 'http.route')).toBe('/users/:id');
    expect(tag(server, 'span.kind')).toBe('server');
  });

  it('lazy GET /posts arrives flagged as N+1; the eager variant with two statements and no flag', async () => {
    expect((await fetch(`${base}/posts`)).status).toBe(200);
    const lazy = await traceInJaeger('GET /posts', 8);
    const server = lazy.find((s) => s.operationName === 'GET /posts')!;
    expect(tag(server, 'tracebridge.n_plus_one.detected')).toBe(true);
    expect(tag(server, 'tracebridge.n_plus_one.count')).toBe(6);

    expect((await fetch(`${base}/posts?eager=true`)).status).toBe(200);
    const deadline = Date.now() + 20_000;
    let eager: JaegerSpan[] | undefined;
    while (!eager && Date.now() < deadline) {
      eager = (await jaegerTraces(jaeger.queryUrl, SERVICE, 'GET /posts')).find((t) => t.length === 3);
      if (!eager) await new Promise((r) => setTimeout(r, 250));
    }
    expect(eager).toBeDefined();
    expect(eager!.filter((s) => typeof tag(s, 'db.query.text') === 'string')).toHaveLength(2);
    expect(tag(eager!.find((s) => s.operationName === 'GET /posts')!, 'tracebridge.n_plus_one.detected')).toBeUndefined();
  });

  it('the pipeline redacts what an instrumented app lets slip: emails masked, secret-named attributes removed', async () => {
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'leaky-app' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: collector.otlpGrpcEndpoint }) })],
    });
    const span = provider.getTracer('test').startSpan('checkout', {
      attributes: {
        'user.contact': 'mail eve@example.com now',
        'http.request.header.authorization': 'Bearer abc',
        'db.password': 'hunter2',
        'order.items': 3,
      },
    });
    span.end();
    await provider.shutdown();
    let spans: JaegerSpan[] = [];
    const deadline = Date.now() + 20_000;
    while (spans.length === 0 && Date.now() < deadline) {
      spans = (await jaegerTraces(jaeger.queryUrl, 'leaky-app')).flat();
      if (spans.length === 0) await new Promise((r) => setTimeout(r, 250));
    }
    expect(spans).toHaveLength(1);
    expect(tag(spans[0]!, 'user.contact')).toBe('mail [email] now');
    expect(tag(spans[0]!, 'order.items')).toBe(3);
    expect(tag(spans[0]!, 'http.request.header.authorization')).toBeUndefined();
    expect(tag(spans[0]!, 'db.password')).toBeUndefined();
    expect(JSON.stringify(spans)).not.toMatch(/eve@example\.com|Bearer abc|hunter2/);
  });
});
