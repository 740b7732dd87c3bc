import { context, trace, type Span } from '@opentelemetry/api';
import { getRPCMetadata, RPCType } from '@opentelemetry/core';
import type { MiddlewareHandler } from 'hono';
import { matchedRoute } from '../route.ts';
import { ATTR } from './attributes.ts';
import { newRequestTelemetry, runInRequest } from './request-state.ts';
import { errorTypeOf } from './orm.ts';

/**
 * The one SERVER span per request is instrumentation-http's; this middleware names it.
 * Setting the route on the RPC metadata makes instrumentation-http name the span
 * "GET /users/:id" and label http.server.request.duration with http.route.
 */
export function httpTelemetry(nPlusOneThreshold: number): MiddlewareHandler {
  return async (c, next) => {
    const span = trace.getActiveSpan();
    if (!span) return next();
    const route = matchedRoute(c);
    const rpc = getRPCMetadata(context.active());
    if (route !== undefined && rpc?.type === RPCType.HTTP) rpc.route = route;
    const request = newRequestTelemetry(span, route, nPlusOneThreshold);
    await runInRequest(request, next);
    const worst = request.detector.detections()[0];
    if (worst) {
      span.setAttributes({
        [ATTR.nPlusOneDetected]: true,
        [ATTR.nPlusOneCount]: worst.count,
        [ATTR.nPlusOneStatement]: worst.shape,
      });
    }
  };
}

/** error.type for SERVER spans of failed requests: the exception's type, not just "500". */
const serverErrorTypes = new WeakMap<Span, string>();

/** Records a 5xx on the SERVER span (4xx are the client's, and are not span errors). */
export function recordServerError(error: unknown): void {
  const span = trace.getActiveSpan();
  if (!span) return;
  const type = errorTypeOf(error);
  // Type only, never the message: driver messages can quote row values.
  span.recordException({ name: type, message: type });
  serverErrorTypes.set(span, type);
}

/**
 * instrumentation-http sets error.type to the status code when the response finishes, after
 * our handlers ran; its applyCustomAttributesOnSpan hook runs last and restores ours.
 */
export function restoreServerErrorType(span: Span): void {
  const type = serverErrorTypes.get(span);
  if (type !== undefined) span.setAttribute(ATTR.errorType, type);
}

/** Health probes hit every few seconds; their spans would drown the traces people look for. */
export const isProbe = (path: string | undefined): boolean =>
  path === '/healthz' || path === '/readyz' || path === '/metrics';
