import * as grpc from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { describe, expect, it, vi } from 'vitest';
import { finishedSpans } from '../support/finished-spans.ts';
import { otlpReceiverPerTest } from '../support/otlp-receiver-per-test.ts';
import { byTrace, spanTree, type ReceivedSpan } from '../support/otlp-receiver.ts';

type ExporterOptions = NonNullable<ConstructorParameters<typeof OTLPTraceExporter>[0]>;

const each = otlpReceiverPerTest();

function exporterFor(options: Omit<ExporterOptions, 'url'> = {}): OTLPTraceExporter {
  // A short timeout keeps failure paths fast; the default is 10 s.
  const exporter = new OTLPTraceExporter({ url: each.receiver.endpoint, timeoutMillis: 2_000, ...options });
  each.cleanups.push(() => exporter.shutdown());
  return exporter;
}

function exportOnce(exporter: OTLPTraceExporter, spans: ReadableSpan[]): Promise<ExportResult> {
  return new Promise((resolve) => exporter.export(spans, resolve));
}

describe('startOtlpReceiver', () => {
  it('decodes what the real OTLP/gRPC exporter sends: ids, tree, kinds, attributes, status, events, resource, scope', async () => {
    const exporter = exporterFor();
    const provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'tracebridge-test', 'deployment.environment.name': 'unit' }),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    each.cleanups.push(() => provider.shutdown());
    const tracer = provider.getTracer('otlp-receiver-test', '1.2.3');

    const parent = tracer.startSpan('GET /users/:id', { kind: SpanKind.SERVER });
    const child = tracer.startSpan(
      'SELECT users',
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'db.system.name': 'postgresql',
          'db.response.returned_rows': 42,
          'app.ratio': 1.5,
          'app.cached': false,
          'app.tags': ['a', 'b'],
        },
      },
      trace.setSpan(context.active(), parent),
    );
    child.addEvent('retry', { 'retry.attempt': 2, 'retry.reason': 'timeout' });
    child.setStatus({ code: SpanStatusCode.ERROR, message: 'connection refused' });
    child.end();
    parent.setStatus({ code: SpanStatusCode.OK });
    parent.end();
    await provider.forceFlush();

    const spans = await each.receiver.waitForSpans((received) => received.length === 2);
    const byName = new Map(spans.map((span) => [span.name, span]));
    const server = byName.get('GET /users/:id')!;
    const client = byName.get('SELECT users')!;

    expect(server.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(server.spanId).toMatch(/^[0-9a-f]{16}$/);
    expect(server.traceId).toBe(parent.spanContext().traceId);
    expect(server.spanId).toBe(parent.spanContext().spanId);
    expect(server.parentSpanId).toBeUndefined();
    expect(client.traceId).toBe(server.traceId);
    expect(client.spanId).toBe(child.spanContext().spanId);
    expect(client.parentSpanId).toBe(server.spanId);

    expect(server.kind).toBe('server');
    expect(client.kind).toBe('client');
    expect(client.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.response.returned_rows': 42,
      'app.ratio': 1.5,
      'app.cached': false,
      'app.tags': ['a', 'b'],
    });
    expect(client.status).toEqual({ code: 'error', message: 'connection refused' });
    expect(server.status).toEqual({ code: 'ok' });
    expect(client.events).toEqual([{ name: 'retry', attributes: { 'retry.attempt': 2, 'retry.reason': 'timeout' } }]);
    expect(client.resource).toMatchObject({ 'service.name': 'tracebridge-test', 'deployment.environment.name': 'unit' });
    expect(client.scope).toEqual({ name: 'otlp-receiver-test', version: '1.2.3' });

    expect(typeof client.startTimeUnixNano).toBe('bigint');
    expect(client.startTimeUnixNano).toBeGreaterThan(1_600_000_000_000_000_000n);
    expect(client.endTimeUnixNano).toBeGreaterThanOrEqual(client.startTimeUnixNano);
    expect(client.startTimeUnixNano).toBeGreaterThanOrEqual(server.startTimeUnixNano);

    expect(spanTree(spans)).toBe('GET /users/:id [server]\n  SELECT users [client]');
    expect([...byTrace(spans).keys()]).toEqual([server.traceId]);
    // SimpleSpanProcessor exports each span on its own call.
    expect(each.receiver.requests).toBe(2);
  });

  it('accepts gzip-compressed requests (grpc-encoding: gzip)', async () => {
    // Through the environment, as a deployment configures it (the option wants a transitive enum).
    vi.stubEnv('OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', 'gzip');
    let exporter: OTLPTraceExporter;
    try {
      exporter = exporterFor();
    } finally {
      vi.unstubAllEnvs();
    }
    const result = await exportOnce(exporter, await finishedSpans('receiver-test', 'compressed'));
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(each.receiver.spans.map((span) => span.name)).toEqual(['compressed']);
    expect(each.receiver.spans[0]!.resource['service.name']).toBe('receiver-test');
  });

  it('records the request metadata, so auth headers can be asserted', async () => {
    const metadata = new grpc.Metadata();
    metadata.set('authorization', 'Bearer x');
    const exporter = exporterFor({ metadata });
    expect((await exportOnce(exporter, await finishedSpans('receiver-test', 'authorized'))).code).toBe(ExportResultCode.SUCCESS);
    expect(each.receiver.headers).toHaveLength(1);
    expect(each.receiver.headers[0]).toMatchObject({ authorization: 'Bearer x' });
    expect(each.receiver.headers[0]!['user-agent']).toContain('OTel-OTLP-Exporter-JavaScript');
  });

  it('refuses exports while stopped and receives again after a restart on the same port', async () => {
    const exporter = exporterFor();
    const port = each.receiver.port;
    expect((await exportOnce(exporter, await finishedSpans('receiver-test', 'before'))).code).toBe(ExportResultCode.SUCCESS);

    await each.receiver.stop();
    const whileDown = await exportOnce(exporter, await finishedSpans('receiver-test', 'while-down'));
    expect(whileDown.code).toBe(ExportResultCode.FAILED);
    expect(whileDown.error).toMatchObject({ code: grpc.status.UNAVAILABLE });

    await each.receiver.start();
    expect(each.receiver.port).toBe(port);
    expect(each.receiver.endpoint).toBe(`http://127.0.0.1:${port}`);
    // The same exporter (as in the API process) must recover once its channel reconnects;
    // grpc-js fails fast while its reconnect backoff (about 1 s) runs, so retry until it lands.
    const after = await finishedSpans('receiver-test', 'after');
    const deadline = Date.now() + 4_000;
    let result = await exportOnce(exporter, after);
    while (result.code !== ExportResultCode.SUCCESS && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      result = await exportOnce(exporter, after);
    }
    expect(result.code).toBe(ExportResultCode.SUCCESS);
    expect(each.receiver.spans.map((span) => span.name)).toEqual(['before', 'after']);
  });

  it('failNext makes the next Export calls fail with the given status, recording nothing', async () => {
    const exporter = exporterFor();
    each.receiver.failNext(1, grpc.status.UNAVAILABLE);

    const failed = await exportOnce(exporter, await finishedSpans('receiver-test', 'dropped'));
    expect(failed.code).toBe(ExportResultCode.FAILED);
    expect(failed.error).toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(each.receiver.requests).toBe(0);
    expect(each.receiver.spans).toEqual([]);
    expect(each.receiver.headers).toEqual([]);

    expect((await exportOnce(exporter, await finishedSpans('receiver-test', 'delivered'))).code).toBe(ExportResultCode.SUCCESS);
    expect(each.receiver.requests).toBe(1);
    expect(each.receiver.spans.map((span) => span.name)).toEqual(['delivered']);
  });

  it('waitForSpans rejects with the spans received so far', async () => {
    const exporter = exporterFor();
    await exportOnce(exporter, await finishedSpans('receiver-test', 'only-this'));
    await expect(each.receiver.waitForSpans((spans) => spans.length > 1, 100)).rejects.toThrow(
      /within 100 ms; 1 span\(s\) in 1 request\(s\):\nonly-this \[server\]/,
    );
  });
});

