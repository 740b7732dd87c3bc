import { readdirSync, readFileSync } from 'node:fs';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import {
  checksum,
  containerSecurityContext,
  Deployment,
  env,
  generatedPasswordSecret,
  image,
  namedPort,
  podSecurityContext,
  port,
  resources,
  secretEnv,
  servicePort,
  type GeneratedSecretProps,
} from './common.ts';
import { componentName, labels, metadata, selectorLabels, type StackContext } from './names.ts';
import { chartDir } from './values.ts';

/** The dashboards the chart ships (charts/tracebridge/files/dashboards/*.json), read at synth time. */
export const dashboardsDir = `${chartDir}files/dashboards/`;

/**
 * File name → content, in name order, as the chart's `.Files.Glob` puts them in a literal block
 * (trailing whitespace trimmed, one newline kept).
 */
export function dashboards(dir = dashboardsDir): Record<string, string> {
  const names = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  return Object.fromEntries(names.map((f) => [f, readFileSync(`${dir}${f}`, 'utf8').trimEnd() + '\n']));
}

export const DASHBOARD_PROVIDER = `apiVersion: 1
providers:
  - name: tracebridge
    folder: tracebridge
    type: file
    disableDeletion: true
    allowUiUpdates: false
    options:
      path: /etc/grafana/dashboards
`;

/** datasources.yaml: Prometheus, and Jaeger when it is in the cluster; the same text as the chart's. */
export function datasourcesConfig(ctx: StackContext): string {
  const jaeger = ctx.values.jaeger.enabled;
  const lines = [
    'apiVersion: 1',
    '# Fixed uids: the dashboards refer to them.',
    'datasources:',
    '  - name: Prometheus',
    '    type: prometheus',
    '    uid: prometheus',
    '    access: proxy',
    `    url: http://${componentName(ctx, 'prometheus')}:9090`,
    '    isDefault: true',
    '    editable: false',
    '    jsonData:',
    `      timeInterval: ${ctx.values.prometheus.scrapeInterval}`,
  ];
  if (jaeger) {
    lines.push(
      '      exemplarTraceIdDestinations:',
      '        - name: trace_id',
      '          datasourceUid: jaeger',
      '  - name: Jaeger',
      '    type: jaeger',
      '    uid: jaeger',
      '    access: proxy',
      `    url: http://${componentName(ctx, 'jaeger')}:16686`,
      '    editable: false',
      '    jsonData:',
      '      # From a span to the RED metrics of its route.',
      '      tracesToMetrics:',
      '        datasourceUid: prometheus',
      '        spanStartTimeShift: -5m',
      '        spanEndTimeShift: 5m',
      '        tags:',
      '          - key: http.route',
      '            value: http_route',
      '        queries:',
      '          - name: Request rate of this route',
      '            query: sum by (http_route) (rate(http_server_request_duration_count{$$__tags}[5m]))',
      '          - name: p99 latency of this route',
      '            query: histogram_quantile(0.99, sum by (le, http_route) (rate(http_server_request_duration_bucket{$$__tags}[5m])))',
    );
  }
  return lines.join('\n') + '\n';
}

export type GrafanaProps = GeneratedSecretProps;

/**
 * The in-cluster Grafana (grafana.enabled): provisioned datasources and the chart's dashboards,
 * a generated admin password (unless grafana.existingSecret), the Deployment and its Service.
 */
export class Grafana extends Construct {
  readonly deployment: k8s.KubeDeployment;
  readonly service: k8s.KubeService;
  /** The generated admin password Secret; undefined with grafana.existingSecret. */
  readonly secret?: k8s.KubeSecret;

  constructor(scope: Construct, id: string, props: GrafanaProps) {
    super(scope, id);
    const ctx = props.context;
    const g = ctx.values.grafana;
    const name = componentName(ctx, 'grafana');
    const datasources = datasourcesConfig(ctx);
    const dashboardData = { 'provider.yaml': DASHBOARD_PROVIDER, ...dashboards() };

    new k8s.KubeConfigMap(this, 'Dashboards', {
      metadata: metadata(ctx, 'grafana', componentName(ctx, 'grafana-dashboards')),
      data: dashboardData,
    });
    new k8s.KubeConfigMap(this, 'Datasources', {
      metadata: metadata(ctx, 'grafana', componentName(ctx, 'grafana-datasources')),
      data: { 'datasources.yaml': datasources },
    });

    if (!g.existingSecret) {
      // Created once and never re-applied (see main.ts), like the chart's lookup keeps it.
      this.secret = generatedPasswordSecret(this, props, 'grafana', g.passwordKey);
    }

    const health = { path: '/api/health', port: namedPort('http') };
    this.deployment = new Deployment(
      this,
      'Deployment',
      {
        metadata: metadata(ctx, 'grafana'),
        spec: {
          replicas: 1,
          revisionHistoryLimit: 3,
          strategy: { type: 'Recreate' },
          selector: { matchLabels: selectorLabels(ctx, 'grafana') },
          template: {
            metadata: {
              labels: labels(ctx, 'grafana'),
              annotations: { 'checksum/datasources': checksum(datasources), 'checksum/dashboards': checksum(dashboardData) },
            },
            spec: {
              automountServiceAccountToken: false,
              securityContext: podSecurityContext(472),
              containers: [
                {
                  name: 'grafana',
                  image: image(g.image),
                  imagePullPolicy: g.image.pullPolicy,
                  ports: [port('http', 3000)],
                  env: [
                    env('GF_SECURITY_ADMIN_USER', g.adminUser),
                    secretEnv('GF_SECURITY_ADMIN_PASSWORD', g.existingSecret || name, g.passwordKey),
                    // Log in to see anything; nobody signs up.
                    env('GF_AUTH_ANONYMOUS_ENABLED', 'false'),
                    env('GF_USERS_ALLOW_SIGN_UP', 'false'),
                    env('GF_ANALYTICS_REPORTING_ENABLED', 'false'),
                    env('GF_ANALYTICS_CHECK_FOR_UPDATES', 'false'),
                    env('GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES', 'false'),
                    env('GF_PATHS_DATA', '/var/lib/grafana'),
                    env('GF_PATHS_PROVISIONING', '/etc/grafana/provisioning'),
                  ],
                  livenessProbe: { httpGet: health, periodSeconds: 10 },
                  readinessProbe: { httpGet: health, periodSeconds: 5 },
                  securityContext: containerSecurityContext(),
                  resources: resources(g.resources),
                  volumeMounts: [
                    { name: 'datasources', mountPath: '/etc/grafana/provisioning/datasources', readOnly: true },
                    { name: 'dashboards', mountPath: '/etc/grafana/provisioning/dashboards/provider.yaml', subPath: 'provider.yaml', readOnly: true },
                    { name: 'dashboards', mountPath: '/etc/grafana/dashboards', readOnly: true },
                    { name: 'data', mountPath: '/var/lib/grafana' },
                    { name: 'tmp', mountPath: '/tmp' },
                  ],
                },
              ],
              volumes: [
                { name: 'datasources', configMap: { name: componentName(ctx, 'grafana-datasources') } },
                { name: 'dashboards', configMap: { name: componentName(ctx, 'grafana-dashboards') } },
                { name: 'data', emptyDir: {} },
                { name: 'tmp', emptyDir: {} },
              ],
            },
          },
        },
      },
      { imagePullSecrets: ctx.values.imagePullSecrets },
    );

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: metadata(ctx, 'grafana'),
      spec: { type: 'ClusterIP', selector: selectorLabels(ctx, 'grafana'), ports: [servicePort('http', 3000)] },
    });
  }
}
