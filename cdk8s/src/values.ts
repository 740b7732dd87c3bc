import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import { parse } from 'yaml';

/**
 * The chart's values, for the cdk8s app: the same defaults (charts/tracebridge/values.yaml),
 * merged with Helm's rule, checked by the same schema (values.schema.json) and the same
 * "impossible combination" rules as templates/validate.yaml, with the same messages.
 */

export const chartDir = fileURLToPath(new URL('../../charts/tracebridge/', import.meta.url));

// ---- types: one interface per values.yaml section -------------------------------------------

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';
export interface ImageValues {
  repository: string;
  tag: string;
  pullPolicy: PullPolicy;
}
/** A Kubernetes quantity as the chart takes it: "100m", "1Gi", or a plain number. */
export type Quantity = string | number;
export interface ResourceList {
  cpu?: Quantity;
  memory?: Quantity;
  'ephemeral-storage'?: Quantity;
}
export interface ResourcesValues {
  requests: ResourceList;
  limits: ResourceList;
}
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';
/** Passed through to the pod spec as given (the schema only checks they are objects). */
export type Json = string | number | boolean | null | Json[] | { [key: string]: Json };
export type JsonObject = Record<string, Json>;

/**
 * Optional maps and lists the chart renders with `{{- with }}`: a null in the values (Helm's
 * way to delete a default) removes them, which the chart accepts, and so do the constructs.
 */
export interface SchedulingValues {
  nodeSelector?: Record<string, string>;
  tolerations?: JsonObject[];
  affinity?: JsonObject;
  podAnnotations?: Record<string, string>;
}

export interface ApiValues extends SchedulingValues {
  image: ImageValues;
  replicas: number;
  environment: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  samplingRatio: number;
  ormTracing: boolean;
  nPlusOneThreshold: number;
  pool: { max: number; acquireTimeoutMs: number; statementTimeoutMs: number };
  /** NODE_OPTIONS; empty leaves Node's defaults. */
  nodeOptions: string;
  extraEnv?: JsonObject[];
  resources: ResourcesValues;
  service: { type: ServiceType; port: number };
  metricsPort: number;
  migrations: { enabled: boolean };
  autoscaling: { enabled: boolean; minReplicas: number; maxReplicas: number; targetCPUUtilizationPercentage: number };
  podDisruptionBudget: { enabled: boolean; minAvailable: number | string };
}

export interface PostgresqlValues {
  enabled: boolean;
  image: ImageValues;
  database: string;
  username: string;
  existingSecret: string;
  passwordKey: string;
  persistence: { size: string; storageClass: string };
  resources: ResourcesValues;
}

export interface ExternalDatabaseValues {
  host: string;
  port: number;
  database: string;
  username: string;
  existingSecret: string;
  passwordKey: string;
  ssl: boolean;
}

export type DatadogSite =
  | 'datadoghq.com'
  | 'us3.datadoghq.com'
  | 'us5.datadoghq.com'
  | 'datadoghq.eu'
  | 'ap1.datadoghq.com'
  | 'ap2.datadoghq.com'
  | 'ddog-gov.com';

export interface DestinationsValues {
  jaeger: { enabled: boolean; endpoint: string };
  grafanaCloud: { enabled: boolean; endpoint: string; existingSecret: string; instanceIdKey: string; apiTokenKey: string };
  datadog: { enabled: boolean; site: DatadogSite; existingSecret: string; apiKeyKey: string };
  otlp: {
    enabled: boolean;
    endpoint: string;
    protocol: 'grpc' | 'http';
    insecure: boolean;
    existingSecret: string;
    authorizationKey: string;
  };
  debug: { enabled: boolean; verbosity: 'basic' | 'normal' | 'detailed' };
}

export interface DestinationCredentialsValues {
  create: boolean;
  grafanaCloud: { instanceId: string | number; apiToken: string };
  datadog: { apiKey: string };
  otlp: { authorization: string };
}

export interface CollectorValues extends SchedulingValues {
  image: ImageValues;
  replicas: number;
  scrapeInterval: string;
  resources: ResourcesValues;
  service: { type: ServiceType };
}

export interface JaegerValues {
  enabled: boolean;
  image: ImageValues;
  maxTraces: number;
  resources: ResourcesValues;
}

export interface PrometheusValues {
  enabled: boolean;
  image: ImageValues;
  scrapeInterval: string;
  retention: string;
  resources: ResourcesValues;
}

export interface GrafanaValues {
  enabled: boolean;
  image: ImageValues;
  adminUser: string;
  existingSecret: string;
  passwordKey: string;
  resources: ResourcesValues;
}

/** Every key of charts/tracebridge/values.yaml; values.schema.json is the authority. */
export interface TracebridgeValues {
  global?: JsonObject;
  nameOverride: string;
  fullnameOverride: string;
  commonLabels?: Record<string, string>;
  imagePullSecrets?: { name: string }[];
  api: ApiValues;
  postgresql: PostgresqlValues;
  externalDatabase: ExternalDatabaseValues;
  destinations: DestinationsValues;
  destinationCredentials: DestinationCredentialsValues;
  collector: CollectorValues;
  jaeger: JaegerValues;
  prometheus: PrometheusValues;
  grafana: GrafanaValues;
  networkPolicy: { enabled: boolean };
  tests: { enabled: boolean };
}

