import * as grpc from '@grpc/grpc-js';
import { randomBytes } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import protobuf from 'protobufjs';
import { OTLP_TRACE_PROTO, TRACE_EXPORT_PATH } from '../support/otlp-receiver.ts';
import { freePort } from '../support/ports.ts';
import { parsePrometheus, type Sample } from '../support/prometheus.ts';

/**
 * OTLP load for the collector figures (5 and 8): stand-in backends that acknowledge without
 * decoding, Export requests of API-shaped traces, an open-loop OTLP/gRPC client, and the
 * collector's own counters.
 */

const METRICS_EXPORT_PATH = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';
export const SPANS_PER_TRACE = 5;
export const SPANS_PER_REQUEST = 500;
const TRACES_PER_REQUEST = SPANS_PER_REQUEST / SPANS_PER_TRACE;
export const MAX_IN_FLIGHT = 16;

// ---- stand-ins ------------------------------------------------------------------------------

export interface Counter {
  requests: number;
  bytes: number;
}

/** An OTLP/gRPC backend (traces and metrics) that acknowledges without decoding. */
export async function grpcSink(): Promise<{ port: number; counts: Counter; close: () => void }> {
  const counts: Counter = { requests: 0, bytes: 0 };
  const method = (path: string): grpc.MethodDefinition<Buffer, Buffer> => ({
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: (b: Buffer) => b,
    requestDeserialize: (b: Buffer) => b,
    responseSerialize: (b: Buffer) => b,
    responseDeserialize: (b: Buffer) => b,
  });
  const handler: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    counts.requests++;
    counts.bytes += call.request.length;
    // An empty message is zero bytes: a full success without partial_success.
    callback(null, Buffer.alloc(0));
  };
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024 });
  server.addService({ Export: method(TRACE_EXPORT_PATH) }, { Export: handler });
  server.addService({ Export: method(METRICS_EXPORT_PATH) }, { Export: handler });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound)));
  });
  return { port, counts, close: () => server.forceShutdown() };
}

