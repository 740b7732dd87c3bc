import * as grpc from '@grpc/grpc-js';
import { diag } from '@opentelemetry/api';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { convertLegacyOtlpGrpcOptions, type OTLPGRPCExporterConfigNode } from '@opentelemetry/otlp-grpc-exporter-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
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

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const identity = (bytes: Buffer): Buffer => bytes;

/**
 * grpc-js grows its reconnect backoff to 120 s by default: after a minute-long collector outage
 * the exporter sat out 25 s of a collector that was back (measured; 8.5 s with a 5 s cap),
 * dropping what arrived meanwhile. The retrying buffer paces the attempts (backoff up to 5 s);
 * the channel only has to be ready when one comes, so it retries its connection every second.
 */
export const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.initial_reconnect_backoff_ms': 250,
  'grpc.min_reconnect_backoff_ms': 250,
  'grpc.max_reconnect_backoff_ms': 1_000,
};

/**
 * An OTLP/gRPC trace exporter for already encoded requests. Its configuration (endpoint, TLS
 * files, headers, compression, timeout from config or OTEL_EXPORTER_OTLP_*) is read by the same
 * function @opentelemetry/exporter-trace-otlp-grpc uses; the transport is our own only to set
 * the channel's reconnect backoff, which the stock transport does not expose. It does not retry:
 * the RetryingSpanExporter in front of it does.
 */
export function createEncodedOtlpGrpcTraceExporter(config: OTLPGRPCExporterConfigNode = {}): BatchExporter<EncodedSpans> {
  // Deprecated for applications, yet the one public way to read OTEL_EXPORTER_OTLP_* the way
  // OTLPTraceExporter does (it calls the same function).
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const options = convertLegacyOtlpGrpcOptions(config, 'TRACES');
  let client: grpc.Client | undefined;
  let metadata: grpc.Metadata | undefined;
  const connect = (): grpc.Client => {
    metadata ??= options.metadata();
    client ??= new grpc.Client(options.url, options.credentials(), {
      ...CHANNEL_OPTIONS,
      'grpc.default_compression_algorithm':
        options.compression === 'gzip' ? grpc.compressionAlgorithms.gzip : grpc.compressionAlgorithms.identity,
      'grpc.primary_user_agent': `tracebridge-api ${options.userAgent ?? ''}`.trim(),
    });
    return client;
  };
  return {
    export(batch, resultCallback) {
      let channel: grpc.Client;
      try {
        channel = connect();
      } catch (error) {
        resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
        return;
      }
      channel.makeUnaryRequest<Buffer, Buffer>(
        EXPORT_PATH,
        identity,
        identity,
        Buffer.from(batch.bytes.buffer, batch.bytes.byteOffset, batch.bytes.byteLength),
        metadata ?? new grpc.Metadata(),
        { deadline: Date.now() + options.timeoutMillis },
        (error, response) => {
          if (error) {
            resultCallback({ code: ExportResultCode.FAILED, error });
            return;
          }
          warnOnPartialSuccess(response);
          resultCallback({ code: ExportResultCode.SUCCESS });
        },
      );
    },
    shutdown() {
      client?.close();
      client = undefined;
      return Promise.resolve();
    },
  };
}

/** A collector that accepted only part of a request says so in the response; it is not retried. */
function warnOnPartialSuccess(response: Buffer | undefined): void {
  if (!response?.length) return;
  try {
    const partial = ProtobufTraceSerializer.deserializeResponse(response).partialSuccess;
    const rejected = partial?.rejectedSpans ?? 0;
    if (rejected > 0 || partial?.errorMessage) {
      diag.warn(`OTLP export partially rejected: ${rejected} spans (${partial?.errorMessage ?? 'no message'})`);
    }
  } catch {
    diag.warn('OTLP export succeeded but its response could not be decoded');
  }
}
