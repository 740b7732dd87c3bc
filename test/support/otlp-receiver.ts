/**
 * A real OTLP/gRPC trace receiver for tests: it stands where the Collector stands, so a test can
 * prove that spans leave the process over the wire, in the shape the Collector would decode.
 * An in-memory exporter cannot show that: it skips serialization, the transport and the
 * exporter's error handling, which is where telemetry gets lost in practice.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

/**
 * The OTLP trace schema, trimmed to what a trace receiver decodes, one entry per official file
 * (protobufjs takes one package per parsed text). Packages, messages and field numbers follow
 * opentelemetry-proto; fields left out (newer or unused ones) are skipped by the decoder as
 * unknown fields, exactly as an older Collector would skip them.
 */
export const OTLP_TRACE_PROTO: Readonly<Record<string, string>> = {
  'opentelemetry/proto/common/v1/common.proto': `
syntax = "proto3";

package opentelemetry.proto.common.v1;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}

message ArrayValue {
  repeated AnyValue values = 1;
}

message KeyValueList {
  repeated KeyValue values = 1;
}

message KeyValue {
  string key = 1;
  AnyValue value = 2;
}

message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
`,
  'opentelemetry/proto/resource/v1/resource.proto': `
syntax = "proto3";

package opentelemetry.proto.resource.v1;

message Resource {
  repeated opentelemetry.proto.common.v1.KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}
`,
  'opentelemetry/proto/trace/v1/trace.proto': `
syntax = "proto3";

package opentelemetry.proto.trace.v1;

message ResourceSpans {
  opentelemetry.proto.resource.v1.Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}

message ScopeSpans {
  opentelemetry.proto.common.v1.InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}

message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;

  enum SpanKind {
    SPAN_KIND_UNSPECIFIED = 0;
    SPAN_KIND_INTERNAL = 1;
    SPAN_KIND_SERVER = 2;
    SPAN_KIND_CLIENT = 3;
    SPAN_KIND_PRODUCER = 4;
    SPAN_KIND_CONSUMER = 5;
  }

  SpanKind kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated opentelemetry.proto.common.v1.KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;

  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated opentelemetry.proto.common.v1.KeyValue attributes = 3;
    uint32 dropped_attributes_count = 4;
  }

  repeated Event events = 11;
  uint32 dropped_events_count = 12;

  message Link {
    bytes trace_id = 1;
    bytes span_id = 2;
    string trace_state = 3;
    repeated opentelemetry.proto.common.v1.KeyValue attributes = 4;
    uint32 dropped_attributes_count = 5;
    fixed32 flags = 6;
  }

  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
}

message Status {
  reserved 1;
  string message = 2;

  enum StatusCode {
    STATUS_CODE_UNSET = 0;
    STATUS_CODE_OK = 1;
    STATUS_CODE_ERROR = 2;
  }

  StatusCode code = 3;
}
`,
  'opentelemetry/proto/collector/trace/v1/trace_service.proto': `
syntax = "proto3";

package opentelemetry.proto.collector.trace.v1;

service TraceService {
  rpc Export(ExportTraceServiceRequest) returns (ExportTraceServiceResponse) {}
}

message ExportTraceServiceRequest {
  repeated opentelemetry.proto.trace.v1.ResourceSpans resource_spans = 1;
}

message ExportTraceServiceResponse {
  ExportTracePartialSuccess partial_success = 1;
}

message ExportTracePartialSuccess {
  int64 rejected_spans = 1;
  string error_message = 2;
}
`,
};

/** The gRPC method path the OTLP exporters call; a typo here would be a silent UNIMPLEMENTED. */
export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

export type AttributeScalar = string | number | boolean;
export type AttributeValue = AttributeScalar | AttributeScalar[];
export type Attributes = Record<string, AttributeValue>;

export type ReceivedSpanKind = 'internal' | 'server' | 'client' | 'producer' | 'consumer' | 'unspecified';

/** One span as the receiver decoded it from the wire: plain data, easy to assert with toEqual. */
export interface ReceivedSpan {
  /** Lowercase hex, 32 characters. */
  traceId: string;
  /** Lowercase hex, 16 characters. */
  spanId: string;
  /** Lowercase hex; undefined for a root span (OTLP sends empty bytes). */
  parentSpanId: string | undefined;
  name: string;
  kind: ReceivedSpanKind;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  /** Flattened AnyValues: int64 becomes a number, bytes become hex, a kvlist becomes JSON. */
  attributes: Attributes;
  status: { code: 'unset' | 'ok' | 'error'; message?: string };
  events: { name: string; attributes: Attributes }[];
  /** Attributes of the resource the span was sent under (service.name and friends). */
  resource: Attributes;
  scope: { name: string; version?: string };
}