export async function httpSink(handle: (path: string, headers: Record<string, string | string[] | undefined>) => { status: number; type: string; body: string }) {
  const counts: Counter = { requests: 0, bytes: 0 };
  const server: HttpServer = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => {
      counts.requests++;
      counts.bytes += bytes;
      const reply = handle((req.url ?? '').split('?')[0]!, req.headers);
      res.writeHead(reply.status, { 'content-type': reply.type }).end(reply.body);
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, counts, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// ---- the load generator ---------------------------------------------------------------------

const root = new protobuf.Root();
for (const text of Object.values(OTLP_TRACE_PROTO)) protobuf.parse(text, root);
root.resolveAll();
const ExportRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');

const str = (key: string, value: string) => ({ key, value: { stringValue: value } });
const int = (key: string, value: number) => ({ key, value: { intValue: value } });

/** One Export request, encoded, and where each of its traces' ID sits in the bytes. */
export interface Payload {
  body: Buffer;
  /** Per trace: the byte offsets of its 16-byte trace ID (one per span). */
  traceIdOffsets: number[][];
}

/**
 * One Export request of TRACES_PER_REQUEST whole traces shaped like the API's GET /users/:id
 * trace (a SERVER root and four children). Every `serverErrorEvery`-th trace's root answered 503.
 */
export function payload(options: { serverErrorEvery?: number } = {}): Payload {
  const now = BigInt(Date.now()) * 1_000_000n;
  const traceIds: Buffer[] = [];
  const spans: unknown[] = [];
  for (let t = 0; t < TRACES_PER_REQUEST; t++) {
    const traceId = randomBytes(16);
    traceIds.push(traceId);
    const ids = Array.from({ length: SPANS_PER_TRACE }, () => randomBytes(8));
    const start = now - BigInt(t) * 100_000n;
    const span = (i: number, parent: number | null, name: string, kind: number, offset: number, duration: number, attributes: unknown[]) => ({
      traceId,
      spanId: ids[i],
      parentSpanId: parent === null ? undefined : ids[parent],
      name,
      kind,
      startTimeUnixNano: (start + BigInt(offset)).toString(),
      endTimeUnixNano: (start + BigInt(offset + duration)).toString(),
      attributes,
      status: {},
    });
    const id = 1 + (t % 1000);
    const db = [str('db.system.name', 'postgresql'), str('db.namespace', 'tracebridge')];
    spans.push(
      span(0, null, 'GET /users/:id', 2, 0, 2_400_000, [
        str('http.request.method', 'GET'),
        str('http.route', '/users/:id'),
        str('url.path', `/users/${id}`),
        str('url.scheme', 'http'),
        str('server.address', '127.0.0.1'),
        int('server.port', 8000),
        str('network.peer.address', '127.0.0.1'),
        int('network.peer.port', 40000 + t),
        str('network.protocol.version', '1.1'),
        str('user_agent.original', 'bench/1.0'),
        int('http.response.status_code', options.serverErrorEvery && t % options.serverErrorEvery === 0 ? 503 : 200),
      ]),
      span(1, 0, 'db.query.find', 1, 200_000, 800_000, [...db, str('db.collection.name', 'users'), str('db.operation.name', 'find'), int('db.response.returned_rows', 1)]),
      span(2, 1, 'pg.query:SELECT tracebridge', 3, 250_000, 600_000, [
        ...db,
        str('db.operation.name', 'SELECT'),
        str('db.query.text', 'select "users".* from "users" where "users"."id" = $1'),
        str('server.address', '127.0.0.1'),
        int('server.port', 5432),
      ]),
      span(3, 0, 'db.relationship.load', 1, 1_100_000, 1_000_000, [
        ...db,
        str('db.collection.name', 'posts'),
        str('db.operation.name', 'find'),
        str('db.relationship.name', 'posts'),
        str('db.relationship.strategy', 'lazy'),
        int('db.response.returned_rows', 5),
      ]),
      span(4, 3, 'pg.query:SELECT tracebridge', 3, 1_150_000, 800_000, [
        ...db,
        str('db.operation.name', 'SELECT'),
        str('db.query.text', 'select "posts".* from "posts" where "posts"."author_id" in ($1) order by "id" asc'),
        str('server.address', '127.0.0.1'),
        int('server.port', 5432),
      ]),
    );
  }
  const message = ExportRequest.fromObject({
    resourceSpans: [
      {
        resource: {
          attributes: [
            str('service.name', 'tracebridge-api'),
            str('service.version', '0.1.0'),
            str('deployment.environment.name', 'bench'),
            str('service.instance.id', 'tracebridge-api-7d9f8b6c5-x2k4p'),
            str('host.name', 'tracebridge-api-7d9f8b6c5-x2k4p'),
            str('k8s.pod.name', 'tracebridge-api-7d9f8b6c5-x2k4p'),
            str('k8s.namespace.name', 'tracebridge'),
            int('process.pid', 1),
            str('process.runtime.name', 'nodejs'),
            str('telemetry.sdk.language', 'nodejs'),
            str('telemetry.sdk.name', 'opentelemetry'),
            str('telemetry.sdk.version', '3.0.0'),
          ],
        },
        scopeSpans: [{ scope: { name: 'bench' }, spans }],
      },
    ],
  });
  const body = Buffer.from(ExportRequest.encode(message).finish());
  const traceIdOffsets = traceIds.map((id) => {
    const offsets: number[] = [];
    for (let at = body.indexOf(id); at >= 0; at = body.indexOf(id, at + id.length)) offsets.push(at);
    if (offsets.length !== SPANS_PER_TRACE) throw new Error(`trace ID found ${offsets.length} times in the payload, expected ${SPANS_PER_TRACE}`);
    return offsets;
  });
  return { body, traceIdOffsets };
}

/**
 * A copy of the payload with new random trace IDs: a tail-sampling gateway holds each trace by
 * its ID, so a reused ID would join a trace still waiting (or already decided).
 */
export function withFreshTraceIds(p: Payload): Buffer {
  const body = Buffer.from(p.body);
  const ids = randomBytes(16 * p.traceIdOffsets.length);
  p.traceIdOffsets.forEach((offsets, t) => {
    for (const at of offsets) ids.copy(body, at, t * 16, t * 16 + 16);
  });
  return body;
}

export interface OfferResult {
  offeredSpans: number;
  okSpans: number;
  errorSpans: number;
  seconds: number;
  /** Requests the generator could not send on time because MAX_IN_FLIGHT were outstanding. */
  late: number;
  errors: string[];
  /** Export call latencies, ms. */
  latencies: number[];
}

/** Sends payloads at `rate` spans/s for `seconds`, open loop (bounded in flight). */
export async function offer(client: grpc.Client, nextBody: () => Buffer, rate: number, seconds: number): Promise<OfferResult> {
  const result: OfferResult = { offeredSpans: 0, okSpans: 0, errorSpans: 0, seconds, late: 0, errors: [], latencies: [] };
  const perSecond = rate / SPANS_PER_REQUEST;
  const total = Math.max(1, Math.round(perSecond * seconds));
  let sent = 0;
  let inFlight = 0;
  const started = performance.now();
  let drained: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (drained = resolve));
  const send = () => {
    inFlight++;
    sent++;
    result.offeredSpans += SPANS_PER_REQUEST;
    const body = nextBody();
    const t0 = performance.now();
    client.makeUnaryRequest(TRACE_EXPORT_PATH, (b: Buffer) => b, (b: Buffer) => b, body, { deadline: Date.now() + 10_000 }, (error) => {
      inFlight--;
      result.latencies.push(performance.now() - t0);
      if (error) {
        result.errorSpans += SPANS_PER_REQUEST;
        if (result.errors.length < 5) result.errors.push(`${grpc.status[error.code]}: ${error.details}`);
      } else {
        result.okSpans += SPANS_PER_REQUEST;
      }
      if (sent >= total && inFlight === 0) drained();
    });
  };
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * perSecond) + 1);
      while (sent < due) {
        if (inFlight >= MAX_IN_FLIGHT) {
          result.late++;
          break;
        }
        send();
      }
      if (sent >= total) resolve();
      else setTimeout(tick, 5);
    };
    tick();
  });
  result.seconds = (performance.now() - started) / 1000;
  if (inFlight > 0) await done;
  return result;
}