/** What a caller gives: any part of the values; the rest comes from the chart's defaults. */
export type DeepPartial<T> = T extends (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> | null } : T;
export type ValuesInput = DeepPartial<TracebridgeValues>;

/** The chart's name, version and appVersion (Chart.yaml): labels and the API's default tag. */
export interface ChartInfo {
  name: string;
  version: string;
  appVersion: string;
}

export function chartInfo(): ChartInfo {
  const chart = parse(readFileSync(`${chartDir}Chart.yaml`, 'utf8')) as { name: string; version: string | number; appVersion: string | number };
  return { name: chart.name, version: String(chart.version), appVersion: String(chart.appVersion) };
}

// ---- merging ---------------------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Helm's merge of several values files (`--values a --values b`): b's keys win, mappings merge
 * key by key, lists and scalars replace, and a null is kept (it deletes a default later).
 */
export function mergeUserValues(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const current = out[key];
    out[key] = isObject(current) && isObject(value) ? mergeUserValues(current, value) : structuredClone(value);
  }
  return out;
}

/**
 * Helm's coalescing of the user's values onto the chart's defaults: mappings merge key by key,
 * lists and scalars replace, and null deletes the key (how a user removes a default).
 */
export function mergeValues(defaults: Record<string, unknown>, user: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(user)) {
    const current = out[key];
    if (value === null) Reflect.deleteProperty(out, key);
    else if (isObject(current) && isObject(value)) out[key] = mergeValues(current, value);
    else out[key] = structuredClone(value);
  }
  return out;
}

export function chartDefaults(): Record<string, unknown> {
  return parse(readFileSync(`${chartDir}values.yaml`, 'utf8')) as Record<string, unknown>;
}

export function readValuesFile(file: string): Record<string, unknown> {
  const parsed = parse(readFileSync(file, 'utf8')) as unknown;
  if (parsed === null || parsed === undefined) return {};
  if (!isObject(parsed)) throw new ValuesError([`${file}: a values file must be a mapping`]);
  return parsed;
}

// ---- checking --------------------------------------------------------------------------------

/** Values that cannot be deployed; each problem says what to change. */
export class ValuesError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(problems.join('\n'));
    this.name = 'ValuesError';
    this.problems = problems;
  }
}

let compiled: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null } | undefined;
function schemaValidator() {
  if (!compiled) {
    const schema = JSON.parse(readFileSync(`${chartDir}values.schema.json`, 'utf8')) as Record<string, unknown>;
    compiled = new Ajv2020({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true }).compile(schema);
  }
  return compiled;
}