export interface OtlpReceiver {
  /** 'http://127.0.0.1:<port>', the form OTEL_EXPORTER_OTLP_ENDPOINT and the exporter's url take. */
  readonly endpoint: string;
  readonly port: number;
  /** Everything received so far, in arrival order; survives stop()/start(). */
  readonly spans: ReceivedSpan[];
  /** Export calls accepted (injected failures are not counted). */
  readonly requests: number;
  /** Request metadata of each accepted Export call, keys lowercase (for auth-header tests). */
  readonly headers: Record<string, string>[];
  /** Closes the server so the port refuses connections; recorded data is kept. */
  stop(): Promise<void>;
  /** Listens again on the same port: a Collector restart as the exporter sees it. */
  start(): Promise<void>;
  /** Final shutdown; start() is refused afterwards. */
  close(): Promise<void>;
  /**
   * Resolves with a snapshot of all spans once the predicate holds; rejects after timeoutMs
   * with the span tree received so far, so a failing test says what did arrive.
   */
  waitForSpans(predicate: (spans: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<ReceivedSpan[]>;
  /** The next n Export calls fail with that status without recording anything. */
  failNext(n: number, code: grpc.status): void;
}

export interface OtlpReceiverOptions {
  /** 0 or undefined picks a free port on 127.0.0.1. */
  port?: number;
  /** Serve TLS with this PEM key and certificate (the endpoint becomes https://localhost:port). */
  tls?: { key: Buffer; cert: Buffer };
}

// Shapes produced by Type.toObject with the conversion options below (longs as decimal
// strings, enums as numbers, bytes left as Uint8Array, absent scalars omitted).
interface PbAnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values?: PbAnyValue[] };
  kvlistValue?: { values?: PbKeyValue[] };
  bytesValue?: Uint8Array;
}
interface PbKeyValue {
  key?: string;
  value?: PbAnyValue;
}
interface PbEvent {
  name?: string;
  attributes?: PbKeyValue[];
}
interface PbSpan {
  traceId?: Uint8Array;
  spanId?: Uint8Array;
  parentSpanId?: Uint8Array;
  name?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: PbKeyValue[];
  events?: PbEvent[];
  status?: { message?: string; code?: number };
}
interface PbScopeSpans {
  scope?: { name?: string; version?: string };
  spans?: PbSpan[];
}
interface PbResourceSpans {
  resource?: { attributes?: PbKeyValue[] };
  scopeSpans?: PbScopeSpans[];
}
interface PbExportRequest {
  resourceSpans?: PbResourceSpans[];
}

const root = new protobuf.Root();
for (const text of Object.values(OTLP_TRACE_PROTO)) protobuf.parse(text, root);
root.resolveAll();
const ExportRequest = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest');
const ExportResponse = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse');
// A Collector answers a fully accepted request with an empty response (no partial_success).
const EMPTY_RESPONSE = Buffer.from(ExportResponse.encode(ExportResponse.create({})).finish());

function decodeRequest(bytes: Buffer): PbExportRequest {
  const message = ExportRequest.decode(bytes);
  // toObject is typed as a loose record; PbExportRequest is the shape these options produce.
  const plain: PbExportRequest = ExportRequest.toObject(message, { longs: String, enums: Number, defaults: false, arrays: true });
  return plain;
}

const traceServiceDefinition: grpc.ServiceDefinition = {
  Export: {
    path: TRACE_EXPORT_PATH,
    requestStream: false,
    responseStream: false,
    originalName: 'export',
    // grpc-js hands these already-decompressed bytes (grpc-encoding: gzip is handled below us).
    requestDeserialize: decodeRequest,
    requestSerialize: (value: PbExportRequest) => Buffer.from(ExportRequest.encode(ExportRequest.fromObject(value)).finish()),
    responseSerialize: () => EMPTY_RESPONSE,
    responseDeserialize: (bytes: Buffer) => ExportResponse.toObject(ExportResponse.decode(bytes)),
  },
};

const KINDS: readonly ReceivedSpanKind[] = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'];
const STATUS_CODES = ['unset', 'ok', 'error'] as const;

function hex(bytes: Uint8Array | undefined): string {
  return bytes ? Buffer.from(bytes).toString('hex') : '';
}

