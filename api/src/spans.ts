import { SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';

const tracer = trace.getTracer('tracebridge-api');

/**
 * Runs fn inside a span (INTERNAL, child of the active span) for business logic worth seeing
 * in a trace. A thrown error marks the span failed with its type and is rethrown.
 *
 *   const order = await withSpan('orders.validate', { 'order.items': items.length }, () => validate(items));
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      const type = error instanceof Error ? error.constructor.name || error.name : 'Error';
      span.recordException({ name: type, message: type });
      span.setStatus({ code: SpanStatusCode.ERROR, message: type });
      span.setAttribute('error.type', type);
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * Wraps a function so every call runs in a span named `name` (a decorator without decorator
 * syntax, which Node's type stripping does not run). Attributes may be derived from the arguments.
 */
export function traced<A extends unknown[], R>(
  name: string,
  fn: (...args: A) => Promise<R> | R,
  attributes: (...args: A) => Attributes = () => ({}),
): (...args: A) => Promise<R> {
  return (...args: A) => withSpan(name, attributes(...args), () => fn(...args));
}
