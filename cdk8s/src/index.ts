/**
 * tracebridge as cdk8s constructs: the same objects as the Helm chart charts/tracebridge, from
 * the same values (checked by the chart's values.schema.json). See cdk8s/README.md.
 */
export { TracebridgeChart, TracebridgeStack, type TracebridgeStackProps } from './stack.ts';
export { Api, type ApiProps, apiImage, databaseEnv } from './api.ts';
export { Postgresql, type PostgresqlProps } from './postgresql.ts';
export { Collector, type CollectorProps, collectorConfig } from './collector.ts';
export { DestinationCredentials, type DestinationCredentialsProps, collectorFragments, destinationEnv } from './destinations.ts';
export { Jaeger, type JaegerProps, jaegerConfig } from './jaeger.ts';
export { Prometheus, type PrometheusProps, prometheusConfig } from './prometheus.ts';
export { Grafana, type GrafanaProps, dashboards, datasourcesConfig } from './grafana.ts';
export { NetworkPolicies, type NetworkPoliciesProps } from './network-policies.ts';
export { type GeneratedSecretProps } from './common.ts';
export { componentName, fullname, labels, selectorLabels, MANAGED_BY, type StackContext } from './names.ts';
export {
  chartDefaults,
  chartInfo,
  combinationProblem,
  loadValues,
  mergeUserValues,
  mergeValues,
  readValuesFile,
  resolveValues,
  schemaProblems,
  ValuesError,
  type ChartInfo,
  type TracebridgeValues,
  type ValuesInput,
} from './values.ts';
export { synthesize, type SynthOptions, type SynthResult } from './main.ts';