function scalarOf(value: PbAnyValue | undefined): AttributeScalar | AttributeScalar[] | undefined {
  if (!value) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  if (value.bytesValue !== undefined) return hex(value.bytesValue);
  if (value.arrayValue !== undefined) {
    // Nested arrays and kvlists cannot be array elements of an attribute; keep them legible.
    return (value.arrayValue.values ?? []).flatMap((item) => {
      const flat = scalarOf(item);
      if (flat === undefined) return [];
      return Array.isArray(flat) ? [JSON.stringify(flat)] : [flat];
    });
  }
  if (value.kvlistValue !== undefined) return JSON.stringify(attributesOf(value.kvlistValue.values));
  // An empty AnyValue (a null array element in JS) has no counterpart in the attribute type.
  return undefined;
}

function attributesOf(list: PbKeyValue[] | undefined): Attributes {
  const out: Attributes = {};
  for (const { key, value } of list ?? []) {
    const flat = scalarOf(value);
    if (key !== undefined && flat !== undefined) out[key] = flat;
  }
  return out;
}

function toReceivedSpans(request: PbExportRequest): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const resource = attributesOf(resourceSpans.resource?.attributes);
    for (const scopeSpans of resourceSpans.scopeSpans ?? []) {
      const scope: ReceivedSpan['scope'] = { name: scopeSpans.scope?.name ?? '' };
      if (scopeSpans.scope?.version) scope.version = scopeSpans.scope.version;
      for (const span of scopeSpans.spans ?? []) {
        const parent = hex(span.parentSpanId);
        const status: ReceivedSpan['status'] = { code: STATUS_CODES[span.status?.code ?? 0] ?? 'unset' };
        if (span.status?.message) status.message = span.status.message;
        spans.push({
          traceId: hex(span.traceId),
          spanId: hex(span.spanId),
          parentSpanId: parent === '' ? undefined : parent,
          name: span.name ?? '',
          kind: KINDS[span.kind ?? 0] ?? 'unspecified',
          startTimeUnixNano: BigInt(span.startTimeUnixNano ?? 0),
          endTimeUnixNano: BigInt(span.endTimeUnixNano ?? 0),
          attributes: attributesOf(span.attributes),
          status,
          events: (span.events ?? []).map((event) => ({ name: event.name ?? '', attributes: attributesOf(event.attributes) })),
          resource,
          scope: { ...scope },
        });
      }
    }
  }
  return spans;
}

function metadataRecord(metadata: grpc.Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) {
    out[key] = typeof value === 'string' ? value : value.toString('base64');
  }
  return out;
}

function isAddressInUse(error: Error): boolean {
  return /EADDRINUSE|address already in use/i.test(error.message);
}

