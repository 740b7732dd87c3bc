import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { SamplingDecision } from '@opentelemetry/sdk-trace';
import { Hono } from 'hono';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { HttpServerInstrumentation, recordServerError } from '../../api/src/telemetry/http-server/instrumentation.ts';
import type { NodeBindings } from '../../api/src/telemetry/http-server/types.ts';
import { inProcessTracing } from '../support/in-process-tracing.ts';

const sdk = inProcessTracing();
const instrumentation = new HttpServerInstrumentation({ ignoreRoutes: ['/healthz'] });
instrumentation.setTracerProvider(sdk.tracerProvider);
instrumentation.setMeterProvider(sdk.meterProvider);

class Boom extends Error {}

const app = new Hono();
app.use(instrumentation.middleware());
app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }));
app.get('/healthz', (c) => c.text('ok'));
app.get('/boom', () => {
  throw new Boom('database password is hunter2');
});
app.notFound((c) => c.json({ error: 'not found' }, 404));
app.onError((error, c) => {
  recordServerError(error);
  return c.json({ error: 'internal' }, 500);
});

/**
 * What @hono/node-server passes as env: Node's request. Its headers are a proxy that records
 * which ones were read, to show what an unsampled request does not touch.
 */
function nodeRequest(headers: Record<string, string>, socket: NodeBindings['incoming']['socket'] = { remoteAddress: '192.0.2.7' }) {
  const read: string[] = [];
  const proxy = new Proxy(headers, {
    get: (target, key) => {
      if (typeof key === 'string') read.push(key);
      return target[key as string];
    },
  });
  const env: NodeBindings = { incoming: { headers: proxy, httpVersion: '1.1', socket } };
  return { env, read };
}

const get = (path: string, headers: Record<string, string> = {}, socket?: NodeBindings['incoming']['socket']) => {
  const node = nodeRequest({ host: 'api.example.com:8000', 'user-agent': 'curl/8', ...headers }, socket);
  return { response: app.request(path, { headers }, node.env), read: node.read };
};

beforeEach(() => {
  sdk.reset();
  instrumentation.enable();
});

afterAll(() => sdk.shutdown());

describe('HttpServerInstrumentation', () => {
  it('a sampled request: one SERVER span named by method and route, with the stable HTTP attributes', async () => {
    expect((await get('/users/42?token=secret').response).status).toBe(200);
    const [span, ...others] = sdk.spans();
    expect(others).toEqual([]);
    expect(span!.name).toBe('GET /users/:id');
    expect(span!.kind).toBe(SpanKind.SERVER);
    expect(span!.attributes).toEqual({
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'url.path': '/users/42',
      'http.route': '/users/:id',
      'server.address': 'api.example.com',
      'server.port': 8000,
      'client.address': '192.0.2.7',
      'user_agent.original': 'curl/8',
      'network.protocol.version': '1.1',
      'http.response.status_code': 200,
    });
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('decides sampling before any attribute work: the sampler gets no attributes, and an unsampled request reads no header but the trace context', async () => {
    sdk.sampler.decision = SamplingDecision.NOT_RECORD;
    const { response, read } = get('/users/7', { 'x-forwarded-for': '198.51.100.1' });
    expect((await response).status).toBe(200);
    expect(sdk.spans()).toEqual([]);
    expect(sdk.sampler.calls).toEqual([{ name: 'GET /users/:id', attributes: {} }]);
    expect(read.filter((h) => !['traceparent', 'tracestate'].includes(h))).toEqual([]);
    // Metrics are not sampled: the request still counts.
    expect(await sdk.histogram('http.server.request.duration')).toContainEqual(
      expect.objectContaining({ attributes: expect.objectContaining({ 'http.route': '/users/:id' }) as unknown }),
    );
  });

  it('continues the trace of an incoming traceparent', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    await get('/users/1', { traceparent: `00-${traceId}-00f067aa0ba902b7-01` }).response;
    const [span] = sdk.spans();
    expect(span!.spanContext().traceId).toBe(traceId);
    expect(span!.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
  });

  it('a handler exception answered with 500: ERROR status, error.type and an exception event carrying the type only', async () => {
    expect((await get('/boom').response).status).toBe(500);
    const [span] = sdk.spans();
    expect(span!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'Boom' });
    expect(span!.attributes['error.type']).toBe('Boom');
    expect(span!.events.map((e) => [e.name, e.attributes?.['exception.type'], e.attributes?.['exception.message']])).toEqual([
      ['exception', 'Boom', 'Boom'],
    ]);
    expect(JSON.stringify(span!.events)).not.toContain('hunter2');
  });

  it('a client that went away before the answer: an ERROR span with error.type "aborted"', async () => {
    await get('/users/3', {}, { remoteAddress: '192.0.2.7', destroyed: true }).response;
    const [span] = sdk.spans();
    expect(span!.attributes['error.type']).toBe('aborted');
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
  });

  it('no matching route: named by the method alone, without http.route; a 404 is not an error', async () => {
    expect((await get('/nowhere/at/all').response).status).toBe(404);
    const [span] = sdk.spans();
    expect(span!.name).toBe('GET');
    expect(span!.attributes['http.route']).toBeUndefined();
    expect(span!.attributes['http.response.status_code']).toBe(404);
    expect(span!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('records http.server.request.duration once per request with the semconv attributes; ignored routes get nothing', async () => {
    const before = await sdk.histogram('http.server.request.duration');
    const countOf = (points: typeof before, route: string, status: number) =>
      points.find((p) => p.attributes['http.route'] === route && p.attributes['http.response.status_code'] === status)?.count ?? 0;
    await get('/users/5').response;
    await get('/users/6').response;
    await get('/boom').response;
    await get('/healthz').response;
    const after = await sdk.histogram('http.server.request.duration');
    expect(countOf(after, '/users/:id', 200) - countOf(before, '/users/:id', 200)).toBe(2);
    expect(after.find((p) => p.attributes['http.route'] === '/boom')?.attributes).toEqual({
      'http.request.method': 'GET',
      'url.scheme': 'http',
      'http.route': '/boom',
      'http.response.status_code': 500,
      'error.type': 'Boom',
      'network.protocol.version': '1.1',
    });
    expect(after.some((p) => p.attributes['http.route'] === '/healthz')).toBe(false);
    expect(sdk.spans().map((s) => s.name)).toEqual(['GET /users/:id', 'GET /users/:id', 'GET /boom']);
  });

  it('disable() turns the middleware into a pass-through; enable() brings the spans back', async () => {
    instrumentation.disable();
    expect((await get('/users/8').response).status).toBe(200);
    expect(sdk.spans()).toEqual([]);
    expect(sdk.sampler.calls).toEqual([]);
    instrumentation.enable();
    await get('/users/8').response;
    expect(sdk.spans().map((s) => s.name)).toEqual(['GET /users/:id']);
  });

  it('without Node bindings (app.request in tests, other runtimes) it reads the web Request instead', async () => {
    await app.request('http://api.example.com/users/9', { headers: { 'user-agent': 'vitest' } });
    const [span] = sdk.spans();
    expect(span!.attributes).toMatchObject({ 'url.scheme': 'http', 'server.address': 'api.example.com', 'user_agent.original': 'vitest' });
  });
});
