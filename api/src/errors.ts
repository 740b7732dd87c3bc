import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { z } from '@hono/zod-openapi';

/**
 * The error contract: every non-2xx answer is {"error":{"code","message","details"}}.
 * Client mistakes map to 4xx, an unavailable database to 503 + Retry-After, and only
 * our own bugs to 500 (with a generic message: internals never leak to clients).
 */

export const ErrorCode = {
  malformedJson: 'malformed_json',
  validationFailed: 'validation_failed',
  notFound: 'not_found',
  conflict: 'conflict',
  payloadTooLarge: 'payload_too_large',
  unsupportedMediaType: 'unsupported_media_type',
  badRequest: 'bad_request',
  databaseUnavailable: 'database_unavailable',
  shuttingDown: 'shutting_down',
  internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export interface FieldIssue {
  location: 'body' | 'query' | 'path';
  field: string;
  message: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly status: ContentfulStatusCode;
  readonly code: ErrorCode;
  readonly details: unknown;
  readonly retryAfterSeconds: number | undefined;

  constructor(
    status: ContentfulStatusCode,
    code: ErrorCode,
    message: string,
    options: { details?: unknown; cause?: unknown; retryAfterSeconds?: number } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = status;
    this.code = code;
    this.details = options.details ?? null;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

export const ErrorBodySchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: ErrorCode.notFound }),
      message: z.string().openapi({ example: 'user 42 not found' }),
      details: z.unknown().openapi({ description: 'Structured detail, e.g. the list of invalid fields; null when none.' }),
    }),
  })
  .openapi('Error');

export function errorResponse(c: Context, error: ApiError): Response {
  if (error.retryAfterSeconds !== undefined) c.header('Retry-After', String(error.retryAfterSeconds));
  return c.json({ error: { code: error.code, message: error.message, details: error.details } }, error.status);
}

const locationOf: Partial<Record<string, FieldIssue['location']>> = { json: 'body', query: 'query', param: 'path' };

/** 422 naming each invalid field; used as the OpenAPI routes' validation hook. */
export function validationError(target: string, error: z.ZodError): ApiError {
  const location = locationOf[target] ?? 'body';
  const details: FieldIssue[] = error.issues.map((issue) => ({
    location,
    field: issue.path.length > 0 ? issue.path.join('.') : issue.code === 'unrecognized_keys' ? issue.keys.join(',') : '(root)',
    message: issue.message,
  }));
  const fields = [...new Set(details.map((d) => d.field))].join(', ');
  return new ApiError(422, ErrorCode.validationFailed, `invalid ${location}: ${fields}`, { details });
}

const connectionErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up / shutting down)
  '53300', // too_many_connections
  '57014', // query_canceled (statement_timeout)
]);

/** Objection wraps driver errors (db-errors) and keeps the original as `nativeError`. */
export function driverError(error: unknown): unknown {
  const native = (error as { nativeError?: unknown } | null)?.nativeError;
  return native instanceof Error ? native : error;
}

function isDatabaseUnavailable(wrapped: unknown): boolean {
  const error = driverError(wrapped);
  if (!(error instanceof Error)) return false;
  if (error.name === 'KnexTimeoutError') return true;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (connectionErrorCodes.has(code) || code.startsWith('08'))) return true;
  // pg reports a socket closed under it (or a client ended by it) with these messages and no
  // code. When the statement was already sent, Knex prefixes the message with "<sql> - ".
  return /(?:^| - )(?:Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|timeout expired$|Query read timeout$|timeout exceeded when trying to connect)/.test(
    error.message,
  );
}

/** Maps anything thrown by a handler to the error contract. */
export function toApiError(error: unknown, retryAfterSeconds: number): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof HTTPException) {
    switch (error.status) {
      case 400:
        return /json/i.test(error.message)
          ? new ApiError(400, ErrorCode.malformedJson, 'request body is not valid JSON', { cause: error })
          : new ApiError(400, ErrorCode.badRequest, error.message || 'bad request', { cause: error });
      case 413:
        return new ApiError(413, ErrorCode.payloadTooLarge, error.message, { cause: error });
      case 415:
        return new ApiError(415, ErrorCode.unsupportedMediaType, 'request body must be application/json', {
          cause: error,
        });
      default:
        return new ApiError(error.status, ErrorCode.badRequest, error.message, { cause: error });
    }
  }
  if (isDatabaseUnavailable(error)) {
    return new ApiError(503, ErrorCode.databaseUnavailable, 'the database is unavailable; retry later', {
      cause: error,
      retryAfterSeconds,
    });
  }
  return new ApiError(500, ErrorCode.internal, 'internal server error', { cause: error });
}

/** Postgres SQLSTATE of an error thrown by pg, if any. */
export function sqlState(error: unknown): string | undefined {
  const code = (driverError(error) as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}
