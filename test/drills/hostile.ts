import { request } from 'node:http';
import { startOtlpReceiver } from '../support/otlp-receiver.ts';
import { startTracedApi } from '../support/process.ts';
import { ms } from './support/load.ts';
import { check, timedDrill, type DrillOptions, type DrillResult } from './support/result.ts';
import { createDatabase, requestLines, seed } from './support/stack.ts';

/**
 * Drill 6b: hand-written hostile requests over raw HTTP (bytes as sent, not as a client library
 * would clean them up): malformed and truncated JSON, huge bodies, deep nesting, wrong content
 * types, unicode and NUL bytes, SQL metacharacters, negative/huge/non-numeric ids, and duplicate
 * emails under concurrency. Every answer must be the documented status with a JSON error body
 * of the contract, quickly; never a 5xx.
 */

interface Raw {
  status: number;
  contentType: string;
  body: string;
  ms: number;
}

function send(base: string, method: string, path: string, body?: Buffer | string, headers: Record<string, string> = {}, chunked = false): Promise<Raw> {
  const url = new URL(base);
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { ...(payload && !chunked ? { 'content-length': String(payload.length) } : {}), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: res.headers['content-type'] ?? '',
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - start,
          }),
        );
      },
    );
    req.on('error', reject);
    if (payload && chunked) {
      // Sent in pieces without a Content-Length: the limit must hold for streamed bodies too.
      for (let i = 0; i < payload.length; i += 64 * 1024) req.write(payload.subarray(i, i + 64 * 1024));
      req.end();
    } else {
      req.end(payload);
    }
  });
}

interface Case {
  name: string;
  method: string;
  path: string;
  body?: Buffer | string;
  contentType?: string | null;
  chunked?: boolean;
  /** Acceptable statuses. */
  expect: number[];
  /** The error code when the status is an error. */
  code?: string;
  /** The field the 422 must name. */
  field?: string;
  /** Checks on a 2xx body (round trips). */
  verify?: (body: Record<string, unknown>) => boolean;
}

const json = (value: unknown) => JSON.stringify(value);
const nested = (depth: number, open: string, close: string, inner = '1') => open.repeat(depth) + inner + close.repeat(depth);

