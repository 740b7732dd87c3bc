import { OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import type { Context, MiddlewareHandler } from 'hono';
import type { Config } from './config.ts';
import type { Db } from './db/knex.ts';
import { ApiError, ErrorCode, driverError, errorResponse, toApiError } from './errors.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import { healthRoutes } from './routes/health.ts';
import { recordServerError, type HttpServerInstrumentation } from './telemetry/http-server/instrumentation.ts';
import { postRoutes } from './routes/posts.ts';
import { matchedRoute } from './route.ts';
import { userRoutes } from './routes/users.ts';

export interface AppDeps {
  db: Db;
  config: Config;
  logger: Logger;
  lifecycle: Lifecycle;
  /** Whether spans are recorded (the SDK is running). */
  tracingEnabled: boolean;
  /** Makes each request's SERVER span; absent when tracing or its http instrumentation is off. */
  httpServer?: HttpServerInstrumentation;
}

/** Only what is safe to log about an error: no SQL parameters, no pg `detail` (it echoes row values). */
function describeError(wrapped: unknown) {
  const error = driverError(wrapped);
  if (!(error instanceof Error)) return { type: typeof error };
  const code = (error as { code?: unknown }).code;
  return { type: error.constructor.name || error.name, message: error.message, code: typeof code === 'string' ? code : undefined, stack: error.stack };
}

/** How much of an oversized body is read and discarded before the 413, at most. */
const DISCARD_BYTES = 16 * 1024 * 1024;
const DISCARD_MS = 2000;

/** Reads and drops what the client still sends, within DISCARD_BYTES and DISCARD_MS. */
async function discard(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  let discarded = 0;
  const deadline = performance.now() + DISCARD_MS;
  while (discarded < DISCARD_BYTES && performance.now() < deadline) {
    let timer: NodeJS.Timeout | undefined;
    const chunk = await Promise.race([
      reader.read(),
      new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - performance.now())))),
    ]);
    clearTimeout(timer);
    if (!chunk || chunk.done) break;
    discarded += chunk.value.length;
  }
  reader.cancel().catch(() => undefined);
}

/**
 * A body limit (what hono/body-limit does) that answers 413 only after reading on and
 * discarding the rest of the body, within bounds. Answering at the limit leaves unread data in
 * the socket, and a socket closed with unread data sends a reset: a client still uploading then
 * sees ECONNRESET or EPIPE instead of the 413. A body declared larger than the limit plus the
 * discard bound is answered at once. Either way the connection is closed after the 413.
 */
function limitBody(maxSize: number, tooLarge: (c: Context) => Response): MiddlewareHandler {
  const reject = async (c: Context, reader: ReadableStreamDefaultReader<Uint8Array> | undefined) => {
    if (reader) await discard(reader);
    c.header('Connection', 'close');
    return tooLarge(c);
  };
  return async (c, next) => {
    // @hono/node-server gives GET and HEAD requests no body, and reading c.req.raw.body makes
    // it build a web Request: those skip it. (Other methods cannot go by the headers alone: a
    // Request made in process, as app.request() makes, has a body without Content-Length.)
    const method = c.req.method;
    if (method === 'GET' || method === 'HEAD') return next();
    const body = c.req.raw.body;
    if (!body) return next();
    const declared = c.req.header('content-length');
    if (declared !== undefined && c.req.header('transfer-encoding') === undefined) {
      const length = Number(declared);
      if (length <= maxSize) return next();
      return reject(c, length <= maxSize + DISCARD_BYTES ? (body.getReader() as ReadableStreamDefaultReader<Uint8Array>) : undefined);
    }
    const reader = body.getReader() as ReadableStreamDefaultReader<Uint8Array>;
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > maxSize) return reject(c, reader);
      chunks.push(value);
    }
    c.req.raw = new Request(c.req.raw, { body: Buffer.concat(chunks) });
    return next();
  };
}

export function createApp(deps: AppDeps): OpenAPIHono {
  const { config, logger } = deps;
  const app = new OpenAPIHono();

  // First, so the SERVER span covers the request log line and everything after it.
  if (deps.httpServer) app.use(deps.httpServer.middleware());
  app.use(async (c, next) => {
    const start = performance.now();
    await next();
    logger.info(
      {
        method: c.req.method,
        route: matchedRoute(c),
        status: c.res.status,
        duration_ms: Math.round((performance.now() - start) * 100) / 100,
      },
      'request',
    );
  });

  app.use(
    limitBody(config.bodyLimitBytes, (c) =>
      errorResponse(c, new ApiError(413, ErrorCode.payloadTooLarge, `request body exceeds ${config.bodyLimitBytes} bytes`)),
    ),
  );

  app.route('/', healthRoutes(deps));
  app.route('/', userRoutes(deps.db));
  app.route('/', postRoutes(deps.db));

  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'tracebridge API',
      version: config.service.version,
      description: 'Users and posts on PostgreSQL, instrumented end to end with OpenTelemetry.',
    },
  });
  app.get('/docs', swaggerUI({ url: '/openapi.json', title: 'tracebridge API' }));

  app.notFound((c) =>
    errorResponse(c, new ApiError(404, ErrorCode.notFound, `no route for ${c.req.method} ${c.req.path}`)),
  );

  app.onError((error, c) => {
    const apiError = toApiError(error, config.retryAfterSeconds);
    const cause = apiError.cause ?? error;
    if (apiError.status >= 500) {
      recordServerError(cause);
      const log = apiError.status === 503 ? logger.warn.bind(logger) : logger.error.bind(logger);
      log({ error: describeError(cause), route: matchedRoute(c), status: apiError.status }, apiError.message);
    }
    return errorResponse(c, apiError);
  });

  return app;
}