function describe(error: ErrorObject): string {
  const at = error.instancePath === '' ? '(root)' : error.instancePath.slice(1).replaceAll('/', '.');
  const params = error.params as Record<string, unknown>;
  if (error.keyword === 'additionalProperties') return `${at}: additional property '${String(params.additionalProperty)}' not allowed`;
  if (error.keyword === 'not') {
    const schema = error.schema as { const?: unknown };
    return `${at}: must not be ${JSON.stringify('const' in schema ? schema.const : schema)}`;
  }
  if (error.keyword === 'enum') return `${at}: must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
  return `${at}: ${error.message ?? error.keyword}`;
}

/** values.schema.json, as Helm applies it to the merged values: every violation, path first. */
export function schemaProblems(values: unknown): string[] {
  const validate = schemaValidator();
  if (validate(values)) return [];
  // oneOf reports each failed branch and then itself; keep the summary lines readable.
  return [...new Set((validate.errors ?? []).map(describe))];
}

/** Go's %q for the strings these messages quote. */
function goQuote(s: string): string {
  const escapes: Record<string, string> = { '\u0007': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0) ?? 0;
    if (escapes[ch]) out += escapes[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `"${out}"`;
}

/** Sprig's compact: drops "", 0, false, null. */
const nonEmpty = (v: unknown) => v !== '' && v !== 0 && v !== false && v !== null && v !== undefined;

/**
 * templates/validate.yaml, the same checks in the same order with the same messages: the first
 * failing one (as Helm stops at its first `fail`), or undefined when the values are deployable.
 */
export function combinationProblem(v: TracebridgeValues): string | undefined {
  const d = v.destinations;
  const creds = v.destinationCredentials;

  if (!(d.jaeger.enabled || d.grafanaCloud.enabled || d.datadog.enabled || d.otlp.enabled || d.debug.enabled)) {
    return 'no destination enabled: set destinations.<jaeger|grafanaCloud|datadog|otlp|debug>.enabled=true (the collector needs at least one exporter)';
  }

  if (d.jaeger.enabled && !d.jaeger.endpoint && !v.jaeger.enabled) {
    return 'destinations.jaeger is enabled but there is no Jaeger to send to: set jaeger.enabled=true for the in-cluster one, or destinations.jaeger.endpoint=<host>:4317';
  }
  if (d.jaeger.endpoint && /^[a-z]+:\/\//.test(d.jaeger.endpoint)) {
    return `destinations.jaeger.endpoint ${goQuote(d.jaeger.endpoint)}: give host:port of Jaeger's OTLP/gRPC receiver, without a scheme (e.g. jaeger-collector.observability:4317)`;
  }

  if (d.grafanaCloud.enabled) {
    const endpoint = d.grafanaCloud.endpoint;
    if (!endpoint) {
      return 'destinations.grafanaCloud.endpoint is required: your stack\'s OTLP gateway URL, e.g. https://otlp-gateway-prod-eu-west-2.grafana.net/otlp (Grafana Cloud portal > your stack > OpenTelemetry)';
    }
    if (!endpoint.startsWith('https://')) {
      return `destinations.grafanaCloud.endpoint ${goQuote(endpoint)}: Grafana Cloud's OTLP gateway speaks OTLP/HTTP over TLS; use the https:// URL ending in /otlp, not a gRPC host:port`;
    }
    if (/\/v1\/(traces|metrics|logs)\/?$/.test(endpoint)) {
      return `destinations.grafanaCloud.endpoint ${goQuote(endpoint)}: give the base URL ending in /otlp; the exporter appends /v1/traces and /v1/metrics itself`;
    }
    if (!d.grafanaCloud.existingSecret && !(creds.create && nonEmpty(creds.grafanaCloud.instanceId) && creds.grafanaCloud.apiToken)) {
      return 'destinations.grafanaCloud needs credentials: create a Secret (kubectl create secret generic grafana-cloud --from-literal=instance-id=<id> --from-literal=api-token=<token>) and set destinations.grafanaCloud.existingSecret=grafana-cloud';
    }
  }

  if (d.datadog.enabled && !d.datadog.existingSecret && !(creds.create && creds.datadog.apiKey)) {
    return 'destinations.datadog needs an API key reference: kubectl create secret generic datadog --from-literal=api-key=<key>, then set destinations.datadog.existingSecret=datadog';
  }

  if (d.otlp.enabled) {
    if (!d.otlp.endpoint) return 'destinations.otlp.endpoint is required (host:port for protocol grpc, a URL for protocol http)';
    if (d.otlp.protocol === 'http' && !/^https?:\/\//.test(d.otlp.endpoint)) {
      return `destinations.otlp.endpoint ${goQuote(d.otlp.endpoint)}: protocol http needs a URL (https://host/otlp); for host:port set destinations.otlp.protocol=grpc`;
    }
    if (d.otlp.protocol === 'grpc' && /\/v1\/traces\/?$/.test(d.otlp.endpoint)) {
      return `destinations.otlp.endpoint ${goQuote(d.otlp.endpoint)} looks like an OTLP/HTTP path: set destinations.otlp.protocol=http and give the base URL`;
    }
  }

  for (const name of ['grafanaCloud', 'datadog', 'otlp'] as const) {
    const destination = d[name];
    if (destination.enabled && destination.existingSecret && creds.create && Object.values(creds[name]).filter(nonEmpty).length !== 0) {
      return `destinations.${name}: both existingSecret and destinationCredentials.${name} are set; keep one`;
    }
  }

  if (!v.postgresql.enabled) {
    if (!v.externalDatabase.host) return 'postgresql.enabled=false needs externalDatabase.host (and externalDatabase.existingSecret with the password)';
    if (!v.externalDatabase.existingSecret) {
      return 'externalDatabase.existingSecret is required: kubectl create secret generic tracebridge-db --from-literal=password=<password>, then set externalDatabase.existingSecret=tracebridge-db';
    }
  }

  if (v.grafana.enabled && !v.prometheus.enabled) {
    return 'grafana.enabled=true needs prometheus.enabled=true: the dashboards query the in-cluster Prometheus';
  }

  if (v.api.autoscaling.enabled && v.api.autoscaling.maxReplicas < v.api.autoscaling.minReplicas) {
    return 'api.autoscaling.maxReplicas must be at least api.autoscaling.minReplicas';
  }
  return undefined;
}

/**
 * The values the stack is built from: the inputs merged in order (Helm's `--values a --values
 * b`), coalesced onto the chart's defaults, checked by the schema and then by validate.yaml's
 * rules. Throws ValuesError listing what is wrong.
 */
export function resolveValues(...inputs: (ValuesInput | Record<string, unknown>)[]): TracebridgeValues {
  const user = inputs.reduce<Record<string, unknown>>((a, b) => mergeUserValues(a, b), {});
  const merged = mergeValues(chartDefaults(), user);
  const problems = schemaProblems(merged);
  if (problems.length > 0) throw new ValuesError(problems.map((p) => `values don't meet the schema: ${p}`));
  const values = merged as unknown as TracebridgeValues;
  const problem = combinationProblem(values);
  if (problem) throw new ValuesError([problem]);
  return values;
}

/** resolveValues over values files (the CLI's --values, in order). */
export const loadValues = (files: readonly string[]): TracebridgeValues => resolveValues(...files.map(readValuesFile));
