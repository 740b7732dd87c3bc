// Steady load on the API from inside the cluster, through its Service (so every API pod gets
// its share), for the agent-gateway proof of test/cluster/cluster.test.ts. Runs in the API's
// image (node, and the API's node_modules under /app). Each request carries a sampled W3C
// traceparent of our own, so every trace ID is known; the API samples 100 % (parent-based).
//
// The mix, by the kinds the gateways' tail-sampling policy must keep:
//   plain       GET /users/{id}                      kept only by the probabilistic share
//   error       POST /users with a taken email       409, its insert span has status ERROR
//   n-plus-one  GET /posts?eager=false&limit=6       6 lazy author loads: the N+1 flag
// and slow ones: every LOCK_EVERY_MS a transaction holds an ACCESS EXCLUSIVE lock on `users` for
// LOCK_MS, as a slow database would, so requests started in it take longer than the latency
// threshold whatever their kind (the client's timing tells which).
//
// Prints `started <epoch ms>` when the load begins, then one JSON line per request:
// [kind, traceId, start epoch ms, latency ms, status], then `done`.
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

const pg = createRequire('/app/')('pg');
const api = process.env.API_URL;
const durationMs = Number(process.env.DURATION_MS);
const rate = Number(process.env.RATE);
const lockEveryMs = Number(process.env.LOCK_EVERY_MS);
const lockMs = Number(process.env.LOCK_MS);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function call(method, path, body, traceparent) {
  const response = await fetch(`${api}${path}`, {
    method,
    headers: { ...(traceparent ? { traceparent } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(20_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

// Fixtures: two authors with three posts each (the N+1 page needs six), and a taken email.
const run = randomBytes(4).toString('hex');
const authors = [];
// A NetworkPolicy controller may admit this pod's address some seconds after it starts.
const deadline = Date.now() + 60_000;
for (const n of [1, 2]) {
  const user = { name: `Load ${n}`, email: `load-${run}-${n}@example.com`, posts: [1, 2, 3].map((p) => ({ title: `post ${p}`, content: 'x' })) };
  let created;
  while (!created) {
    created = await call('POST', '/users', user).catch((e) => {
      if (Date.now() > deadline) throw e;
      return sleep(1000).then(() => undefined);
    });
  }
  if (created.status !== 201) throw new Error(`fixture user: ${created.status} ${JSON.stringify(created.body)}`);
  authors.push(created.body.id);
}

const requests = {
  plain: () => ['GET', `/users/${authors[0]}`],
  error: () => ['POST', '/users', { name: 'Taken', email: `load-${run}-1@example.com` }],
  'n-plus-one': () => ['GET', '/posts?eager=false&limit=6&offset=0'],
};
/** Every 20 requests: one error, one N+1, eighteen plain. */
const kindOf = (i) => (i % 20 === 7 ? 'error' : i % 20 === 13 ? 'n-plus-one' : 'plain');

async function lockUsers() {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  client.on('error', () => {});
  await client.connect();
  try {
    await client.query('begin');
    await client.query('lock table users in access exclusive mode');
    await sleep(lockMs);
    await client.query('commit');
  } finally {
    await client.end();
  }
}

const t0 = Date.now();
console.log(`started ${t0}`);
const locks = (async () => {
  for (let at = lockEveryMs; at < durationMs - lockMs; at += lockEveryMs) {
    await sleep(t0 + at - Date.now());
    // A lock that fails makes no slow requests; the test counts those it gets.
    await lockUsers().catch((e) => console.log(`lock failed: ${e.message}`));
  }
})();
const inFlight = [];
const total = Math.floor((durationMs / 1000) * rate);
for (let i = 0; i < total; i++) {
  await sleep(t0 + (i * 1000) / rate - Date.now());
  const kind = kindOf(i);
  const traceId = randomBytes(16).toString('hex');
  const [method, path, body] = requests[kind]();
  const start = Date.now();
  inFlight.push(
    call(method, path, body, `00-${traceId}-${randomBytes(8).toString('hex')}-01`).then(
      (r) => console.log(JSON.stringify([kind, traceId, start, Date.now() - start, r.status])),
      (e) => console.log(JSON.stringify([kind, traceId, start, Date.now() - start, String(e.cause?.code ?? e.name)])),
    ),
  );
}
await Promise.all(inFlight);
await locks;
console.log('done');
