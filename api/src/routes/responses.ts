import type { z } from '@hono/zod-openapi';
import { ErrorBodySchema } from '../errors.ts';

/** OpenAPI response entries shared by the routes. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { 'application/json': { schema } },
  description,
});

const error = (description: string) => json(ErrorBodySchema, description);

export const errorResponses = {
  400: error('Malformed JSON body.'),
  413: error('Body larger than the configured limit.'),
  415: error('Body is not application/json.'),
  422: error('Invalid fields; details lists each one.'),
  503: error('Database unavailable or connection pool exhausted; see Retry-After.'),
} as const;

export const notFound = error('No such resource.');
export const conflict = error('Conflicts with an existing resource.');
