import { diag, DiagLogLevel } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { DataPointType, MeterProvider, MetricReader, type MetricData, type SumMetricData } from '@opentelemetry/sdk-metrics';
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RetryingSpanExporter, type BatchCodec, type BatchExporter, type RetryingSpanExporterOptions } from '../../api/src/telemetry/exporter.ts';

type Mode = 'ok' | 'fail' | 'fail-sync' | 'hang';

/**
 * The collector as the wrapper sees it: an InMemorySpanExporter behind a switch that makes
 * export() fail (after a short delay, like a refused connection, or synchronously, like the OTLP
 * exporter's concurrency limit) or never call back.
 */
class ControllableExporter implements SpanExporter {
  readonly memory = new InMemorySpanExporter();
  mode: Mode = 'ok';
  hangShutdown = false;
  shutDown = false;
  calls = 0;
  inFlight = 0;
  maxInFlight = 0;
  /** Names of acknowledged spans, kept here because InMemorySpanExporter forgets them on shutdown. */
  readonly delivered: string[] = [];
  readonly deliveredBatchSizes: number[] = [];
  readonly hung: ((result: ExportResult) => void)[] = [];

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.calls++;
    const failed: ExportResult = { code: ExportResultCode.FAILED, error: new Error('collector unavailable') };
    switch (this.mode) {
      case 'fail-sync':
        resultCallback(failed);
        return;
      case 'hang':
        this.hung.push(resultCallback);
        return;
      case 'fail':
        this.#begin();
        setTimeout(() => {
          this.inFlight--;
          resultCallback(failed);
        }, 2);
        return;
      case 'ok':
        this.#begin();
        this.memory.export(spans, (result) => {
          this.inFlight--;
          if (result.code === ExportResultCode.SUCCESS) {
            this.delivered.push(...names(spans));
            this.deliveredBatchSizes.push(spans.length);
          }
          resultCallback(result);
        });
    }
  }

  shutdown(): Promise<void> {
    this.shutDown = true;
    return this.hangShutdown ? new Promise<void>(() => undefined) : this.memory.shutdown();
  }

  #begin(): void {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
  }
}

class CollectingReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

// Real ReadableSpans, captured from a provider as they end.
const captured = new InMemorySpanExporter();
const sourceProvider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter: captured })] });

function makeSpans(prefix: string, count: number): ReadableSpan[] {
  captured.reset();
  const tracer = sourceProvider.getTracer('exporter-test');
  for (let i = 0; i < count; i++) tracer.startSpan(`${prefix}${i}`).end();
  const spans = [...captured.getFinishedSpans()];
  expect(spans).toHaveLength(count);
  return spans;
}

const names = (spans: readonly ReadableSpan[]): string[] => spans.map((span) => span.name);

/** export() must call back before it returns; this fails the test otherwise. */
function send(exporter: SpanExporter, spans: ReadableSpan[]): ExportResult {
  let result: ExportResult | undefined;
  exporter.export(spans, (r) => {
    result = r;
  });
  if (result === undefined) throw new Error('export() returned before calling back');
  return result;
}

const eventually = (assertion: () => void, timeout = 10_000): Promise<void> => vi.waitFor(assertion, { timeout, interval: 5 });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const fast: RetryingSpanExporterOptions = { initialBackoffMs: 20, maxBackoffMs: 100, attemptTimeoutMs: 1_000, flushTimeoutMs: 1_000 };
const created: RetryingSpanExporter[] = [];

function create(inner: SpanExporter, options: RetryingSpanExporterOptions = {}): RetryingSpanExporter {
  const exporter = new RetryingSpanExporter(inner, { ...fast, ...options });
  created.push(exporter);
  return exporter;
}

let warnings: string[] = [];
const ignore = (): void => undefined;