function cases(userId: number): Case[] {
  const post = (body: string | Buffer, contentType: string | null = 'application/json'): Pick<Case, 'method' | 'path' | 'body' | 'contentType'> => ({ method: 'POST', path: '/users', body, contentType });
  const unicodeName = 'Zoë 😀 名前 مرحبا a\u0301 \u200d\uFEFF';
  const sqlName = "Robert'); DROP TABLE users;-- %_\\";
  const c: Case[] = [
    // malformed and truncated JSON
    { name: 'truncated JSON', ...post('{"name":"Alice","email":'), expect: [400], code: 'malformed_json' },
    { name: 'truncated mid-string', ...post('{"name":"Ali'), expect: [400], code: 'malformed_json' },
    { name: 'trailing comma', ...post('{"name":"A","email":"a@example.com",}'), expect: [400], code: 'malformed_json' },
    { name: 'NaN literal', ...post('{"name":"A","email":"a@example.com","age":NaN}'), expect: [400], code: 'malformed_json' },
    { name: 'raw NUL byte in JSON', ...post(Buffer.from('{"name":"a\u0000b","email":"nul@example.com"}', 'utf8')), expect: [400], code: 'malformed_json' },
    { name: 'empty body', ...post(''), expect: [400], code: 'malformed_json' },
    { name: 'a JSON array', ...post('[{"name":"A","email":"a@example.com"}]'), expect: [422], code: 'validation_failed' },
    { name: 'truncated JSON to /posts', method: 'POST', path: '/posts', body: '{"title":"t","content":"c","author_id":', contentType: 'application/json', expect: [400], code: 'malformed_json' },
    // huge bodies
    { name: '2 MiB body with Content-Length', ...post(`{"name":"${'a'.repeat(2 * 1024 * 1024)}","email":"big@example.com"}`), expect: [413], code: 'payload_too_large' },
    { name: '2 MiB body, chunked', ...post(`{"name":"${'a'.repeat(2 * 1024 * 1024)}","email":"big@example.com"}`), chunked: true, expect: [413], code: 'payload_too_large' },
    { name: 'name of 10 000 characters', ...post(json({ name: 'n'.repeat(10_000), email: 'long@example.com' })), expect: [422], code: 'validation_failed', field: 'name' },
    { name: '21 initial posts', ...post(json({ name: 'A', email: 'many@example.com', posts: Array.from({ length: 21 }, () => ({ title: 't', content: 'c' })) })), expect: [422], field: 'posts' },
    // deep nesting
    { name: '100 000 nested arrays as the name', ...post(`{"name":${nested(100_000, '[', ']')},"email":"deep@example.com"}`), expect: [422, 400], field: 'name' },
    { name: '10 000 nested objects under an unknown key', ...post(`{"name":"A","email":"deep2@example.com","x":${nested(10_000, '{"a":', '}')}}`), expect: [422], field: 'x' },
    { name: 'nested arrays as initial posts', ...post(`{"name":"A","email":"deep3@example.com","posts":${nested(5_000, '[', ']')}}`), expect: [422, 400] },
    // wrong content types
    { name: 'text/plain', ...post(json({ name: 'A', email: 'ct@example.com' }), 'text/plain'), expect: [415], code: 'unsupported_media_type' },
    { name: 'no Content-Type', ...post(json({ name: 'A', email: 'ct@example.com' }), null), expect: [415], code: 'unsupported_media_type' },
    { name: 'form-urlencoded', ...post('name=A&email=ct%40example.com', 'application/x-www-form-urlencoded'), expect: [415], code: 'unsupported_media_type' },
    { name: 'multipart', ...post('--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nA\r\n--x--\r\n', 'multipart/form-data; boundary=x'), expect: [415], code: 'unsupported_media_type' },
    { name: 'XML', ...post('<user><name>A</name></user>', 'application/xml'), expect: [415], code: 'unsupported_media_type' },
    // unicode and NUL
    { name: 'unicode name round-trips', ...post(json({ name: unicodeName, email: 'unicode@example.com' })), expect: [201], verify: (b) => b.name === unicodeName },
    { name: 'escaped NUL in name', ...post(json({ name: 'a\u0000b', email: 'nul2@example.com' })), expect: [422], field: 'name' },
    { name: 'escaped NUL in post content', method: 'POST', path: '/posts', body: json({ title: 't', content: 'x\u0000', author_id: userId }), contentType: 'application/json', expect: [422], field: 'content' },
    { name: 'invalid UTF-8 bytes', ...post(Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('","email":"utf8@example.com"}')])), expect: [201, 400, 422] },
    { name: 'lone surrogate escape', ...post('{"name":"\\ud800x","email":"surrogate@example.com"}'), expect: [201, 422] },
    { name: 'blank name of unicode spaces', ...post(json({ name: '\u2003\u00a0\t', email: 'blank@example.com' })), expect: [422], field: 'name' },
    { name: 'NUL in the path', method: 'GET', path: '/users/%00', expect: [422], field: 'id' },
    { name: 'NUL in the query', method: 'GET', path: '/users?limit=%00', expect: [422], field: 'limit' },
    { name: 'unicode digits as an id', method: 'GET', path: `/users/${encodeURIComponent('١٢')}`, expect: [422], field: 'id' },
    // SQL metacharacters
    { name: 'SQL in the name is data', ...post(json({ name: sqlName, email: "o'brien+sql@example.com" })), expect: [201], verify: (b) => b.name === sqlName && b.email === "o'brien+sql@example.com" },
    { name: 'SQL in an id', method: 'GET', path: '/users/1%20OR%201=1', expect: [422], field: 'id' },
    { name: 'SQL in limit', method: 'GET', path: "/users?limit=1;DROP%20TABLE%20users", expect: [422], field: 'limit' },
    { name: 'SQL in offset', method: 'GET', path: "/posts?offset=0'--", expect: [422], field: 'offset' },
    { name: 'SQL in eager', method: 'GET', path: "/posts?eager=true'%20OR%20'1'='1", expect: [422], field: 'eager' },
    { name: 'LIKE wildcards in content', method: 'POST', path: '/posts', body: json({ title: '%_%', content: "\\'; SELECT pg_sleep(10); --", author_id: userId }), contentType: 'application/json', expect: [201] },
    { name: 'the users table is still there', method: 'GET', path: '/users?limit=1', expect: [200] },
  ];
  // negative, huge and non-numeric ids
  for (const id of ['-1', '0', '2147483648', '99999999999999999999', '1.5', 'abc', '1e3', '0x10', '%201', '1%20', 'Infinity', 'NaN', '+1', '00000000000000000000000000001a']) {
    c.push({ name: `GET /users/${id}`, method: 'GET', path: `/users/${id}`, expect: [422], code: 'validation_failed', field: 'id' });
    c.push({ name: `GET /posts/${id}`, method: 'GET', path: `/posts/${id}`, expect: [422], code: 'validation_failed', field: 'id' });
  }
  c.push(
    { name: 'DELETE /users/-1', method: 'DELETE', path: '/users/-1', expect: [422], field: 'id' },
    { name: 'the largest id is a 404', method: 'GET', path: '/users/2147483647', expect: [404], code: 'not_found' },
    { name: 'limit=0', method: 'GET', path: '/users?limit=0', expect: [422], field: 'limit' },
    { name: 'limit=101', method: 'GET', path: '/posts?limit=101', expect: [422], field: 'limit' },
    { name: 'limit=1e1', method: 'GET', path: '/users?limit=1e1', expect: [422], field: 'limit' },
    { name: 'offset=-1', method: 'GET', path: '/users?offset=-1', expect: [422], field: 'offset' },
    { name: 'offset beyond int4', method: 'GET', path: '/users?offset=2147483648', expect: [422], field: 'offset' },
    { name: 'the largest offset', method: 'GET', path: '/posts?offset=2147483647&eager=true', expect: [200] },
  );
  for (const authorId of [-1, 0, 2 ** 31, 1.5, '1', null, '1e400']) {
    const body = authorId === '1e400' ? `{"title":"t","content":"c","author_id":1e400}` : json({ title: 't', content: 'c', author_id: authorId });
    c.push({ name: `author_id ${String(authorId)}`, method: 'POST', path: '/posts', body, contentType: 'application/json', expect: [422], field: 'author_id' });
  }
  c.push({ name: 'author_id of no user', method: 'POST', path: '/posts', body: json({ title: 't', content: 'c', author_id: 2147483647 }), contentType: 'application/json', expect: [422], field: 'author_id' });
  return c;
}

