import { createServer } from 'node:http';
import pg from 'pg';

/**
 * The ceiling of figure 3: a bare node:http server doing the single-row query of
 * GET /users/:id (`select ... from users where id = $1`) through a pg.Pool of the API's size,
 * answering JSON. No framework, no validation, no ORM, no logging, no telemetry: what one Node
 * process on this core can do against this PostgreSQL. /users/:id/with-posts runs both of the
 * API's statements (the user, then their posts), for a like-for-like comparison.
 */
const port = Number(process.env.PORT ?? 8100);
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_MAX ?? 10) });
const byId = 'select id, name, email, age, created_at from users where id = $1';
const postsOf = 'select id, title, content, author_id, created_at from posts where author_id = $1 order by id';

const server = createServer((req, res) => {
  const match = /^\/users\/(\d+)(\/with-posts)?$/.exec(req.url ?? '');
  const reply = (status: number, body: unknown) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  };
  if (req.url === '/readyz') {
    pool.query('select 1').then(
      () => reply(200, { status: 'ready' }),
      () => reply(503, { status: 'unavailable' }),
    );
    return;
  }
  if (!match) {
    reply(404, { error: 'not found' });
    return;
  }
  const id = Number(match[1]);
  const withPosts = match[2] !== undefined;
  (async () => {
    const user = (await pool.query(byId, [id])).rows[0] as Record<string, unknown> | undefined;
    if (!user) return reply(404, { error: 'not found' });
    if (withPosts) user.posts = (await pool.query(postsOf, [id])).rows;
    reply(200, user);
  })().catch(() => reply(503, { error: 'database unavailable' }));
});
server.listen(port, '127.0.0.1');
const stop = () => {
  server.close();
  void pool.end().then(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
