import { metrics } from '@opentelemetry/api';
import { ATTR_HTTP_ROUTE } from '@opentelemetry/semantic-conventions';
import type { Logger } from '../logger.ts';
import { ATTR } from './attributes.ts';
import type { Detection } from './n-plus-one.ts';
import type { RequestTelemetry } from './request-state.ts';

const LOG_INTERVAL_MS = 60_000;

/**
 * What happens when a request's N+1 run reaches the threshold: an event on the SERVER span,
 * one count on tracebridge.db.n_plus_one{http.route}, and a warning at most once a minute
 * per route and statement shape (a hot endpoint must not flood the logs).
 */
export function nPlusOneReporter(logger: Logger): (detection: Detection, request: RequestTelemetry) => void {
  const counter = metrics
    .getMeter('tracebridge-api')
    .createCounter('tracebridge.db.n_plus_one', {
      description: 'Requests in which the same statement shape ran N or more times in a row (N+1 queries).',
      unit: '{request}',
    });
  const lastLogged = new Map<string, number>();
  return (detection, request) => {
    const route = request.route ?? 'unmatched';
    request.serverSpan.addEvent('tracebridge.n_plus_one.detected', {
      [ATTR.nPlusOneStatement]: detection.shape,
      [ATTR.nPlusOneCount]: detection.count,
    });
    counter.add(1, { [ATTR_HTTP_ROUTE]: route });
    const key = `${route}\u0000${detection.shape}`;
    const now = Date.now();
    if (now - (lastLogged.get(key) ?? -Infinity) < LOG_INTERVAL_MS) return;
    lastLogged.set(key, now);
    logger.warn(
      { route, statement: detection.shape, threshold: detection.count },
      'N+1 queries: the same statement ran once per row; load the relation eagerly',
    );
  };
}
