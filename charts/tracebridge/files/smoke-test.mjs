// `helm test`: the API answers through its Service, and — when JAEGER_URL is set — the trace of
// a request we started reaches Jaeger through the collector. Without the API (api.enabled=false:
// COLLECTOR_OTLP_HTTP_URL instead of API_URL) it sends a span of its own to the collector over
// OTLP/HTTP and looks for that. Runs in the API's image (plain node, no dependencies); the test
// suite runs it too, against a real API or collector, and Jaeger.
import { randomBytes } from 'node:crypto';

const apiUrl = process.env.API_URL;
const collectorUrl = process.env.COLLECTOR_OTLP_HTTP_URL;
const jaegerUrl = process.env.JAEGER_URL;
if (!apiUrl && !collectorUrl) fail('set API_URL or COLLECTOR_OTLP_HTTP_URL');
const deadlineMs = Number(process.env.SMOKE_TEST_TIMEOUT_MS ?? 90_000);

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

/** One span in OTLP/JSON, as any OTLP/HTTP client sends it. */
async function sendSpan() {
  const nanos = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'tracebridge-helm-test' } }] },
        scopeSpans: [
          {
            scope: { name: 'tracebridge-helm-test' },
            spans: [{ traceId, spanId: randomBytes(8).toString('hex'), name: 'helm test', kind: 1, startTimeUnixNano: String(nanos), endTimeUnixNano: String(nanos + 1_000_000n) }],
          },
        ],
      },
    ],
  };
  const response = await fetch(`${collectorUrl}/v1/traces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  }).catch((error) => fail(`POST ${collectorUrl}/v1/traces: ${error.message}`));
  if (response.status !== 200) fail(`POST ${collectorUrl}/v1/traces: expected 200, got ${response.status} ${await response.text()}`);
  console.log(`ok   POST /v1/traces -> 200 (span "helm test", trace ${traceId})`);
}

/**
 * Waits until `url` answers at all (any status): a new pod's address is admitted by the cluster's
 * NetworkPolicy controller some seconds after the pod starts, and until then connections fail.
 */
async function reachable(url) {
  const started = Date.now();
  for (;;) {
    const answered = await fetch(url, { signal: AbortSignal.timeout(2000) }).then(() => true, () => false);
    if (answered) return;
    if (Date.now() - started > 30_000) return; // the first real call reports what is wrong
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const traceId = randomBytes(16).toString('hex');
const traceparent = `00-${traceId}-${randomBytes(8).toString('hex')}-01`;

/** Spans the trace must have in Jaeger. */
let expected;
if (apiUrl) {
  await reachable(`${apiUrl}/healthz`);
  await expectStatus('GET', '/healthz', 200);
  await expectStatus('GET', '/readyz', 200);
  const user = await expectStatus('POST', '/users', 201, {
    headers: { traceparent },
    body: { name: 'helm test', email: `helm-test-${traceId.slice(0, 12)}@example.test` },
  });
  await expectStatus('DELETE', `/users/${user.id}`, 204, { headers: { traceparent } });
  expected = ['POST /users', 'DELETE /users/:id'];
} else {
  await reachable(`${collectorUrl}/v1/traces`);
  await sendSpan();
  expected = ['helm test'];
}

if (jaegerUrl) {
  const started = Date.now();
  for (;;) {
    const response = await fetch(`${jaegerUrl}/api/traces/${traceId}`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    const spans = response?.ok ? ((await response.json()).data?.[0]?.spans ?? []) : [];
    const names = new Set(spans.map((span) => span.operationName));
    if (expected.every((name) => names.has(name))) {
      console.log(`ok   trace ${traceId} in Jaeger: ${spans.length} spans`);
      break;
    }
    if (Date.now() - started > deadlineMs) fail(`trace ${traceId} did not reach Jaeger within ${deadlineMs} ms (spans so far: ${[...names].join(', ') || 'none'})`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}
console.log('PASS');
