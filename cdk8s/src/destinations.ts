import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import type { Destination } from '../../collector/assemble.ts';
import { env, secretEnv } from './common.ts';
import { componentName, metadata, type StackContext } from './names.ts';

/**
 * Where telemetry goes: which collector fragments (collector/config/destinations/) are
 * assembled, the collector's environment for them, and the optional chart-created Secret with
 * their credentials (destinationCredentials.create).
 */

/** tracebridge.collectorFragments: the enabled destinations, in the order assemble.ts applies them. */
export function collectorFragments(ctx: StackContext): Destination[] {
  const d = ctx.values.destinations;
  const names: Destination[] = [];
  if (d.jaeger.enabled) names.push('jaeger');
  if (d.grafanaCloud.enabled) names.push('grafanaCloud');
  if (d.datadog.enabled) names.push('datadog');
  if (d.otlp.enabled && d.otlp.protocol === 'grpc') names.push('otlp');
  if (d.otlp.enabled && d.otlp.protocol === 'http') names.push('otlpHttp');
  if (d.debug.enabled) names.push('debug');
  return names;
}

/** tracebridge.credentialsSecret: a destination's existingSecret, or the chart-created one. */
export const credentialsSecret = (ctx: StackContext, destination: 'grafanaCloud' | 'datadog' | 'otlp'): string =>
  ctx.values.destinations[destination].existingSecret || componentName(ctx, 'destination-credentials');

/** The collector's environment for the enabled destinations; credentials only as secretKeyRefs. */
export function destinationEnv(ctx: StackContext): k8s.EnvVar[] {
  const d = ctx.values.destinations;
  const creds = ctx.values.destinationCredentials;
  const out: k8s.EnvVar[] = [];
  if (d.jaeger.enabled) out.push(env('JAEGER_OTLP_ENDPOINT', d.jaeger.endpoint || `${componentName(ctx, 'jaeger')}:4317`));
  if (d.grafanaCloud.enabled) {
    out.push(
      env('GRAFANA_CLOUD_OTLP_ENDPOINT', d.grafanaCloud.endpoint),
      secretEnv('GRAFANA_CLOUD_INSTANCE_ID', credentialsSecret(ctx, 'grafanaCloud'), d.grafanaCloud.instanceIdKey),
      secretEnv('GRAFANA_CLOUD_API_TOKEN', credentialsSecret(ctx, 'grafanaCloud'), d.grafanaCloud.apiTokenKey),
    );
  }
  if (d.datadog.enabled) {
    out.push(env('DD_SITE', d.datadog.site), secretEnv('DD_API_KEY', credentialsSecret(ctx, 'datadog'), d.datadog.apiKeyKey));
  }
  if (d.otlp.enabled) {
    out.push(env('OTLP_DESTINATION_ENDPOINT', d.otlp.endpoint), env('OTLP_DESTINATION_INSECURE', String(d.otlp.insecure)));
    if (d.otlp.existingSecret || (creds.create && creds.otlp.authorization)) {
      out.push(secretEnv('OTLP_DESTINATION_AUTHORIZATION', credentialsSecret(ctx, 'otlp'), d.otlp.authorizationKey));
    }
  }
  if (d.debug.enabled) out.push(env('DEBUG_VERBOSITY', d.debug.verbosity));
  return out;
}

export interface DestinationCredentialsProps {
  readonly context: StackContext;
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

/**
 * The Secret with the destinations' credentials taken as values (destinationCredentials.create):
 * for throwaway clusters only. Prefer each destination's existingSecret.
 */
export class DestinationCredentials extends Construct {
  readonly secret?: k8s.KubeSecret;

  constructor(scope: Construct, id: string, props: DestinationCredentialsProps) {
    super(scope, id);
    const ctx = props.context;
    const c = ctx.values.destinationCredentials;
    if (!c.create) return;
    const d = ctx.values.destinations;
    const data: Record<string, string> = {};
    if (d.grafanaCloud.enabled && !d.grafanaCloud.existingSecret) {
      data[d.grafanaCloud.instanceIdKey] = b64(String(c.grafanaCloud.instanceId));
      data[d.grafanaCloud.apiTokenKey] = b64(c.grafanaCloud.apiToken);
    }
    if (d.datadog.enabled && !d.datadog.existingSecret) data[d.datadog.apiKeyKey] = b64(c.datadog.apiKey);
    if (d.otlp.enabled && !d.otlp.existingSecret && c.otlp.authorization) data[d.otlp.authorizationKey] = b64(c.otlp.authorization);
    this.secret = new k8s.KubeSecret(this, 'Secret', {
      metadata: metadata(ctx, 'collector', componentName(ctx, 'destination-credentials')),
      type: 'Opaque',
      data,
    });
  }
}
