import type { ChartInfo, TracebridgeValues } from './values.ts';

/**
 * Names and labels, as charts/tracebridge/templates/_helpers.tpl makes them: the same release
 * name gives the same object names, so either tool can take over from the other.
 */

/** Go's strings.TrimSuffix: one occurrence, not all. */
const trimSuffix = (s: string, suffix: string) => (s.endsWith(suffix) ? s.slice(0, -suffix.length) : s);
const trunc = (s: string, n: number) => s.slice(0, n);

/** Everything a component needs to name and label its objects. */
export interface StackContext {
  readonly values: TracebridgeValues;
  readonly release: string;
  readonly namespace: string;
  readonly chart: ChartInfo;
}

/** tracebridge.name */
export const appName = (ctx: StackContext): string => trimSuffix(trunc(ctx.values.nameOverride || ctx.chart.name, 63), '-');

/** tracebridge.fullname: the release-wide prefix (at most 52 characters). */
export function fullname(ctx: StackContext): string {
  if (ctx.values.fullnameOverride) return trimSuffix(trunc(ctx.values.fullnameOverride, 52), '-');
  const name = ctx.values.nameOverride || ctx.chart.name;
  if (ctx.release.includes(name)) return trimSuffix(trunc(ctx.release, 52), '-');
  return trimSuffix(trunc(`${ctx.release}-${name}`, 52), '-');
}

/** tracebridge.componentName: "<fullname>-<component>". */
export const componentName = (ctx: StackContext, component: string): string => `${fullname(ctx)}-${component}`;

/** tracebridge.selectorLabels */
export const selectorLabels = (ctx: StackContext, component: string): Record<string, string> => ({
  'app.kubernetes.io/name': appName(ctx),
  'app.kubernetes.io/instance': ctx.release,
  'app.kubernetes.io/component': component,
});

/** The value of app.kubernetes.io/managed-by on everything this app synthesizes. */
export const MANAGED_BY = 'cdk8s';

/** tracebridge.labels, less helm.sh/chart (a Helm-only label) and with managed-by cdk8s. */
export const labels = (ctx: StackContext, component: string): Record<string, string> => ({
  ...selectorLabels(ctx, component),
  'app.kubernetes.io/version': ctx.chart.appVersion,
  'app.kubernetes.io/part-of': 'tracebridge',
  'app.kubernetes.io/managed-by': MANAGED_BY,
  ...ctx.values.commonLabels,
});

/** tracebridge.metadata: name (the component's unless given), namespace and labels. */
export const metadata = (ctx: StackContext, component: string, name = componentName(ctx, component)) => ({
  name,
  namespace: ctx.namespace,
  labels: labels(ctx, component),
});
