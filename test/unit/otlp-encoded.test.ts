import * as grpc from '@grpc/grpc-js';
import { SpanKind } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encodedSpansCodec, RetryingSpanExporter } from '../../api/src/telemetry/exporter.ts';
import { concatEncoded, createEncodedOtlpGrpcTraceExporter, encodeSpans, type BatchExporter, type EncodedSpans } from '../../api/src/telemetry/otlp-encoded.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';

let receiver: OtlpReceiver;
const cleanups: Array<() => Promise<void>> = [];

beforeEach(async () => {
  receiver = await startOtlpReceiver();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await receiver.close();
});

async function recordSpans(service: string, ...names: string[]): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': service }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: memory })],
  });
  const tracer = provider.getTracer('encoded-test');
  for (const name of names) {
    tracer.startSpan(name, { kind: SpanKind.SERVER, attributes: { 'http.route': `/${name}`, 'http.response.status_code': 200 } }).end();
  }
  await provider.forceFlush();
  return memory.getFinishedSpans();
}

function exporter(): BatchExporter<EncodedSpans> {
  const e = createEncodedOtlpGrpcTraceExporter({ url: receiver.endpoint, timeoutMillis: 2_000 });
  cleanups.push(() => e.shutdown());
  return e;
}

const send = (e: BatchExporter<EncodedSpans>, batch: EncodedSpans) =>
  new Promise<ExportResult>((resolve) => e.export(batch, resolve));

describe('spans held protobuf-encoded', () => {
  it('concatenated requests arrive as one request carrying every span under its own resource', async () => {
    const a = encodeSpans(await recordSpans('service-a', 'one', 'two'));
    const b = encodeSpans(await recordSpans('service-b', 'three'));
    const merged = concatEncoded([a, b]);
    expect(merged.count).toBe(3);
    expect(merged.bytes.length).toBe(a.bytes.length + b.bytes.length);

    expect((await send(exporter(), merged)).code).toBe(ExportResultCode.SUCCESS);
    expect(receiver.requests).toBe(1);
    const received = receiver.spans.map((s) => [s.name, s.resource['service.name'], s.attributes['http.route']]);
    expect(received.sort()).toEqual([
      ['one', 'service-a', '/one'],
      ['three', 'service-b', '/three'],
      ['two', 'service-a', '/two'],
    ]);
  });

  it('an encoded span is a fraction of the size of the SDK object it replaces', async () => {
    const spans = await recordSpans('tracebridge-api', ...Array.from({ length: 100 }, (_, i) => `span-${i}`));
    const perSpan = encodeSpans(spans).bytes.length / spans.length;
    // The OTLP encoding of a span with two attributes: ids, times, name, kind, attributes, scope.
    expect(perSpan).toBeGreaterThan(50);
    expect(perSpan).toBeLessThan(400);
  });

  it('the retrying buffer delivers encoded batches after the receiver fails, merged, and counts them', async () => {
    const retrying = new RetryingSpanExporter(exporter(), { initialBackoffMs: 5, maxBackoffMs: 20 }, encodedSpansCodec);
    cleanups.push(() => retrying.shutdown());
    // Not UNAVAILABLE: the OTLP transport retries that itself; this failure reaches the buffer.
    receiver.failNext(2, grpc.status.PERMISSION_DENIED);
    for (const name of ['a', 'b', 'c']) {
      const spans = await recordSpans('svc', name);
      await new Promise<void>((resolve) => retrying.export(spans, () => resolve()));
    }
    await retrying.forceFlush();
    expect(retrying.stats()).toMatchObject({ exported: 3, dropped: 0, buffered: 0, failures: 2 });
    expect(receiver.spans.map((s) => s.name).sort()).toEqual(['a', 'b', 'c']);
    // The batches waiting behind the failures went out together.
    expect(receiver.requests).toBeLessThan(3);
  });
});
