import type { ExportResult } from '@opentelemetry/core';
import {
  convertLegacyOtlpGrpcOptions,
  createOtlpGrpcExportDelegate,
  type OTLPGRPCExporterConfigNode,
} from '@opentelemetry/otlp-grpc-exporter-base';
import { ProtobufTraceSerializer, type IExportTraceServiceResponse } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';

/**
 * Spans held for export as the bytes of an OTLP ExportTraceServiceRequest instead of as SDK span
 * objects. A ReadableSpan costs a few kilobytes of heap (attribute objects, time tuples, the
 * references it keeps); its protobuf encoding a few hundred bytes. A buffer that must hold tens
 * of thousands of spans through a collector outage holds them encoded, and a retry sends the
 * same bytes again instead of serializing again.
 */
export interface EncodedSpans {
  readonly bytes: Uint8Array;
  /** Spans in bytes: the unit the buffer is bounded and counted in. */
  readonly count: number;
}

/** Encodes spans once, when they enter the buffer. */
export function encodeSpans(spans: readonly ReadableSpan[]): EncodedSpans {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans as ReadableSpan[]);
  if (!bytes) throw new Error('OTLP protobuf serialization of spans failed');
  return { bytes, count: spans.length };
}

/**
 * One request out of several. Protobuf merges a repeated field across concatenated messages, so
 * the concatenation of ExportTraceServiceRequests is the request holding all their resource_spans.
 */
export function concatEncoded(parts: readonly EncodedSpans[]): EncodedSpans {
  if (parts.length === 1 && parts[0]) return parts[0];
  return { bytes: Buffer.concat(parts.map((p) => p.bytes)), count: parts.reduce((sum, p) => sum + p.count, 0) };
}

/** What RetryingSpanExporter needs from its inner exporter, for a batch type B. */
export interface BatchExporter<B> {
  export(batch: B, resultCallback: (result: ExportResult) => void): void;
  shutdown(): Promise<void>;
}

/**
 * The OTLP/gRPC trace exporter of @opentelemetry/exporter-trace-otlp-grpc (same configuration from
 * OTEL_EXPORTER_OTLP_* and the same transport, retries and self-observability metrics), fed with
 * already encoded requests.
 */
export function createEncodedOtlpGrpcTraceExporter(config: OTLPGRPCExporterConfigNode = {}): BatchExporter<EncodedSpans> {
  const delegate = createOtlpGrpcExportDelegate<EncodedSpans, IExportTraceServiceResponse>(
    // Deprecated for applications, yet the one public way to read OTEL_EXPORTER_OTLP_* the way
    // OTLPTraceExporter does (it calls the same function).
    // eslint-disable-next-line @typescript-eslint/no-deprecated
    convertLegacyOtlpGrpcOptions(config, 'TRACES'),
    { serializeRequest: (batch) => batch.bytes, deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data) },
    'otlp_grpc_span_exporter',
    { name: 'span', countItems: (batch) => batch.count },
    undefined,
    'TraceExportService',
    '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  );
  return {
    export: (batch, resultCallback) => delegate.export(batch, resultCallback),
    shutdown: () => delegate.shutdown(),
  };
}
