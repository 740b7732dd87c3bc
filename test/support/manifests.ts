import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { chartDir } from './chart.ts';
import { toolBinary } from './tools.ts';

/** Offline manifest checks: kubectl-validate with the official schemas, and kube-linter. */

const run = promisify(execFile);

/** The Kubernetes minors we support; `make tools` fetches their OpenAPI schemas (k8s-schemas). */
export const KUBERNETES_VERSIONS = ['1.31', '1.32', '1.33', '1.34', '1.35'] as const;


export interface CheckResult {
  ok: boolean;
  output: string;
}

async function check(command: string, args: string[], env: Record<string, string> = {}): Promise<CheckResult> {
  try {
    const { stdout, stderr } = await run(command, args, { env: { PATH: process.env.PATH, NO_COLOR: '1', ...env }, maxBuffer: 16 * 1024 * 1024 });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; code?: number };
    if (typeof e.code !== 'number') throw error;
    return { ok: false, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

/**
 * `--version ""` with --local-schemas: only that version's schemas (the default version would
 * mix in built-in 1.30 ones); KUBECONFIG=/dev/null keeps a configured cluster out of it.
 * --local-crds: the pinned prometheus-operator CRDs (ServiceMonitor, PodMonitor, PrometheusRule)
 * and the Gateway API's standard CRDs (HTTPRoute), checked against their schemas like built-in kinds.
 */
export const kubectlValidate = (file: string, version: (typeof KUBERNETES_VERSIONS)[number]) =>
  check(
    toolBinary('KUBECTL_VALIDATE_BIN'),
    ['--version', '', '--local-schemas', join(toolBinary('K8S_SCHEMAS_DIR'), version), '--local-crds', toolBinary('PROMETHEUS_OPERATOR_CRDS_DIR'), '--local-crds', toolBinary('GATEWAY_API_CRDS_DIR'), file],
    { KUBECONFIG: '/dev/null' },
  );

export const kubeLint = (file: string) =>
  check(toolBinary('KUBE_LINTER_BIN'), ['lint', '--config', join(chartDir, 'kube-linter.yaml'), '--fail-if-no-objects-found', file]);
