import * as grpc from '@grpc/grpc-js';
import { diag } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { convertLegacyOtlpGrpcOptions, type OTLPGRPCExporterConfigNode } from '@opentelemetry/otlp-grpc-exporter-base';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan } from '@opentelemetry/sdk-trace';
import type { BatchCodec, BatchExporter } from './exporter.ts';

/**
 * Spans held for export as the bytes of an OTLP ExportTraceServiceRequest instead of as SDK span
 * objects. A ReadableSpan costs a few kilobytes of heap (attribute objects, time tuples, the
 * references it keeps); its protobuf encoding a few hundred bytes. A buffer that must hold tens
 * of thousands of spans through a collector outage holds them encoded, and a retry sends the
 * same bytes again instead of serializing again.
 */
export function encodeSpans(spans: readonly ReadableSpan[]): Uint8Array {
  const bytes = ProtobufTraceSerializer.serializeRequest(spans as ReadableSpan[]);
  if (!bytes) throw new Error('OTLP protobuf serialization of spans failed');
  return bytes;
}

/**
 * One request out of several. Protobuf merges a repeated field across concatenated messages, so
 * the concatenation of ExportTraceServiceRequests is the request holding all their resource_spans.
 */
export const concatEncoded = (parts: readonly Uint8Array[]): Uint8Array =>
  parts.length === 1 && parts[0] ? parts[0] : Buffer.concat(parts);

/**
 * Spans encoded per event-loop turn: about as long as one request's own work (README,
 * Telemetry). The retrying buffer merges slices into requests of up to maxBatchSpans again.
 */
export const ENCODE_SLICE_SPANS = 32;

/** Batches for createEncodedOtlpGrpcTraceExporter; an encoded batch is dropped whole, never cut. */
export const encodedSpansCodec: BatchCodec<Uint8Array> = { encode: encodeSpans, concat: concatEncoded, encodeSlice: ENCODE_SLICE_SPANS };

const EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
const identity = (bytes: Buffer): Buffer => bytes;

/**
 * grpc-js grows its reconnect backoff to 120 s by default: after a minute-long collector outage
 * the exporter sat out 25 s of a collector that was back (measured; 8.5 s with a 5 s cap),
 * dropping what arrived meanwhile. The retrying buffer paces the attempts (backoff up to 5 s);
 * the channel only has to be ready when one comes, so it retries its connection every second.
 */
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
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
export function createEncodedOtlpGrpcTraceExporter(config: OTLPGRPCExporterConfigNode = {}): BatchExporter<Uint8Array> {
  // Deprecated for applications, yet the one public way to read OTEL_EXPORTER_OTLP_* the way
  // OTLPTraceExporter does (it calls the same function).
  // eslint-disable-next-line @typescript-eslint/no-deprecated
  const options = convertLegacyOtlpGrpcOptions(config, 'TRACES');
  // Made on first use, like the stock transport: a bad header or certificate fails the export, not startup.
  let channel: { client: grpc.Client; metadata: grpc.Metadata } | undefined;
  const connect = () =>
    (channel ??= {
      metadata: options.metadata(),
      client: new grpc.Client(options.url, options.credentials(), {
        ...CHANNEL_OPTIONS,
        'grpc.default_compression_algorithm':
          options.compression === 'gzip' ? grpc.compressionAlgorithms.gzip : grpc.compressionAlgorithms.identity,
        'grpc.primary_user_agent': `tracebridge-api ${options.userAgent ?? ''}`.trim(),
      }),
    });
  return {
    export(batch, resultCallback) {
      let connected: ReturnType<typeof connect>;
      try {
        connected = connect();
      } catch (error) {
        resultCallback({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
        return;
      }
      connected.client.makeUnaryRequest<Buffer, Buffer>(
        EXPORT_PATH,
        identity,
        identity,
        Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength),
        connected.metadata,
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
      channel?.client.close();
      channel = undefined;
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