function verdict(c: Case, r: Raw): string | undefined {
  if (!c.expect.includes(r.status)) return `status ${r.status}, expected ${c.expect.join('|')}: ${r.body.slice(0, 200)}`;
  if (r.status >= 500) return `status ${r.status}`;
  if (r.status === 204) return undefined;
  if (!r.contentType.startsWith('application/json')) return `content type ${r.contentType}`;
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(r.body) as Record<string, unknown>;
  } catch {
    return `body is not JSON: ${r.body.slice(0, 100)}`;
  }
  if (r.status >= 400) {
    const error = body.error as { code?: unknown; message?: unknown; details?: unknown } | undefined;
    if (!error || typeof error.code !== 'string' || typeof error.message !== 'string' || !('details' in error)) return `not the error contract: ${r.body.slice(0, 200)}`;
    if (c.code && error.code !== c.code) return `code ${error.code}, expected ${c.code}`;
    if (c.field && r.status === 422 && !(Array.isArray(error.details) && error.details.some((d: { field?: string }) => d.field?.split('.')[0]?.split(',').includes(c.field!)))) {
      return `422 does not name ${c.field}: ${r.body.slice(0, 200)}`;
    }
  } else if (c.verify && !c.verify(body)) {
    return `unexpected body: ${r.body.slice(0, 200)}`;
  }
  return undefined;
}

