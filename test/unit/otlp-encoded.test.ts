import * as grpc from '@grpc/grpc-js';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { describe, expect, it } from 'vitest';
import { RetryingSpanExporter, type BatchExporter } from '../../api/src/telemetry/exporter.ts';
import { concatEncoded, createEncodedOtlpGrpcTraceExporter, encodedSpansCodec, encodeSpans } from '../../api/src/telemetry/otlp-encoded.ts';
import { finishedSpans } from '../support/finished-spans.ts';
import { otlpReceiverPerTest } from '../support/otlp-receiver-per-test.ts';

const each = otlpReceiverPerTest();

function exporter(): BatchExporter<Uint8Array> {
  const e = createEncodedOtlpGrpcTraceExporter({ url: each.receiver.endpoint, timeoutMillis: 2_000 });
  each.cleanups.push(() => e.shutdown());
  return e;
}

const send = (e: BatchExporter<Uint8Array>, batch: Uint8Array) =>
  new Promise<ExportResult>((resolve) => e.export(batch, resolve));

describe('spans held protobuf-encoded', () => {
  it('concatenated requests arrive as one request carrying every span under its own resource', async () => {
    const a = encodeSpans(await finishedSpans('service-a', 'one', 'two'));
    const b = encodeSpans(await finishedSpans('service-b', 'three'));
    const merged = concatEncoded([a, b]);
    expect(merged.length).toBe(a.length + b.length);

    expect((await send(exporter(), merged)).code).toBe(ExportResultCode.SUCCESS);
    expect(each.receiver.requests).toBe(1);
    const received = each.receiver.spans.map((s) => [s.name, s.resource['service.name'], s.attributes['http.route']]);
    expect(received.sort()).toEqual([
      ['one', 'service-a', '/one'],
      ['three', 'service-b', '/three'],
      ['two', 'service-a', '/two'],
    ]);
  });

  it('an encoded span with two attributes takes about 140 bytes (ids, times, name, kind, attributes)', async () => {
    const spans = await finishedSpans('tracebridge-api', ...Array.from({ length: 100 }, (_, i) => `span-${i}`));
    const perSpan = encodeSpans(spans).length / spans.length;
    // The resource and scope are written once per request, not per span.
    expect(perSpan).toBeGreaterThan(100);
    expect(perSpan).toBeLessThan(200);
  });

  it('the retrying buffer delivers encoded batches after the receiver fails, merged, and counts them', async () => {
    const retrying = new RetryingSpanExporter(exporter(), { initialBackoffMs: 5, maxBackoffMs: 20 }, encodedSpansCodec);
    each.cleanups.push(() => retrying.shutdown());
    // What a collector that is shutting down answers; the transport does not retry, the buffer does.
    each.receiver.failNext(2, grpc.status.UNAVAILABLE);
    for (const name of ['a', 'b', 'c']) {
      const spans = await finishedSpans('svc', name);
      await new Promise<void>((resolve) => retrying.export(spans, () => resolve()));
    }
    await retrying.forceFlush();
    expect(retrying.stats()).toMatchObject({ exported: 3, dropped: 0, buffered: 0, failures: 2 });
    expect(each.receiver.spans.map((s) => s.name).sort()).toEqual(['a', 'b', 'c']);
    // The batches waiting behind the failures went out together.
    expect(each.receiver.requests).toBeLessThan(3);
  });
});
