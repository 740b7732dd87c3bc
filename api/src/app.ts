import { OpenAPIHono } from '@hono/zod-openapi';
import { swaggerUI } from '@hono/swagger-ui';
import { bodyLimit } from 'hono/body-limit';
import type { Config } from './config.ts';
import type { Db } from './db/knex.ts';
import { ApiError, ErrorCode, driverError, errorResponse, toApiError } from './errors.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { Logger } from './logger.ts';
import { healthRoutes } from './routes/health.ts';
import { httpTelemetry, recordServerError } from './telemetry/http.ts';
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
}

/** Only what is safe to log about an error: no SQL parameters, no pg `detail` (it echoes row values). */
function describeError(wrapped: unknown) {
  const error = driverError(wrapped);
  if (!(error instanceof Error)) return { type: typeof error };
  const code = (error as { code?: unknown }).code;
  return { type: error.constructor.name || error.name, message: error.message, code: typeof code === 'string' ? code : undefined, stack: error.stack };
}

export function createApp(deps: AppDeps): OpenAPIHono {
  const { config, logger } = deps;
  const app = new OpenAPIHono();

  app.use(httpTelemetry(config.telemetry.nPlusOneThreshold));
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
    bodyLimit({
      maxSize: config.bodyLimitBytes,
      onError: (c) =>
        errorResponse(
          c,
          new ApiError(413, ErrorCode.payloadTooLarge, `request body exceeds ${config.bodyLimitBytes} bytes`),
        ),
    }),
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