export async function hostileInput(options: DrillOptions & { concurrency?: number }): Promise<DrillResult> {
  const concurrency = options.concurrency ?? 20;
  return timedDrill('hostile input', `hand-written cases + ${concurrency} concurrent duplicate signups × 2`, async (figures, checks, defer) => {
    const database = await createDatabase(options.adminDatabaseUrl);
    defer(() => database.drop());
    const [userId] = await seed(database.db, 3, 2);
    const receiver = await startOtlpReceiver();
    defer(() => receiver.close());
    const { api, base } = await startTracedApi({ databaseUrl: database.url, otlpEndpoint: receiver.endpoint, service: 'drill-hostile' });
    defer(() => api.stop());

    const all = cases(userId!);
    const wrong: string[] = [];
    let slowest = 0;
    for (const c of all) {
      const headers: Record<string, string> = c.contentType === null || c.contentType === undefined ? {} : { 'content-type': c.contentType };
      try {
        const r = await send(base, c.method, c.path, c.body, headers, c.chunked);
        slowest = Math.max(slowest, r.ms);
        const problem = verdict(c, r);
        if (problem) wrong.push(`${c.name}: ${problem}`);
      } catch (error) {
        wrong.push(`${c.name}: no answer (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    }

    // Duplicate emails under concurrency: the unique index decides, exactly one wins.
    const races: string[] = [];
    for (const [round, withPosts] of [[1, false], [2, true]] as const) {
      const variants = Array.from({ length: concurrency }, (_, i) => {
        const email = `race${round}@example.com`;
        return i % 2 === 0 ? email.toUpperCase() : email;
      });
      const results = await Promise.all(
        variants.map((email, i) =>
          send(base, 'POST', '/users', json({ name: `Racer ${i}`, email, ...(withPosts ? { posts: [{ title: 't', content: 'c' }] } : {}) }), {
            'content-type': 'application/json',
          }),
        ),
      );
      const created = results.filter((r) => r.status === 201).length;
      const conflicts = results.filter((r) => r.status === 409 && (JSON.parse(r.body) as { error: { code: string } }).error.code === 'conflict').length;
      const rows = await database.db('users').whereRaw('lower(email) = ?', [`race${round}@example.com`]).count<{ n: string }[]>({ n: '*' });
      const orphanPosts = withPosts ? await database.db('posts').whereNotIn('author_id', database.db('users').select('id')).count<{ n: string }[]>({ n: '*' }) : [{ n: '0' }];
      races.push(`${withPosts ? 'with posts' : 'plain'}: ${created}×201 ${conflicts}×409, ${rows[0]?.n ?? '?'} row(s), ${orphanPosts[0]?.n ?? '?'} orphan post(s)`);
      if (!(created === 1 && conflicts === concurrency - 1 && rows[0]?.n === '1' && orphanPosts[0]?.n === '0')) wrong.push(`duplicate race (${withPosts ? 'with posts' : 'plain'}): ${races.at(-1)!}`);
    }
    const serverErrors = requestLines(api.stdout()).filter((l) => typeof l.status === 'number' && l.status >= 500);
    const ready = (await fetch(`${base}/readyz`)).status;

    Object.assign(figures, {
      'hand-written cases': all.length,
      'as documented': all.length - wrong.filter((w) => !w.startsWith('duplicate race')).length,
      'concurrent duplicate signups': races.join('; '),
      'slowest answer': ms(slowest),
      '5xx in the API log': serverErrors.length,
    });
    checks.push(
      check('every hostile case gets its documented status, a JSON error body of the contract, never a 5xx', wrong.length === 0, wrong.slice(0, 10).join(' | ') || 'all as documented'),
      check('duplicate emails under concurrency: exactly one 201, the rest 409, one row, no orphan post', races.length === 2 && !wrong.some((w) => w.startsWith('duplicate race')), races.join('; ')),
      check('every answer within 2 s', slowest < 2000, `slowest ${ms(slowest)}`),
      check('no 5xx in the API log, and it is still ready', serverErrors.length === 0 && ready === 200, `${serverErrors.length} × 5xx, /readyz ${ready}`),
    );
  });
}