describe('spanTree', () => {
  const span = (spanId: string, parentSpanId: string | undefined, name: string, kind: ReceivedSpan['kind'], start: bigint): ReceivedSpan => ({
    traceId: `${'0'.repeat(31)}1`,
    spanId,
    parentSpanId,
    name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: 100n,
    attributes: {},
    status: { code: 'unset' },
    events: [],
    resource: {},
    scope: { name: 't' },
  });
  // Arrival order deliberately differs from start order.
  const spans = [
    span('0000000000000004', '0000000000000001', 'second', 'internal', 30n),
    span('0000000000000002', '0000000000000001', 'first', 'internal', 20n),
    span('0000000000000001', undefined, 'root', 'server', 10n),
    span('0000000000000003', '0000000000000002', 'leaf', 'client', 25n),
    span('0000000000000005', '00000000000000aa', 'lost', 'internal', 40n),
  ];

  it('nests by parent, orders siblings by start time, and flags orphans', () => {
    expect(spanTree(spans)).toBe(
      [
        'root [server]',
        '  first [internal]',
        '    leaf [client]',
        '  second [internal]',
        'lost [internal] (parent 00000000000000aa not received)',
      ].join('\n'),
    );
  });

  it('prints only the subtrees under rootName', () => {
    expect(spanTree(spans, 'first')).toBe('first [internal]\n  leaf [client]');
  });
});
