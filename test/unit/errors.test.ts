import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { ApiError, toApiError } from '../../api/src/errors.ts';
import { toPage } from '../../api/src/routes/page.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });

describe('toApiError', () => {
  it.each([
    ['a pool acquire timeout', Object.assign(new Error('Knex: Timeout acquiring a connection'), { name: 'KnexTimeoutError' })],
    ['a refused connection', withCode('connect ECONNREFUSED', 'ECONNREFUSED')],
    ['an admin shutdown', withCode('terminating connection', '57P01')],
    ['a connection exception class', withCode('connection failure', '08006')],
    ['a statement timeout', withCode('canceling statement due to statement timeout', '57014')],
    ['a socket closed under pg', new Error('Connection terminated unexpectedly')],
    ['a query on a client pg was ending', new Error('Client was closed and is not queryable')],
    ['a pg connect timeout', new Error('timeout expired')],
    // Knex prefixes the driver's message with the statement once it was sent (seen in the Postgres restart drill).
    ['a socket closed under a statement in flight', new Error('select "users".* from "users" where "users"."id" = $1 - Connection terminated unexpectedly')],
    ['an Objection-wrapped driver error', Object.assign(new Error('wrapped'), { nativeError: withCode('x', 'ECONNRESET') })],
  ])('maps %s to 503 with Retry-After', (_case, error) => {
    const mapped = toApiError(error, 7);
    expect(mapped).toMatchObject({ status: 503, code: 'database_unavailable', retryAfterSeconds: 7 });
  });

  it('maps hono HTTP exceptions to the contract', () => {
    expect(toApiError(new HTTPException(400, { message: 'Malformed JSON in request body' }), 1)).toMatchObject({
      status: 400,
      code: 'malformed_json',
    });
    expect(toApiError(new HTTPException(415, { message: 'Unsupported Media Type' }), 1)).toMatchObject({
      status: 415,
      code: 'unsupported_media_type',
    });
  });

  it('keeps ApiErrors and hides everything else behind a generic 500', () => {
    const own = new ApiError(404, 'not_found', 'x');
    expect(toApiError(own, 1)).toBe(own);
    const mapped = toApiError(withCode('relation "users" does not exist', '42P01'), 1);
    expect(mapped).toMatchObject({ status: 500, code: 'internal_error', message: 'internal server error' });
    // The connection-loss messages count only as pg's whole message, or after Knex's "<sql> - ".
    expect(toApiError(new Error('session timeout expired'), 1)).toMatchObject({ status: 500 });
    expect(toApiError(new Error('select 1 -- Connection terminated'), 1)).toMatchObject({ status: 500 });
  });
});

describe('toPage', () => {
  it('uses the extra row to decide next_offset and drops it', () => {
    expect(toPage([1, 2, 3], 2, 4)).toEqual({ items: [1, 2], limit: 2, offset: 4, next_offset: 6 });
    expect(toPage([1, 2], 2, 4)).toEqual({ items: [1, 2], limit: 2, offset: 4, next_offset: null });
    expect(toPage([], 2, 0)).toEqual({ items: [], limit: 2, offset: 0, next_offset: null });
  });
});
