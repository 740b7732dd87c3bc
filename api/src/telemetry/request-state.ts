import { context, createContextKey, type Context, type Span } from '@opentelemetry/api';
import { NPlusOneDetector } from './n-plus-one.ts';

/** What the telemetry layers share about the request in flight, carried in the OTel context. */
export interface RequestTelemetry {
  serverSpan: Span;
  /** Whether serverSpan records: decided once, by the sampler, when the request started. */
  recording: boolean;
  /** The route template, when one matched. */
  route: string | undefined;
  /** N+1 run length that is reported. */
  threshold: number;
  /** Made by the first statement: requests without queries pay nothing for it. */
  detector: NPlusOneDetector | undefined;
  /** error.type of the exception a 5xx answered, set by the error handler. */
  errorType: string | undefined;
  /** First statement of the unsampled ORM query in flight (its N+1 shape), left by Knex's Client#query. */
  pendingSql: string | undefined;
}

const REQUEST = createContextKey('tracebridge.request');

export const withRequest = (ctx: Context, state: RequestTelemetry): Context => ctx.setValue(REQUEST, state);

export function currentRequest(): RequestTelemetry | undefined {
  return context.active().getValue(REQUEST) as RequestTelemetry | undefined;
}

export const detectorOf = (request: RequestTelemetry): NPlusOneDetector => (request.detector ??= new NPlusOneDetector(request.threshold));
