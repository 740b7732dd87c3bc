import { context, diag, metrics, ValueType, type BatchObservableResult, type Meter } from '@opentelemetry/api';
import { ExportResultCode, suppressTracing, type ExportResult } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';

export type DropReason = 'buffer_full' | 'retry_expired' | 'shutdown';

export interface RetryingSpanExporterOptions {
  /** Spans held while the inner exporter is slow or failing; beyond it the oldest are dropped. Default 20_000. */
  maxBufferedSpans?: number;
  /** Spans per inner export call (small batches are merged up to this). Default 512. */
  maxBatchSpans?: number;
  /** A failing batch is dropped once it has been buffered this long. Default 60_000. */
  maxRetryMs?: number;
  /** First backoff ceiling after a failure. Default 250. */
  initialBackoffMs?: number;
  /** Largest backoff ceiling. Default 5_000. */
  maxBackoffMs?: number;
  /** Growth of the backoff ceiling per consecutive failure. Default 2. */
  backoffMultiplier?: number;
  /** An inner export that has not called back by then counts as failed. Default 10_000. */
  attemptTimeoutMs?: number;
  /** Upper bound of forceFlush(), and of shutdown() as a whole. Default 5_000. */
  flushTimeoutMs?: number;
}

export interface RetryingSpanExporterStats {
  /** Spans accepted and not yet exported or dropped. */
  buffered: number;
  /** Spans the inner exporter acknowledged. */
  exported: number;
  /** Spans given up on, all reasons. */
  dropped: number;
  droppedByReason: Record<DropReason, number>;
  /** Inner export attempts that failed or timed out. */
  failures: number;
}

const DEFAULTS: Required<RetryingSpanExporterOptions> = {
  maxBufferedSpans: 20_000,
  maxBatchSpans: 512,
  maxRetryMs: 60_000,
  initialBackoffMs: 250,
  maxBackoffMs: 5_000,
  backoffMultiplier: 2,
  attemptTimeoutMs: 10_000,
  flushTimeoutMs: 5_000,
};

const DROP_REASONS: readonly DropReason[] = ['buffer_full', 'retry_expired', 'shutdown'];