beforeEach(() => {
  warnings = [];
  diag.setLogger(
    { error: ignore, warn: (message) => warnings.push(message), info: ignore, debug: ignore, verbose: ignore },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
});

afterEach(async () => {
  await Promise.all(created.splice(0).map((exporter) => exporter.shutdown()));
  diag.disable();
});

describe('RetryingSpanExporter', () => {
  it('passes batches through in order when the inner exporter is healthy', async () => {
    const inner = new ControllableExporter();
    const exporter = create(inner);
    const a = makeSpans('a', 3);
    const b = makeSpans('b', 2);

    expect(send(exporter, a).code).toBe(ExportResultCode.SUCCESS);
    expect(send(exporter, b).code).toBe(ExportResultCode.SUCCESS);

    await eventually(() => expect(inner.delivered).toEqual([...names(a), ...names(b)]));
    expect(exporter.stats()).toEqual({
      buffered: 0,
      exported: 5,
      dropped: 0,
      droppedByReason: { buffer_full: 0, retry_expired: 0, shutdown: 0 },
      failures: 0,
    });
    expect(warnings).toEqual([]);
  });

  it('delivers every span once, in order, across an outage shorter than maxRetryMs', async () => {
    const inner = new ControllableExporter();
    inner.mode = 'fail';
    const exporter = create(inner, { maxBatchSpans: 8, maxRetryMs: 20_000 });
    const batches = Array.from({ length: 10 }, (_, i) => makeSpans(`b${i}-`, 2));

    for (const batch of batches.slice(0, 5)) expect(send(exporter, batch).code).toBe(ExportResultCode.SUCCESS);
    await eventually(() => expect(exporter.stats().failures).toBeGreaterThanOrEqual(2));
    for (const batch of batches.slice(5)) expect(send(exporter, batch).code).toBe(ExportResultCode.SUCCESS);
    await eventually(() => expect(exporter.stats().failures).toBeGreaterThanOrEqual(4));
    expect(inner.delivered).toEqual([]);
    expect(exporter.stats().buffered).toBe(20);

    inner.mode = 'ok';
    await eventually(() => expect(exporter.stats().buffered).toBe(0));

    expect(inner.delivered).toEqual(batches.flatMap(names));
    // Small batches are merged up to maxBatchSpans.
    expect(inner.deliveredBatchSizes).toEqual([8, 8, 4]);
    // One call per attempt, never two at once: each call is a counted failure or a delivered batch.
    expect(inner.maxInFlight).toBe(1);
    expect(inner.calls).toBe(exporter.stats().failures + 3);
    expect(exporter.stats()).toMatchObject({ exported: 20, dropped: 0 });
    expect(warnings).toEqual([]);
  });

  it('drops spans older than maxRetryMs during a long outage, warns once, then delivers new spans', async () => {
    const inner = new ControllableExporter();
    inner.mode = 'fail';
    const exporter = create(inner, { maxRetryMs: 150 });

    send(exporter, makeSpans('early', 4));
    await sleep(50);
    send(exporter, makeSpans('late', 3));

    await eventually(() => expect(exporter.stats()).toMatchObject({ buffered: 0, dropped: 7 }));
    expect(exporter.stats().droppedByReason).toEqual({ buffer_full: 0, retry_expired: 7, shutdown: 0 });
    expect(inner.delivered).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('retry_expired');

    inner.mode = 'ok';
    const after = makeSpans('after', 3);
    send(exporter, after);
    await eventually(() => expect(inner.delivered).toEqual(names(after)));
    expect(exporter.stats()).toMatchObject({ buffered: 0, exported: 3, dropped: 7 });
  });

  it('drops the oldest spans when the buffer is full and never holds more than maxBufferedSpans', async () => {
    const inner = new ControllableExporter();
    inner.mode = 'fail-sync';
    const exporter = create(inner, { maxBufferedSpans: 10, maxBatchSpans: 4, initialBackoffMs: 200, maxBackoffMs: 200 });
    const spans = makeSpans('s', 16);

    send(exporter, spans.slice(0, 4));
    // Now between attempts, so no span is in flight and the oldest may be dropped.
    await eventually(() => expect(exporter.stats().failures).toBeGreaterThanOrEqual(1));
    for (let i = 4; i < 16; i += 4) {
      send(exporter, spans.slice(i, i + 4));
      expect(exporter.stats().buffered).toBeLessThanOrEqual(10);
    }
    expect(exporter.stats()).toMatchObject({ buffered: 10, dropped: 6 });
    expect(exporter.stats().droppedByReason.buffer_full).toBe(6);

    // A long outage: memory stays bounded however much arrives.
    const flood = makeSpans('flood', 7);
    for (let i = 0; i < 200; i++) {
      send(exporter, flood);
      expect(exporter.stats().buffered).toBeLessThanOrEqual(10);
    }
    expect(exporter.stats()).toMatchObject({ buffered: 10, dropped: 6 + 200 * 7 });

    inner.mode = 'ok';
    const newest = makeSpans('newest', 10);
    send(exporter, newest);
    await exporter.forceFlush();
    expect(inner.delivered).toEqual(names(newest));
    expect(exporter.stats()).toMatchObject({ buffered: 0, exported: 10, dropped: 16 + 200 * 7 });
    expect(warnings).toHaveLength(1);
  });

  it('keeps the newest part of a batch larger than the whole buffer', async () => {
    const inner = new ControllableExporter();
    const exporter = create(inner, { maxBufferedSpans: 10, maxBatchSpans: 4 });
    const spans = makeSpans('big', 15);

    send(exporter, spans);
    expect(exporter.stats()).toMatchObject({ buffered: 10, dropped: 5 });
    await exporter.forceFlush();
    expect(inner.delivered).toEqual(names(spans.slice(5)));
    expect(inner.deliveredBatchSizes).toEqual([4, 4, 2]);
  });

  it('leaves the batch in flight alone when making room, dropping the oldest of the rest', async () => {
    const inner = new ControllableExporter();
    inner.mode = 'hang';
    const exporter = create(inner, { maxBufferedSpans: 10, maxBatchSpans: 6, attemptTimeoutMs: 100 });
    const spans = makeSpans('s', 12);

    send(exporter, spans.slice(0, 6));
    expect(inner.hung).toHaveLength(1);
    send(exporter, spans.slice(6));
    expect(exporter.stats()).toMatchObject({ buffered: 10, dropped: 2 });

    inner.mode = 'ok';
    await eventually(() => expect(exporter.stats().buffered).toBe(0));
    expect(inner.delivered).toEqual([...names(spans.slice(0, 6)), ...names(spans.slice(8))]);
  });

  it('times out an inner export that never calls back, retries it, and ignores its late callback', async () => {
    const inner = new ControllableExporter();
    inner.mode = 'hang';
    const exporter = create(inner, { attemptTimeoutMs: 100 });
    const spans = makeSpans('h', 3);

    send(exporter, spans);
    expect(inner.hung).toHaveLength(1);
    inner.mode = 'ok';

    await eventually(() => expect(inner.delivered).toEqual(names(spans)));
    expect(exporter.stats().failures).toBeGreaterThanOrEqual(1);
    expect(exporter.stats()).toMatchObject({ buffered: 0, exported: 3, dropped: 0 });

    for (const late of inner.hung) late({ code: ExportResultCode.SUCCESS });
    await sleep(20);
    expect(exporter.stats()).toMatchObject({ buffered: 0, exported: 3, dropped: 0 });
    expect(inner.delivered).toEqual(names(spans));
  });

  it.each<Mode>(['hang', 'fail', 'fail-sync'])('export() returns at once while the inner exporter is down (%s)', (mode) => {
    const inner = new ControllableExporter();
    inner.mode = mode;
    const exporter = create(inner, { maxBufferedSpans: 2_048, flushTimeoutMs: 50 });
    const batch = makeSpans('l', 512);

    const durations: number[] = [];
    for (let i = 0; i < 40; i++) {
      const started = performance.now();
      const result = send(exporter, batch);
      durations.push(performance.now() - started);
      expect(result.code).toBe(ExportResultCode.SUCCESS);
    }
    // send() already proved each call answered synchronously; the percentile keeps one
    // descheduling of a loaded CI machine from failing the test.
    durations.sort((x, y) => x - y);
    expect(durations[Math.floor(durations.length * 0.9)]).toBeLessThan(5);
    expect(exporter.stats().buffered).toBeLessThanOrEqual(2_048);
  });

  it('forceFlush() skips the current backoff wait and resolves once the spans are delivered', async () => {
    const inner = new ControllableExporter();
    inner.mode = 'fail';
    const exporter = create(inner, { initialBackoffMs: 30_000, maxBackoffMs: 30_000, flushTimeoutMs: 20_000 });
    const spans = makeSpans('f', 5);

    send(exporter, spans);
    await eventually(() => expect(exporter.stats().failures).toBeGreaterThanOrEqual(1));
    inner.mode = 'ok';

    const started = performance.now();
    await exporter.forceFlush();
    // A backoff of up to 30 s was pending; the flush did not wait for it.
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(inner.delivered).toEqual(names(spans));
    expect(exporter.stats().buffered).toBe(0);
  });

  it('forceFlush() gives up after flushTimeoutMs, keeping the spans for later', async () => {
    const inner = new ControllableExporter();
    inner.mode = 'fail';
    const exporter = create(inner, { flushTimeoutMs: 100 });
    const spans = makeSpans('k', 5);

    send(exporter, spans);
    await exporter.forceFlush();
    expect(exporter.stats()).toMatchObject({ buffered: 5, dropped: 0 });

    inner.mode = 'ok';
    await eventually(() => expect(inner.delivered).toEqual(names(spans)));
  });

  it('shutdown() delivers what it can, then shuts the inner exporter down and refuses new spans', async () => {
    const inner = new ControllableExporter();
    const exporter = create(inner);
    const spans = makeSpans('d', 6);

    send(exporter, spans);
    await exporter.shutdown();
    expect(inner.delivered).toEqual(names(spans));
    expect(inner.shutDown).toBe(true);
    expect(send(exporter, makeSpans('x', 2)).code).toBe(ExportResultCode.FAILED);
    expect(exporter.stats()).toMatchObject({ buffered: 0, exported: 6, dropped: 0 });
  });

  it('shutdown() counts what it cannot deliver within the deadline as dropped', async () => {
    const inner = new ControllableExporter();
    inner.mode = 'fail';
    const exporter = create(inner, { flushTimeoutMs: 150 });

    send(exporter, makeSpans('d', 7));
    const started = performance.now();
    await exporter.shutdown();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(exporter.stats()).toMatchObject({ buffered: 0, exported: 0, dropped: 7 });
    expect(exporter.stats().droppedByReason.shutdown).toBe(7);
    expect(inner.shutDown).toBe(true);

    expect(send(exporter, makeSpans('x', 2)).code).toBe(ExportResultCode.FAILED);
    expect(exporter.stats()).toMatchObject({ buffered: 0, dropped: 7 });
    await exporter.forceFlush();
  });

  it('shutdown() is bounded even when the inner export and shutdown both hang', async () => {
    const inner = new ControllableExporter();
    inner.mode = 'hang';
    inner.hangShutdown = true;
    const exporter = create(inner, { flushTimeoutMs: 150, attemptTimeoutMs: 60_000 });

    send(exporter, makeSpans('d', 3));
    const started = performance.now();
    await exporter.shutdown();
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(exporter.stats()).toMatchObject({ buffered: 0, exported: 0, dropped: 3 });

    // The attempt that was in flight answers after all: already counted as dropped, not re-counted.
    for (const late of inner.hung) late({ code: ExportResultCode.SUCCESS });
    await sleep(20);
    expect(exporter.stats()).toMatchObject({ buffered: 0, exported: 0, dropped: 3 });
  });

  it('sits behind a BatchSpanProcessor, which sees every export succeed', async () => {
    const inner = new ControllableExporter();
    inner.mode = 'fail';
    const exporter = new RetryingSpanExporter(inner, fast);
    const provider = new TracerProvider({
      spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: 10, maxExportBatchSize: 4 })],
    });
    const tracer = provider.getTracer('exporter-test');

    for (let i = 0; i < 10; i++) tracer.startSpan(`p${i}`).end();
    await provider.forceFlush();
    await eventually(() => expect(exporter.stats().failures).toBeGreaterThanOrEqual(1));
    expect(exporter.stats().buffered).toBe(10);

    inner.mode = 'ok';
    // The provider's flush ends at the exporter's SUCCESS; shutdown reaches the buffer.
    await provider.shutdown();
    expect(inner.delivered).toEqual(Array.from({ length: 10 }, (_, i) => `p${i}`));
    expect(inner.shutDown).toBe(true);
  });

  it('reports its counts as metrics, including those counted before the meter was attached', async () => {
    const inner = new ControllableExporter();
    inner.mode = 'fail-sync';
    const exporter = create(inner, { maxBufferedSpans: 5, maxBatchSpans: 5, flushTimeoutMs: 100, maxRetryMs: 60_000 });

    send(exporter, makeSpans('m', 8));
    await eventually(() => expect(exporter.stats().failures).toBeGreaterThanOrEqual(1));

    const reader = new CollectingReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    exporter.useMeter(meterProvider.getMeter('exporter-test'));

    let collected = await collect(reader);
    expect(values(collected, 'tracebridge.export.buffer.size')).toEqual([{ attributes: {}, value: 5 }]);

    inner.mode = 'ok';
    await exporter.forceFlush();
    inner.mode = 'fail';
    send(exporter, makeSpans('n', 2));
    await exporter.shutdown();

    collected = await collect(reader);
    const spans = sum(collected, 'tracebridge.export.spans');
    expect(spans.descriptor.unit).toBe('{span}');
    expect(spans.isMonotonic).toBe(true);
    expect(values(collected, 'tracebridge.export.spans')).toEqual(
      expect.arrayContaining([
        { attributes: { outcome: 'exported' }, value: 5 },
        { attributes: { outcome: 'dropped', reason: 'buffer_full' }, value: 3 },
        { attributes: { outcome: 'dropped', reason: 'retry_expired' }, value: 0 },
        { attributes: { outcome: 'dropped', reason: 'shutdown' }, value: 2 },
      ]),
    );
    expect(values(collected, 'tracebridge.export.spans')).toHaveLength(4);

    const failures = sum(collected, 'tracebridge.export.failures');
    expect(failures.descriptor.unit).toBe('{attempt}');
    expect(failures.isMonotonic).toBe(true);
    expect(values(collected, 'tracebridge.export.failures')).toEqual([{ attributes: {}, value: exporter.stats().failures }]);
    expect(exporter.stats().failures).toBeGreaterThanOrEqual(2);

    const buffer = sum(collected, 'tracebridge.export.buffer.size');
    expect(buffer.descriptor.unit).toBe('{span}');
    expect(buffer.isMonotonic).toBe(false);
    expect(values(collected, 'tracebridge.export.buffer.size')).toEqual([{ attributes: {}, value: 0 }]);

    await meterProvider.shutdown();
  });

  it('rejects options that cannot work', () => {
    const inner = new ControllableExporter();
    expect(() => new RetryingSpanExporter(inner, { maxBatchSpans: 0 })).toThrow(RangeError);
    expect(() => new RetryingSpanExporter(inner, { maxRetryMs: Number.NaN })).toThrow(RangeError);
    expect(() => new RetryingSpanExporter(inner, { maxBufferedSpans: 100, maxBatchSpans: 512 })).toThrow(RangeError);
  });
});