function bind(server: grpc.Server, port: number, tls: OtlpReceiverOptions['tls']): Promise<number> {
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(null, [{ private_key: tls.key, cert_chain: tls.cert }], false)
    : grpc.ServerCredentials.createInsecure();
  return new Promise((resolve, reject) => {
    server.bindAsync(`127.0.0.1:${port}`, credentials, (error, bound) => {
      if (error) reject(error);
      else resolve(bound);
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Starts a receiver on 127.0.0.1 (a free port unless options.port is given). */
export async function startOtlpReceiver(options: OtlpReceiverOptions = {}): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const headers: Record<string, string>[] = [];
  let requests = 0;
  let failuresLeft = 0;
  let failureCode: grpc.status = grpc.status.UNAVAILABLE;
  let server: grpc.Server | undefined;
  let closed = false;
  let port = options.port ?? 0;

  const handleExport: grpc.handleUnaryCall<PbExportRequest, Buffer> = (call, callback) => {
    if (failuresLeft > 0) {
      failuresLeft -= 1;
      callback({ code: failureCode, details: `otlp-receiver: injected ${grpc.status[failureCode]}` });
      return;
    }
    let received: ReceivedSpan[];
    try {
      received = toReceivedSpans(call.request);
    } catch (error) {
      // What a Collector answers for data it cannot make sense of; the exporter drops it.
      callback({ code: grpc.status.INVALID_ARGUMENT, details: `otlp-receiver: ${String(error)}` });
      return;
    }
    requests += 1;
    headers.push(metadataRecord(call.metadata));
    spans.push(...received);
    callback(null, EMPTY_RESPONSE);
  };

  const listen = async (): Promise<void> => {
    // A fresh Server each time: a grpc-js Server cannot be bound again after shutdown.
    for (let attempt = 0; ; attempt += 1) {
      const next = new grpc.Server({ 'grpc.enable_channelz': 0 });
      next.addService(traceServiceDefinition, { Export: handleExport });
      try {
        port = await bind(next, port, options.tls);
        server = next;
        return;
      } catch (error) {
        next.forceShutdown();
        // The old listener's close completes on a later tick; only a port reuse may race it.
        if (port === 0 || attempt >= 40 || !(error instanceof Error) || !isAddressInUse(error)) throw error;
        await sleep(25);
      }
    }
  };

  const stop = async (): Promise<void> => {
    const current = server;
    server = undefined;
    if (!current) return;
    // Abrupt on purpose: a crashed or restarting Collector does not drain its clients.
    current.forceShutdown();
    await new Promise<void>((resolve) => setImmediate(resolve));
  };

  await listen();

  return {
    get endpoint() {
      // The test certificate names localhost; plain receivers keep the literal address.
      return options.tls ? `https://localhost:${port}` : `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    spans,
    get requests() {
      return requests;
    },
    headers,
    stop,
    async start() {
      if (closed) throw new Error('otlp-receiver: start() after close()');
      if (server) return;
      await listen();
    },
    async close() {
      closed = true;
      await stop();
    },
    async waitForSpans(predicate, timeoutMs = 5_000) {
      const deadline = Date.now() + timeoutMs;
      while (!predicate(spans)) {
        if (Date.now() >= deadline) {
          const tree = spanTree(spans);
          throw new Error(
            `otlp-receiver: condition not met within ${timeoutMs} ms; ${spans.length} span(s) in ${requests} request(s)` +
              (tree ? `:\n${tree}` : ''),
          );
        }
        await sleep(20);
      }
      return [...spans];
    },
    failNext(n, code) {
      failuresLeft = n;
      failureCode = code;
    },
  };
}

/** Spans grouped by trace id, each group in arrival order. */
export function byTrace(spans: readonly ReceivedSpan[]): Map<string, ReceivedSpan[]> {
  const traces = new Map<string, ReceivedSpan[]>();
  for (const span of spans) {
    const group = traces.get(span.traceId);
    if (group) group.push(span);
    else traces.set(span.traceId, [span]);
  }
  return traces;
}

function byStart(a: ReceivedSpan, b: ReceivedSpan): number {
  if (a.startTimeUnixNano !== b.startTimeUnixNano) return a.startTimeUnixNano < b.startTimeUnixNano ? -1 : 1;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/**
 * The span forest as text, one "name [kind]" line per span, indented two spaces per level and
 * siblings ordered by start time, so a test can assert a whole tree with toBe and get a
 * readable diff. Spans whose parent never arrived are listed as roots and marked, because a
 * broken parent link is the usual bug these tests look for. With rootName, only the subtrees
 * under spans of that name are printed.
 */
export function spanTree(spans: readonly ReceivedSpan[], rootName?: string): string {
  const ids = new Set(spans.map((span) => `${span.traceId}/${span.spanId}`));
  const children = new Map<string, ReceivedSpan[]>();
  for (const span of spans) {
    if (span.parentSpanId === undefined) continue;
    const key = `${span.traceId}/${span.parentSpanId}`;
    const list = children.get(key);
    if (list) list.push(span);
    else children.set(key, [span]);
  }
  const isOrphan = (span: ReceivedSpan) =>
    span.parentSpanId !== undefined && !ids.has(`${span.traceId}/${span.parentSpanId}`);
  const roots =
    rootName === undefined
      ? spans.filter((span) => span.parentSpanId === undefined || isOrphan(span))
      : spans.filter((span) => span.name === rootName);

  const lines: string[] = [];
  const visit = (span: ReceivedSpan, depth: number, seen: Set<ReceivedSpan>) => {
    // A span that is its own ancestor would loop forever; malformed input, so say so.
    if (seen.has(span)) {
      lines.push(`${'  '.repeat(depth)}${span.name} [${span.kind}] (cycle)`);
      return;
    }
    const orphan = depth === 0 && isOrphan(span) ? ` (parent ${span.parentSpanId ?? ''} not received)` : '';
    lines.push(`${'  '.repeat(depth)}${span.name} [${span.kind}]${orphan}`);
    const next = new Set(seen).add(span);
    for (const child of [...(children.get(`${span.traceId}/${span.spanId}`) ?? [])].sort(byStart)) {
      visit(child, depth + 1, next);
    }
  };
  for (const span of [...roots].sort(byStart)) visit(span, 0, new Set());
  return lines.join('\n');
}
