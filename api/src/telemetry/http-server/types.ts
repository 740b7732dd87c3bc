import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { Context } from 'hono';

export interface HttpServerInstrumentationConfig extends InstrumentationConfig {
  /**
   * Requests on these route templates get no span and no duration record (health probes hit
   * every few seconds; their spans would drown the traces people look for).
   */
  ignoreRoutes?: readonly string[];
  /** Statements of one shape in a row, under one parent, that count as an N+1 run. */
  nPlusOneThreshold?: number;
}

/** The Node objects @hono/node-server passes as the app's env; absent under app.request() in tests. */
export interface NodeBindings {
  incoming: {
    headers: Record<string, string | string[] | undefined>;
    httpVersion?: string;
    url?: string;
    socket?: { remoteAddress?: string; encrypted?: boolean; destroyed?: boolean } | null;
  };
}

/** What the middleware reads of a request, whichever server runs the app. */
export type RequestContext = Context;