/** What RetryingSpanExporter needs from its inner exporter, for a batch type B (a SpanExporter is one). */
export interface BatchExporter<B> {
  export(batch: B, resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

/** How spans are held while they wait: what a batch is, how batches merge and shrink. */
export interface BatchCodec<B> {
  /** Turns spans entering the buffer into a batch; given a copy the buffer owns. */
  encode: (spans: ReadableSpan[]) => B;
  concat: (parts: B[]) => B;
  /** The batch without its first n spans; absent when a batch can only be dropped whole. */
  dropFirst?: (batch: B, n: number) => B;
  /**
   * Set for a codec whose encode() is real work (serialization): export() then only stages the
   * spans, and they are encoded later off the caller's stack, this many per event-loop turn
   * (setImmediate). The caller is the BatchSpanProcessor inside the span.end() of whichever
   * request filled its batch, so that request would otherwise pay for encoding the whole batch.
   * Absent: encode() runs inline (it is cheap).
   */
  encodeSlice?: number;
}

/** Spans held as the SDK's objects, for an inner SpanExporter. */
const spanArrayCodec: BatchCodec<ReadableSpan[]> = {
  encode: (spans) => spans,
  concat: (parts) => (parts.length === 1 && parts[0] ? parts[0] : parts.flat()),
  dropFirst: (batch, n) => batch.slice(n),
};

/** Spans accepted but not encoded yet (codecs with encodeSlice). */
interface Staged {
  spans: ReadableSpan[];
  readonly since: number;
}

interface Pending<B> {
  batch: B;
  count: number;
  /** performance.now(), not Date.now(): a wall-clock step must not expire or immortalize a batch. */
  readonly since: number;
}

/**
 * A SpanExporter that takes ownership of every batch at once and delivers it in the background,
 * so the BatchSpanProcessor (which allows one export in flight) never waits on the collector:
 * a collector restart costs nothing, a long outage costs counted drops, never unbounded memory.
 *
 * Delivery is at least once: an attempt that times out may still land, and is then sent again.
 */
export class RetryingSpanExporter<B = ReadableSpan[]> implements SpanExporter {
  readonly #inner: BatchExporter<B>;
  readonly #codec: BatchCodec<B>;
  readonly #options: Required<RetryingSpanExporterOptions>;
  /** FIFO; each entry holds at most maxBatchSpans spans. */
  #queue: Pending<B>[] = [];
  /** FIFO, all younger than every #queue entry; counted in #buffered. */
  #staged: Staged[] = [];
  #encodeScheduled: NodeJS.Immediate | undefined;
  #buffered = 0;
  /** Leading queue entries of the attempt in flight: eviction must leave them for the result to remove. */
  #locked = 0;
  #exported = 0;
  #failures = 0;
  readonly #dropped: Record<DropReason, number> = { buffer_full: 0, retry_expired: 0, shutdown: 0 };
  /** Spans dropped since the buffer was last empty; non-zero means the warning was already logged. */
  #droppedThisEpisode = 0;
  #running = false;
  #step = 0;
  #wake: (() => void) | undefined;
  readonly #idle = new Set<() => void>();
  #state: 'open' | 'closing' | 'closed' = 'open';
  #shutdown: Promise<void> | undefined;
  #unbindMeter: (() => void) | undefined;

  /** Holds the SDK's span objects for an inner SpanExporter. */
  constructor(inner: SpanExporter, options?: RetryingSpanExporterOptions);
  /** Holds batches the codec makes, for an inner exporter of those batches. */
  constructor(inner: BatchExporter<B>, options: RetryingSpanExporterOptions, codec: BatchCodec<B>);
  constructor(inner: BatchExporter<B>, options: RetryingSpanExporterOptions = {}, codec?: BatchCodec<B>) {
    const resolved = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS) as (keyof RetryingSpanExporterOptions)[]) {
      const value = options[key] ?? DEFAULTS[key];
      if (!Number.isFinite(value) || value <= 0) throw new RangeError(`RetryingSpanExporter: ${key} must be a positive number`);
      resolved[key] = value;
    }
    if (resolved.maxBatchSpans > resolved.maxBufferedSpans) {
      throw new RangeError('RetryingSpanExporter: maxBatchSpans must not exceed maxBufferedSpans');
    }
    this.#inner = inner;
    this.#codec = codec ?? (spanArrayCodec as unknown as BatchCodec<B>);
    this.#options = resolved;
  }

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    if (this.#state !== 'open') {
      resultCallback({ code: ExportResultCode.FAILED, error: new Error('RetryingSpanExporter is shut down') });
      return;
    }
    this.#enqueue(spans);
    resultCallback({ code: ExportResultCode.SUCCESS });
    this.#start();
  }

  /** Resolves once everything buffered is exported or dropped, or after flushTimeoutMs. */
  forceFlush(): Promise<void> {
    return this.#flush(performance.now() + this.#options.flushTimeoutMs);
  }

  /** Flushes within flushTimeoutMs, drops (and counts) what is left, then shuts the inner exporter down. */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#close();
    return this.#shutdown;
  }

  stats(): RetryingSpanExporterStats {
    const droppedByReason = { ...this.#dropped };
    const dropped = DROP_REASONS.reduce((sum, reason) => sum + droppedByReason[reason], 0);
    return { buffered: this.#buffered, exported: this.#exported, dropped, droppedByReason, failures: this.#failures };
  }

  /**
   * Reports the counts as instruments of `meter`. Called after the MeterProvider is registered,
   * because the metrics API has no proxy: a meter taken earlier would stay a no-op forever.
   * The instruments are observed from cumulative totals, so nothing counted before this call is lost.
   */
  useMeter(meter: Meter = metrics.getMeter('tracebridge-api')): void {
    this.#unbindMeter?.();
    const spans = meter.createObservableCounter('tracebridge.export.spans', {
      description: 'Spans the exporter is done with: exported, or dropped and why',
      unit: '{span}',
      valueType: ValueType.INT,
    });
    const failures = meter.createObservableCounter('tracebridge.export.failures', {
      description: 'Span export attempts that failed or timed out',
      unit: '{attempt}',
      valueType: ValueType.INT,
    });
    const bufferSize = meter.createObservableUpDownCounter('tracebridge.export.buffer.size', {
      description: 'Spans buffered awaiting export',
      unit: '{span}',
      valueType: ValueType.INT,
    });
    const observe = (result: BatchObservableResult): void => {
      result.observe(spans, this.#exported, { outcome: 'exported' });
      // Every reason from the start, zeros included, so rate() and absent-series alerts work.
      for (const reason of DROP_REASONS) result.observe(spans, this.#dropped[reason], { outcome: 'dropped', reason });
      result.observe(failures, this.#failures);
      result.observe(bufferSize, this.#buffered);
    };
    const observables = [spans, failures, bufferSize];
    meter.addBatchObservableCallback(observe, observables);
    this.#unbindMeter = () => meter.removeBatchObservableCallback(observe, observables);
  }

  #enqueue(spans: ReadableSpan[]): void {
    const { maxBufferedSpans, maxBatchSpans } = this.#options;
    let incoming = spans;
    if (incoming.length > maxBufferedSpans) {
      this.#drop(incoming.length - maxBufferedSpans, 'buffer_full');
      incoming = incoming.slice(-maxBufferedSpans);
    }
    // The newest spans are the most useful, so room is made by dropping the oldest.
    let excess = this.#buffered + incoming.length - maxBufferedSpans;
    while (excess > 0) {
      const oldest = this.#queue[this.#locked];
      if (oldest === undefined) break;
      const codec = this.#codec;
      // A batch that cannot shrink (encoded bytes) goes whole: a few more spans than needed.
      const count = codec.dropFirst ? Math.min(excess, oldest.count) : oldest.count;
      if (codec.dropFirst && count < oldest.count) {
        oldest.batch = codec.dropFirst(oldest.batch, count);
        oldest.count -= count;
      } else this.#queue.splice(this.#locked, 1);
      this.#buffered -= count;
      excess -= count;
      this.#drop(count, 'buffer_full');
    }
    // Then the staged spans, oldest first (they are younger than anything encoded).
    while (excess > 0) {
      const oldest = this.#staged[0];
      if (oldest === undefined) break;
      const count = Math.min(excess, oldest.spans.length);
      if (count < oldest.spans.length) oldest.spans = oldest.spans.slice(count);
      else this.#staged.shift();
      this.#buffered -= count;
      excess -= count;
      this.#drop(count, 'buffer_full');
    }
    // Only the attempt in flight is older now; its outcome is not ours to pre-empt.
    if (excess > 0) {
      this.#drop(excess, 'buffer_full');
      incoming = incoming.slice(excess);
    }
    const since = performance.now();
    this.#buffered += incoming.length;
    if (this.#codec.encodeSlice !== undefined) {
      // slice() copies: the buffer outlives the call and the caller may reuse its array.
      if (incoming.length > 0) this.#staged.push({ spans: incoming.slice(), since });
      this.#encodeScheduled ??= setImmediate(() => this.#encodeStaged());
      return;
    }
    for (let i = 0; i < incoming.length; i += maxBatchSpans) {
      const spans = incoming.slice(i, i + maxBatchSpans);
      this.#queue.push({ batch: this.#codec.encode(spans), count: spans.length, since });
    }
  }

  /** One event-loop turn's share of encoding (encodeSlice spans), then the next turn's, then delivery. */
  #encodeStaged(): void {
    this.#encodeScheduled = undefined;
    if (!this.#isOpen()) return;
    let budget = this.#codec.encodeSlice ?? Infinity;
    while (budget > 0) {
      const head = this.#staged[0];
      if (head === undefined) break;
      const spans = head.spans.length <= budget ? head.spans : head.spans.slice(0, budget);
      if (spans === head.spans) this.#staged.shift();
      else head.spans = head.spans.slice(spans.length);
      budget -= spans.length;
      try {
        this.#queue.push({ batch: this.#codec.encode(spans), count: spans.length, since: head.since });
      } catch (error) {
        // Never expected from the SDK's serializer; the spans cannot be sent in any form.
        this.#buffered -= spans.length;
        diag.error(`RetryingSpanExporter: ${spans.length} spans could not be encoded and were discarded: ${String(error)}`);
      }
    }
    if (this.#staged.length > 0) this.#encodeScheduled = setImmediate(() => this.#encodeStaged());
    this.#start();
    this.#settleIfIdle();
  }

  #start(): void {
    if (this.#running || this.#state === 'closed' || this.#queue.length === 0) return;
    this.#running = true;
    // The exporter's own network calls must not be traced: that would feed spans back into this buffer.
    context.with(suppressTracing(context.active()), () => void this.#run());
  }

  async #run(): Promise<void> {
    try {
      while (this.#queue.length > 0 && this.#isOpen()) {
        const { entries, batch, spans } = this.#nextBatch();
        this.#locked = entries;
        const result = await this.#attempt(batch);
        this.#locked = 0;
        // Shutdown has already counted these spans as dropped and cleared the queue.
        if (!this.#isOpen()) return;
        if (result.code === ExportResultCode.SUCCESS) {
          this.#queue.splice(0, entries);
          this.#buffered -= spans;
          this.#exported += spans;
          this.#step = 0;
        } else {
          this.#failures++;
          this.#expire();
          if (this.#queue.length > 0) await this.#backoff();
        }
        this.#settleIfIdle();
      }
    } finally {
      this.#running = false;
      this.#settleIfIdle();
    }
  }

  /** A method, not a field read, so type narrowing does not outlive the awaits in #run. */
  #isOpen(): boolean {
    return this.#state !== 'closed';
  }

  /** The leading queue entries that fit one export (maxBatchSpans), merged. */
  #nextBatch(): { entries: number; batch: B; spans: number } {
    const parts: B[] = [];
    let spans = 0;
    for (const pending of this.#queue) {
      if (parts.length > 0 && spans + pending.count > this.#options.maxBatchSpans) break;
      parts.push(pending.batch);
      spans += pending.count;
    }
    return { entries: parts.length, batch: this.#codec.concat(parts), spans };
  }

  #attempt(batch: B): Promise<ExportResult> {
    return new Promise((resolve) => {
      let settled = false;
      const settle = (result: ExportResult): void => {
        // A callback arriving after the timeout is ignored: the batch has been retried or dropped.
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      };
      const timer = setTimeout(() => {
        settle({ code: ExportResultCode.FAILED, error: new Error(`span export timed out after ${this.#options.attemptTimeoutMs} ms`) });
      }, this.#options.attemptTimeoutMs);
      timer.unref();
      try {
        this.#inner.export(batch, settle);
      } catch (error) {
        settle({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      }
    });
  }

  /** Full jitter spreads the retries of many replicas after a shared collector comes back. */
  #backoff(): Promise<void> {
    const { initialBackoffMs, backoffMultiplier, maxBackoffMs } = this.#options;
    const ceiling = Math.min(maxBackoffMs, initialBackoffMs * backoffMultiplier ** this.#step);
    this.#step++;
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      // Unref'd: buffered spans alone must not keep a finished process alive.
      const timer = setTimeout(wake, Math.random() * ceiling);
      timer.unref();
      this.#wake = wake;
    });
  }

  #expire(): void {
    const cutoff = performance.now() - this.#options.maxRetryMs;
    while (true) {
      const head = this.#queue[0];
      if (head === undefined || head.since > cutoff) return;
      this.#queue.shift();
      this.#buffered -= head.count;
      this.#drop(head.count, 'retry_expired');
    }
  }

  #flush(deadline: number): Promise<void> {
    if (this.#buffered === 0) return Promise.resolve();
    // A flush has a deadline, so retry now and with short delays rather than sit out a long backoff.
    this.#step = 0;
    this.#wake?.();
    this.#start();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#idle.delete(done);
        resolve();
      };
      // Not unref'd: the caller asked to wait this long (at most) for delivery.
      const timer = setTimeout(done, Math.max(0, deadline - performance.now()));
      this.#idle.add(done);
    });
  }

  async #close(): Promise<void> {
    this.#state = 'closing';
    const deadline = performance.now() + this.#options.flushTimeoutMs;
    await this.#flush(deadline);
    this.#state = 'closed';
    this.#wake?.();
    if (this.#buffered > 0) this.#drop(this.#buffered, 'shutdown');
    this.#queue = [];
    this.#staged = [];
    if (this.#encodeScheduled) clearImmediate(this.#encodeScheduled);
    this.#encodeScheduled = undefined;
    this.#buffered = 0;
    this.#locked = 0;
    this.#settleIfIdle();
    // Bounded too: the OTLP exporter's shutdown waits for its requests in flight.
    const inner = this.#inner.shutdown().catch((error: unknown) => {
      diag.warn(`RetryingSpanExporter: inner exporter shutdown failed: ${String(error)}`);
    });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
      void inner.then(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  #drop(count: number, reason: DropReason): void {
    if (count <= 0) return;
    this.#dropped[reason] += count;
    // Once per episode (until the buffer is next empty), not per batch: an outage would flood the log.
    if (this.#droppedThisEpisode === 0) {
      diag.warn(`RetryingSpanExporter: dropping spans (${reason}); counted in tracebridge.export.spans until the buffer drains`);
    }
    this.#droppedThisEpisode += count;
  }

  #settleIfIdle(): void {
    if (this.#buffered > 0) return;
    if (this.#droppedThisEpisode > 0) {
      diag.info(`RetryingSpanExporter: buffer drained; ${this.#droppedThisEpisode} spans were dropped`);
      this.#droppedThisEpisode = 0;
    }
    for (const done of [...this.#idle]) done();
  }
}
