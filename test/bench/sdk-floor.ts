// `node test/bench/sdk-floor.ts RATIO`: the OpenTelemetry SDK's own cost for one GET /users/:id,
// with no instrumentation library and no I/O. It prints JSON: microseconds of CPU per request at
// that sampling ratio, for the request's span tree (a SERVER span with two nested spans and
// the attributes ours carry), the http.server.request.duration histogram, the batch processor
// and the OTLP protobuf encoding the API's exporter does. Figure 1 compares it with the
// measured overhead: what tracing must cost at least, against what it costs with our stack.
import { context, metrics, propagation, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { encodeSpans } from '../../api/src/telemetry/otlp-encoded.ts';

const ROUNDS = 5;
const REQUESTS_PER_ROUND = Number(process.env.SDK_FLOOR_REQUESTS ?? 40_000);

const server: Attributes = {
  'http.request.method': 'GET',
  'url.path': '/users/42',
  'url.scheme': 'http',
  'server.address': '127.0.0.1',
  'server.port': 8000,
  'network.protocol.version': '1.1',
  'network.peer.address': '127.0.0.1',
  'network.peer.port': 51234,
  'client.address': '127.0.0.1',
  'user_agent.original': 'autocannon',
};
const orm = (operation: string): Attributes => ({
  'db.system.name': 'postgresql',
  'db.namespace': 'tracebridge',
  'db.collection.name': 'users',
  'db.operation.name': operation,
  'db.response.returned_rows': 1,
});
const sql: Attributes = {
  'db.system.name': 'postgresql',
  'db.namespace': 'tracebridge',
  'db.query.text': 'select "users".* from "users" where "users"."id" = $1',
  'db.operation.name': 'SELECT',
  'server.address': '127.0.0.1',
  'server.port': 5432,
};

async function measure(ratio: number): Promise<number> {
  const exporter: SpanExporter = {
    export: (spans: ReadableSpan[], done) => {
      encodeSpans(spans);
      done({ code: ExportResultCode.SUCCESS });
    },
    shutdown: () => Promise.resolve(),
  };
  const sdk = new NodeSDK({
    sampler: new ParentBasedSampler({ root: ratio >= 1 ? new AlwaysOnSampler() : new TraceIdRatioBasedSampler(ratio) }),
    traceExporter: exporter,
    metricReaders: [new PrometheusExporter({ preventServerStart: true })],
    instrumentations: [],
  });
  sdk.start();
  const tracer = trace.getTracer('sdk-floor');
  const duration = metrics.getMeter('sdk-floor').createHistogram('http.server.request.duration', { unit: 's' });
  const headers = { host: '127.0.0.1:8000', 'user-agent': 'autocannon' };

  const child = async (name: string, kind: SpanKind, attributes: Attributes, inner?: () => Promise<void>) => {
    const span = tracer.startSpan(name, { kind, attributes });
    await context.with(trace.setSpan(context.active(), span), async () => {
      await inner?.();
      await Promise.resolve();
    });
    span.end();
  };
  const traced = async () => {
    const started = performance.now();
    const parent = propagation.extract(context.active(), headers);
    const span = tracer.startSpan('GET', { kind: SpanKind.SERVER, attributes: server }, parent);
    await context.with(trace.setSpan(parent, span), async () => {
      // One span per ORM query, carrying its SQL (no driver span under it), as the API traces them.
      await child('db.query.find', SpanKind.INTERNAL, { ...orm('find'), ...sql, 'db.operation.name': 'find' });
      await child('db.relationship.load', SpanKind.INTERNAL, { ...orm('load'), ...sql, 'db.operation.name': 'find' });
    });
    span.updateName('GET /users/:id');
    span.setAttributes({ 'http.route': '/users/:id', 'http.response.status_code': 200 });
    span.end();
    duration.record((performance.now() - started) / 1000, {
      'http.request.method': 'GET',
      'http.route': '/users/:id',
      'http.response.status_code': 200,
      'url.scheme': 'http',
      'network.protocol.version': '1.1',
    });
  };
  // The same awaits without telemetry: what the request costs anyway.
  const plain = async () => {
    const step = async (inner?: () => Promise<void>) => {
      await inner?.();
      await Promise.resolve();
    };
    await step();
    await step();
  };

  const cpuPerRequest = async (request: () => Promise<void>, count: number) => {
    const before = process.cpuUsage();
    for (let i = 0; i < count; i++) {
      await request();
      // Let the batch processor's timer run, as between requests.
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    const used = process.cpuUsage(before);
    return (used.user + used.system) / count;
  };

  await cpuPerRequest(traced, REQUESTS_PER_ROUND / 2);
  await cpuPerRequest(plain, REQUESTS_PER_ROUND / 2);
  const differences: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    differences.push((await cpuPerRequest(traced, REQUESTS_PER_ROUND)) - (await cpuPerRequest(plain, REQUESTS_PER_ROUND)));
  }
  await sdk.shutdown();
  return differences.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!;
}

const ratio = Number(process.argv[2]);
if (!(ratio > 0 && ratio <= 1)) {
  process.stderr.write('usage: node test/bench/sdk-floor.ts RATIO (0 < RATIO <= 1)\n');
  process.exit(2);
}
process.stdout.write(`${JSON.stringify({ ratio, cpuUsPerRequest: await measure(ratio) })}\n`);