async function collect(reader: MetricReader): Promise<MetricData[]> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  return resourceMetrics.scopeMetrics.flatMap((scope) => scope.metrics);
}

function sum(collected: MetricData[], name: string): SumMetricData {
  const metric = collected.find((m) => m.descriptor.name === name);
  if (metric?.dataPointType !== DataPointType.SUM) throw new Error(`no sum metric ${name}`);
  return metric;
}

function values(collected: MetricData[], name: string): { attributes: unknown; value: number }[] {
  return sum(collected, name).dataPoints.map((point) => ({ attributes: point.attributes, value: point.value }));
}

describe('RetryingSpanExporter with a codec that encodes (off the caller’s stack)', () => {
  /** Counts encode() calls and what they covered; batches are span-name arrays. */
  function countingCodec(encodeSlice: number) {
    const calls: number[] = [];
    const codec: BatchCodec<string[]> = {
      encode: (spans) => {
        calls.push(spans.length);
        return names(spans);
      },
      concat: (parts) => parts.flat(),
      encodeSlice,
    };
    return { codec, calls };
  }

  class NamesExporter implements BatchExporter<string[]> {
    readonly delivered: string[] = [];
    readonly requests: number[] = [];
    fail = false;
    export(batch: string[], resultCallback: (result: ExportResult) => void): void {
      if (this.fail) {
        resultCallback({ code: ExportResultCode.FAILED, error: new Error('collector unavailable') });
        return;
      }
      this.delivered.push(...batch);
      this.requests.push(batch.length);
      resultCallback({ code: ExportResultCode.SUCCESS });
    }
    shutdown(): Promise<void> {
      return Promise.resolve();
    }
  }

  function createEncoding(inner: NamesExporter, encodeSlice: number, options: RetryingSpanExporterOptions = {}) {
    const { codec, calls } = countingCodec(encodeSlice);
    const exporter = new RetryingSpanExporter(inner, { ...fast, ...options }, codec);
    created.push(exporter as unknown as RetryingSpanExporter);
    return { exporter, calls };
  }

  it('export() encodes nothing: the batch is encoded in slices on later event-loop turns, then sent merged', async () => {
    const inner = new NamesExporter();
    const { exporter, calls } = createEncoding(inner, 4, { maxBatchSpans: 10 });
    const spans = makeSpans('e', 10);

    expect(send(exporter, spans).code).toBe(ExportResultCode.SUCCESS);
    // The span.end() that filled the processor's batch returns without any serialization.
    expect(calls).toEqual([]);
    expect(exporter.stats().buffered).toBe(10);

    await eventually(() => expect(inner.delivered).toEqual(names(spans)));
    expect(calls).toEqual([4, 4, 2]);
    expect(inner.requests.reduce((a, b) => a + b, 0)).toBe(10);
    expect(exporter.stats()).toMatchObject({ buffered: 0, exported: 10, dropped: 0 });
  });

  it('the bound covers spans not yet encoded: the oldest are dropped and counted', async () => {
    const inner = new NamesExporter();
    inner.fail = true;
    const { exporter } = createEncoding(inner, 3, { maxBufferedSpans: 6, maxBatchSpans: 3, initialBackoffMs: 1_000, maxBackoffMs: 1_000 });
    const spans = makeSpans('b', 15);
    for (let i = 0; i < 15; i += 5) {
      send(exporter, spans.slice(i, i + 5));
      expect(exporter.stats().buffered).toBeLessThanOrEqual(6);
    }
    expect(exporter.stats()).toMatchObject({ buffered: 6, dropped: 9, droppedByReason: { buffer_full: 9 } });

    inner.fail = false;
    await exporter.forceFlush();
    expect(inner.delivered).toEqual(names(spans.slice(9)));
  });

  it('forceFlush() and shutdown() wait for spans still to be encoded', async () => {
    const inner = new NamesExporter();
    const { exporter } = createEncoding(inner, 2);
    const spans = makeSpans('f', 7);
    send(exporter, spans);
    await exporter.forceFlush();
    expect(inner.delivered).toEqual(names(spans));

    const late = makeSpans('g', 5);
    send(exporter, late);
    await exporter.shutdown();
    expect(inner.delivered).toEqual([...names(spans), ...names(late)]);
    expect(exporter.stats()).toMatchObject({ buffered: 0, exported: 12, dropped: 0 });
  });
});
