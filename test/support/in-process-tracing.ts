import { context, propagation, type Attributes, type Context, type SpanKind } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { AggregationTemporality, DataPointType, MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import {
  InMemorySpanExporter,
  SamplingDecision,
  SimpleSpanProcessor,
  TracerProvider,
  type Sampler,
  type SamplingResult,
} from '@opentelemetry/sdk-trace';

/** A sampler whose decision a test sets, recording what each call was given. */
export class SpySampler implements Sampler {
  decision: SamplingDecision = SamplingDecision.RECORD_AND_SAMPLED;
  readonly calls: { name: string; attributes: Attributes }[] = [];
  shouldSample(_context: Context, _traceId: string, name: string, _kind: SpanKind, attributes: Attributes): SamplingResult {
    this.calls.push({ name, attributes: { ...attributes } });
    return { decision: this.decision };
  }
  toString(): string {
    return 'SpySampler';
  }
}

class CollectingReader extends MetricReader {
  constructor() {
    super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE });
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * An SDK in the test process: spans to memory (synchronously, on end), metrics on demand,
 * AsyncLocalStorage context and W3C propagation, as the API's preload sets up for real.
 */
export function inProcessTracing() {
  const sampler = new SpySampler();
  const exporter = new InMemorySpanExporter();
  const tracerProvider = new TracerProvider({ sampler, spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());

  /** Data points of a histogram, by their attributes. */
  async function histogram(name: string): Promise<{ attributes: Attributes; count: number }[]> {
    const { resourceMetrics } = await reader.collect();
    const metric = resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
    if (!metric) return [];
    if (metric.dataPointType !== DataPointType.HISTOGRAM) throw new Error(`${name} is not a histogram`);
    return metric.dataPoints.map((p) => ({ attributes: p.attributes, count: p.value.count }));
  }

  return {
    sampler,
    exporter,
    tracerProvider,
    meterProvider,
    histogram,
    spans: () => exporter.getFinishedSpans(),
    reset() {
      exporter.reset();
      sampler.calls.length = 0;
      sampler.decision = SamplingDecision.RECORD_AND_SAMPLED;
    },
    async shutdown() {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      contextManager.disable();
      context.disable();
      propagation.disable();
    },
  };
}
