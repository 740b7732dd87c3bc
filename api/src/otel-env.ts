/**
 * The environment variables of the OpenTelemetry specification: the SDK's
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/), the
 * OTLP exporter's (https://opentelemetry.io/docs/specs/otel/protocol/exporter/), the
 * Prometheus exporter's, the semantic conventions' and opentelemetry-js' Node-specific ones.
 * Platform tooling (the OpenTelemetry Operator, other charts, base manifests) sets these on
 * every pod, so the API accepts them all; config.ts decides which values it can honour.
 * opentelemetry-js exports no list of the names it reads; a unit test checks that every name
 * the installed @opentelemetry/* packages read is in this one.
 */

const OTLP_SETTINGS = ['ENDPOINT', 'HEADERS', 'INSECURE', 'CERTIFICATE', 'CLIENT_KEY', 'CLIENT_CERTIFICATE', 'COMPRESSION', 'TIMEOUT', 'PROTOCOL'];

export const OTEL_SPEC_ENV: readonly string[] = [
  // General SDK configuration.
  'OTEL_SDK_DISABLED',
  'OTEL_RESOURCE_ATTRIBUTES',
  'OTEL_SERVICE_NAME',
  'OTEL_LOG_LEVEL',
  'OTEL_PROPAGATORS',
  'OTEL_TRACES_SAMPLER',
  'OTEL_TRACES_SAMPLER_ARG',
  'OTEL_CONFIG_FILE',
  // Batch span and log record processors.
  ...['BSP', 'BLRP'].flatMap((processor) =>
    ['SCHEDULE_DELAY', 'EXPORT_TIMEOUT', 'MAX_QUEUE_SIZE', 'MAX_EXPORT_BATCH_SIZE'].map((setting) => `OTEL_${processor}_${setting}`),
  ),
  // Attribute, span, event, link and log record limits.
  'OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_SPAN_EVENT_COUNT_LIMIT',
  'OTEL_SPAN_LINK_COUNT_LIMIT',
  'OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT',
  'OTEL_LINK_ATTRIBUTE_COUNT_LIMIT',
  // opentelemetry-js' older names of the two above.
  'OTEL_SPAN_ATTRIBUTE_PER_EVENT_COUNT_LIMIT',
  'OTEL_SPAN_ATTRIBUTE_PER_LINK_COUNT_LIMIT',
  'OTEL_LOGRECORD_ATTRIBUTE_VALUE_LENGTH_LIMIT',
  'OTEL_LOGRECORD_ATTRIBUTE_COUNT_LIMIT',
  // Exporter selection.
  'OTEL_TRACES_EXPORTER',
  'OTEL_METRICS_EXPORTER',
  'OTEL_LOGS_EXPORTER',
  // OTLP exporter, for all signals and per signal.
  ...['', 'TRACES_', 'METRICS_', 'LOGS_'].flatMap((signal) => OTLP_SETTINGS.map((setting) => `OTEL_EXPORTER_OTLP_${signal}${setting}`)),
  'OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE',
  'OTEL_EXPORTER_OTLP_METRICS_DEFAULT_HISTOGRAM_AGGREGATION',
  // Zipkin and Prometheus exporters.
  'OTEL_EXPORTER_ZIPKIN_ENDPOINT',
  'OTEL_EXPORTER_ZIPKIN_TIMEOUT',
  'OTEL_EXPORTER_PROMETHEUS_HOST',
  'OTEL_EXPORTER_PROMETHEUS_PORT',
  // Metrics SDK.
  'OTEL_METRIC_EXPORT_INTERVAL',
  'OTEL_METRIC_EXPORT_TIMEOUT',
  'OTEL_METRICS_EXEMPLAR_FILTER',
  // Semantic conventions.
  'OTEL_SEMCONV_STABILITY_OPT_IN',
  'OTEL_INSTRUMENTATION_HTTP_KNOWN_METHODS',
  // opentelemetry-js on Node.
  'OTEL_NODE_RESOURCE_DETECTORS',
  'OTEL_NODE_ENABLED_INSTRUMENTATIONS',
  'OTEL_NODE_DISABLED_INSTRUMENTATIONS',
  'OTEL_NODE_EXPERIMENTAL_SDK_METRICS',
];
