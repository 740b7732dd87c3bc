import { context, propagation, ROOT_CONTEXT, SpanKind, trace, ValueType, type Histogram } from '@opentelemetry/api';
import { InstrumentationBase } from '@opentelemetry/instrumentation';
import { METRIC_HTTP_SERVER_REQUEST_DURATION } from '@opentelemetry/semantic-conventions';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoute } from '../../route.ts';
import { ATTR } from '../attributes.ts';
import { errorTypeOf } from '../error-type.ts';
import { currentRequest, withRequest, type RequestTelemetry } from '../request-state.ts';
import { SCOPE_VERSION } from '../scope.ts';
import type { HttpServerInstrumentationConfig } from './types.ts';
import {
  clientAborted,
  durationAttributes,
  errorTypeOfResponse,
  finishSpan,
  nodeBindings,
  nodeHeaderGetter,
  requestAttributes,
  spanNameOf,
  webHeaderGetter,
} from './utils.ts';

/** The stable semconv's advice for http.server.request.duration, in seconds. */
const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
const DEFAULT_N_PLUS_ONE_THRESHOLD = 5;

/**
 * The SERVER span and http.server.request.duration of a Hono app, as Hono middleware (README
 * in this directory: why not instrumentation-http or @hono/otel). Per request, in this order:
 * extract the parent context, let the sampler decide, and only if the span records build its
 * attributes; one duration record per request; no listener on any emitter.
 *
 * Nothing is patched: enable() and disable() switch the middleware between tracing and passing
 * the request straight on.
 */
export class HttpServerInstrumentation extends InstrumentationBase<HttpServerInstrumentationConfig> {
  // `declare`: the base constructor calls _updateMetricInstruments(), before field initializers run.
  declare private duration: Histogram;

  constructor(config: HttpServerInstrumentationConfig = {}) {
    super('tracebridge-http-server', SCOPE_VERSION, config);
  }

  protected override init(): [] {
    return [];
  }

  protected override _updateMetricInstruments(): void {
    this.duration = this.meter.createHistogram(METRIC_HTTP_SERVER_REQUEST_DURATION, {
      description: 'Duration of HTTP server requests.',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
  }

  /** The middleware to put first on the app; it does nothing while the instrumentation is disabled. */
  middleware(): MiddlewareHandler {
    return (c, next) => (this._enabled ? this.#trace(c, next) : next());
  }

  async #trace(c: Context, next: () => Promise<void>): Promise<void> {
    const route = matchedRoute(c);
    if (route !== undefined && this.getConfig().ignoreRoutes?.includes(route)) return next();
    const start = performance.now();
    const method = c.req.method;
    const node = nodeBindings(c);
    const parent = node
      ? propagation.extract(ROOT_CONTEXT, node.incoming.headers, nodeHeaderGetter)
      : propagation.extract(ROOT_CONTEXT, c.req.raw.headers, webHeaderGetter);
    // No attributes yet: the sampler decides on the parent and the name, before any attribute work.
    const span = this.tracer.startSpan(spanNameOf(method, route), { kind: SpanKind.SERVER }, parent);
    const recording = span.isRecording();
    if (recording) span.setAttributes(requestAttributes(c, method, route));
    const request: RequestTelemetry = {
      serverSpan: span,
      recording,
      route,
      threshold: this.getConfig().nPlusOneThreshold ?? DEFAULT_N_PLUS_ONE_THRESHOLD,
      detector: undefined,
      errorType: undefined,
      pendingSql: undefined,
    };
    try {
      await context.with(withRequest(trace.setSpan(parent, span), request), next);
    } finally {
      // Hono's compose turns a handler's exception into app.onError's response, so this runs
      // after the error handler and sees the status the client gets.
      const status = c.res.status;
      const errorType = errorTypeOfResponse(status, request.errorType, clientAborted(c));
      if (recording) {
        finishSpan(span, status, errorType);
        const worst = request.detector?.detections()[0];
        if (worst) {
          span.setAttributes({
            [ATTR.nPlusOneDetected]: true,
            [ATTR.nPlusOneCount]: worst.count,
            [ATTR.nPlusOneStatement]: worst.shape,
          });
        }
      }
      span.end();
      const scheme = node ? (node.incoming.socket?.encrypted ? 'https' : 'http') : 'http';
      this.duration.record(
        (performance.now() - start) / 1000,
        durationAttributes(method, scheme, route, status, errorType, node?.incoming.httpVersion),
      );
    }
  }
}

/**
 * Records the exception a 5xx answers on the request's SERVER span, and its type as the
 * request's error.type (4xx are the client's, and are not span errors).
 */
export function recordServerError(error: unknown): void {
  const request = currentRequest();
  if (!request) return;
  const type = errorTypeOf(error);
  request.errorType = type;
  // Type only, never the message: driver messages can quote row values.
  if (request.recording) request.serverSpan.recordException({ name: type, message: type });
}
