/**
 * The tools the suites run, from `make test` (the Makefile's TOOL_ENV builds each with
 * collector/build-tools.sh and passes its path; any can be overridden from the environment).
 */
export type ToolVariable =
  | 'OTELCOL_BIN'
  | 'JAEGER_BIN'
  | 'PROMETHEUS_BIN'
  | 'OPENSEARCH_BIN'
  | 'ELASTICSEARCH_BIN'
  | 'PROMTOOL_BIN'
  | 'HELM_BIN'
  | 'HELM3_BIN'
  | 'CT_BIN'
  | 'KUBECTL_VALIDATE_BIN'
  | 'K8S_SCHEMAS_DIR'
  | 'PROMETHEUS_OPERATOR_CRDS_DIR'
  | 'GATEWAY_API_CRDS_DIR'
  | 'KUBE_LINTER_BIN'
  | 'ACTIONLINT_BIN';

export function toolBinary(variable: ToolVariable): string {
  const path = process.env[variable];
  if (!path) throw new Error(`${variable} is not set: run the suites with \`make test\`, which builds the tools`);
  return path;
}
