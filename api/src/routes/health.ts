import { createRoute, z } from '@hono/zod-openapi';
import type { Config } from '../config.ts';
import { pingDatabase, type Db } from '../db/knex.ts';
import { ApiError, ErrorCode } from '../errors.ts';
import { json } from './responses.ts';
import { newRouter } from './router.ts';
import type { Lifecycle } from '../lifecycle.ts';

const ServiceInfoSchema = z
  .object({
    service: z.string(),
    version: z.string(),
    environment: z.string(),
    tracing: z.boolean().openapi({ description: 'Whether spans are being recorded and exported.' }),
  })
  .openapi('ServiceInfo');

const StatusSchema = z.object({ status: z.string() }).openapi('Status');

const info = createRoute({
  method: 'get',
  path: '/',
  tags: ['health'],
  summary: 'Service identity and whether tracing is on',
  responses: { 200: json(ServiceInfoSchema, 'Service info.') },
});

const liveness = createRoute({
  method: 'get',
  path: '/healthz',
  tags: ['health'],
  summary: 'Liveness: the process serves HTTP (no database check)',
  responses: { 200: json(StatusSchema, 'Alive.') },
});

const readiness = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['health'],
  summary: 'Readiness: the database answers within the readiness timeout',
  responses: {
    200: json(StatusSchema, 'Ready.'),
    503: json(z.object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown() }) }), 'Not ready.'),
  },
});

export function healthRoutes(deps: { db: Db; config: Config; lifecycle: Lifecycle; tracingEnabled: boolean }) {
  const { db, config, lifecycle } = deps;
  const app = newRouter();

  app.openapi(info, (c) =>
    c.json(
      {
        service: config.service.name,
        version: config.service.version,
        environment: config.service.environment,
        tracing: deps.tracingEnabled,
      },
      200,
    ),
  );

  app.openapi(liveness, (c) => c.json({ status: 'ok' }, 200));

  app.openapi(readiness, async (c) => {
    if (lifecycle.shuttingDown) {
      throw new ApiError(503, ErrorCode.shuttingDown, 'shutting down', { retryAfterSeconds: config.retryAfterSeconds });
    }
    try {
      await pingDatabase(db, config.readinessTimeoutMs);
    } catch (error) {
      throw new ApiError(503, ErrorCode.databaseUnavailable, 'the database is not reachable', {
        cause: error,
        retryAfterSeconds: config.retryAfterSeconds,
      });
    }
    return c.json({ status: 'ready' }, 200);
  });

  return app;
}
