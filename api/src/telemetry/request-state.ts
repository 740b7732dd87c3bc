import { context, createContextKey, type Span } from '@opentelemetry/api';
import { NPlusOneDetector } from './n-plus-one.ts';

/** What the telemetry layers share about the request in flight, carried in the OTel context. */
export interface RequestTelemetry {
  serverSpan: Span;
  /** The route template, when one matched. */
  route: string | undefined;
  detector: NPlusOneDetector;
}

const REQUEST = createContextKey('tracebridge.request');

export function runInRequest<T>(state: RequestTelemetry, fn: () => T): T {
  return context.with(context.active().setValue(REQUEST, state), fn);
}

export function currentRequest(): RequestTelemetry | undefined {
  return context.active().getValue(REQUEST) as RequestTelemetry | undefined;
}

export const newRequestTelemetry = (serverSpan: Span, route: string | undefined, threshold: number): RequestTelemetry => ({
  serverSpan,
  route,
  detector: new NPlusOneDetector(threshold),
});