// ---- collector metrics ------------------------------------------------------------------------

export const sum = (samples: Sample[], name: string, filter: (labels: Record<string, string>) => boolean = () => true) =>
  samples.filter((s) => s.name === name && filter(s.labels)).reduce((total, s) => total + s.value, 0);

export function byExporter(samples: Sample[], name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) if (s.name === name && s.labels.exporter) out[s.labels.exporter] = (out[s.labels.exporter] ?? 0) + s.value;
  return out;
}

export interface Scrape {
  accepted: number;
  refused: number;
  sent: Record<string, number>;
  sendFailed: number;
  enqueueFailed: number;
  queueSize: Record<string, number>;
}

/** The collector's own metrics (its Prometheus endpoint). */
export async function metrics(metricsUrl: string): Promise<Sample[]> {
  return parsePrometheus(await (await fetch(metricsUrl)).text());
}

/** The OTLP receiver's and the exporters' span counters. */
export async function scrape(metricsUrl: string, samples?: Sample[]): Promise<Scrape> {
  samples ??= await metrics(metricsUrl);
  const otlp = (labels: Record<string, string>) => labels.receiver === 'otlp';
  return {
    accepted: sum(samples, 'otelcol_receiver_accepted_spans', otlp),
    refused: sum(samples, 'otelcol_receiver_refused_spans', otlp) + sum(samples, 'otelcol_receiver_failed_spans', otlp),
    sent: byExporter(samples, 'otelcol_exporter_sent_spans'),
    sendFailed: sum(samples, 'otelcol_exporter_send_failed_spans'),
    enqueueFailed: sum(samples, 'otelcol_exporter_enqueue_failed_spans'),
    queueSize: byExporter(samples, 'otelcol_exporter_queue_size'),
  };
}


/** A rate the figure tried, and whether the collector kept up with it. */
export interface LadderStep {
  rate: number;
  sustained: boolean;
}

/**
 * Offers the rates in order until one is not sustained, then bisects `bisections` times
 * (to 500 spans/s) between the last sustained rate and the first that was not.
 */
export async function climb<S extends LadderStep>(ladder: number[], bisections: number, runStep: (rate: number) => Promise<S>): Promise<{ steps: S[]; pass?: S; fail?: S }> {
  const steps: S[] = [];
  let pass: S | undefined;
  let fail: S | undefined;
  for (const rate of ladder) {
    const step = await runStep(rate);
    steps.push(step);
    if (!step.sustained) {
      fail = step;
      break;
    }
    pass = step;
  }
  for (let i = 0; i < bisections && pass && fail; i++) {
    const rate = Math.round((pass.rate + fail.rate) / 2 / 500) * 500;
    if (rate <= pass.rate || rate >= fail.rate) break;
    const step = await runStep(rate);
    steps.push(step);
    if (step.sustained) pass = step;
    else fail = step;
  }
  return { steps, pass, fail };
}
