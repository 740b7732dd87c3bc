import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { traced, withSpan } from '../../api/src/spans.ts';

const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
const contextManager = new AsyncLocalStorageContextManager();

beforeAll(() => {
  context.setGlobalContextManager(contextManager.enable());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

describe('withSpan', () => {
  it('runs the function in a child span of the active span, with attributes, and returns its value', async () => {
    const result = await trace.getTracer('test').startActiveSpan('parent', async (parent) => {
      const value = await withSpan('orders.validate', { 'order.items': 3 }, async (span) => {
        span.setAttribute('order.valid', true);
        await new Promise((r) => setTimeout(r, 1));
        return 42;
      });
      parent.end();
      return value;
    });
    expect(result).toBe(42);
    const spans = exporter.getFinishedSpans();
    const child = spans.find((s) => s.name === 'orders.validate')!;
    const parent = spans.find((s) => s.name === 'parent')!;
    expect(child.parentSpanContext?.spanId).toBe(parent.spanContext().spanId);
    expect(child.attributes).toEqual({ 'order.items': 3, 'order.valid': true });
    expect(child.status.code).toBe(0);
  });

  it('marks the span failed with the error type and rethrows', async () => {
    class OutOfStock extends Error {}
    await expect(withSpan('orders.reserve', {}, () => Promise.reject(new OutOfStock('sku 7')))).rejects.toThrow('sku 7');
    const [span] = exporter.getFinishedSpans();
    expect(span!.status).toEqual({ code: 2, message: 'OutOfStock' });
    expect(span!.attributes['error.type']).toBe('OutOfStock');
    expect(span!.events.map((e) => e.name)).toEqual(['exception']);
    // Only the type: messages may carry user data.
    expect(JSON.stringify(span!.events)).not.toContain('sku 7');
  });
});

describe('traced', () => {
  it('wraps a function so each call is a span, attributes derived from the arguments', async () => {
    const price = traced('pricing.quote', (sku: string, qty: number) => qty * 2, (_sku, qty) => ({ 'quote.qty': qty }));
    expect(await price('a', 3)).toBe(6);
    expect(await price('b', 5)).toBe(10);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes['quote.qty']])).toEqual([
      ['pricing.quote', 3],
      ['pricing.quote', 5],
    ]);
  });
});
