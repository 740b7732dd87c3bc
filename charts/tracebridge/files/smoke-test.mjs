// `helm test`: the API answers through its Service, and — when JAEGER_URL is set — the trace of
// a request we started reaches Jaeger through the collector. Runs in the API's image (plain
// node, no dependencies); the test suite runs it too, against a real API and Jaeger.
import { randomBytes } from 'node:crypto';

const apiUrl = required('API_URL');
const jaegerUrl = process.env.JAEGER_URL;
const deadlineMs = Number(process.env.SMOKE_TEST_TIMEOUT_MS ?? 90_000);

function required(name) {
  const value = process.env[name];
  if (!value) fail(`${name} is not set`);
  return value;
}

function fail(message) {
  console.error(`FAIL ${message}`);
  process.exit(1);
}

async function call(method, path, { body, headers = {} } = {}) {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

async function expectStatus(method, path, status, options) {
  const response = await call(method, path, options).catch((error) => fail(`${method} ${path}: ${error.message}`));
  if (response.status !== status) fail(`${method} ${path}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`);
  console.log(`ok   ${method} ${path} -> ${status}`);
  return response.body;
}

const traceId = randomBytes(16).toString('hex');
const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

await expectStatus('GET', '/healthz', 200);
await expectStatus('GET', '/readyz', 200);
const user = await expectStatus('POST', '/users', 201, {
  headers: { traceparent },
  body: { name: 'helm test', email: `helm-test-${traceId.slice(0, 12)}@example.test` },
});
await expectStatus('DELETE', `/users/${user.id}`, 204, { headers: { traceparent } });

if (jaegerUrl) {
  const started = Date.now();
  for (;;) {
    const response = await fetch(`${jaegerUrl}/api/traces/${traceId}`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    const spans = response?.ok ? ((await response.json()).data?.[0]?.spans ?? []) : [];
    const names = new Set(spans.map((span) => span.operationName));
    if (names.has('POST /users') && names.has('DELETE /users/:id')) {
      console.log(`ok   trace ${traceId} in Jaeger: ${spans.length} spans`);
      break;
    }
    if (Date.now() - started > deadlineMs) fail(`trace ${traceId} did not reach Jaeger within ${deadlineMs} ms (spans so far: ${[...names].join(', ') || 'none'})`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
console.log('PASS');
