/**
 * Version of our instrumentation scopes (tracebridge-http-server, tracebridge-orm), as a contrib
 * package versions its own: it names the shape of the spans and metrics they emit, so it changes
 * when a span name, attribute or metric changes, not with every release of the API.
 */
export const SCOPE_VERSION = '1.0.0';
