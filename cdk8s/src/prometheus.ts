import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { checksum, containerSecurityContext, Deployment, image, namedPort, podDiscoveryRbac, podSecurityContext, port, resources, servicePort } from './common.ts';
import { componentName, labels, metadata, selectorLabels, type StackContext } from './names.ts';

/**
 * prometheus.yml: each pod is scraped on its own (not through the Service), so counters of
 * several replicas add up instead of interleaving. Job names are the ones the dashboards and
 * `make up` use. The same text as the chart's template.
 */
export function prometheusConfig(ctx: StackContext): string {
  const jobs: [string, string][] = [
    ['otel-collector', 'collector'],
    ['tracebridge-api', 'api'],
  ];
  const lines = ['global:', `  scrape_interval: ${ctx.values.prometheus.scrapeInterval}`, 'scrape_configs:'];
  for (const [job, component] of jobs) {
    lines.push(
      `  - job_name: ${job}`,
      '    kubernetes_sd_configs:',
      '      - role: pod',
      '        namespaces:',
      '          own_namespace: true',
      '        selectors:',
      '          - role: pod',
      `            label: app.kubernetes.io/instance=${ctx.release},app.kubernetes.io/component=${component}`,
      '    relabel_configs:',
      '      - source_labels: [__meta_kubernetes_pod_container_port_name]',
      '        regex: metrics',
      '        action: keep',
      '      - source_labels: [__meta_kubernetes_pod_name]',
      '        target_label: pod',
    );
  }
  return lines.join('\n') + '\n';
}

export interface PrometheusProps {
  readonly context: StackContext;
}

/**
 * The in-cluster Prometheus (prometheus.enabled): its configuration, a ServiceAccount with a
 * namespaced Role to discover pods, a one-replica Deployment on an emptyDir bounded by the
 * retention, and its Service.
 */
export class Prometheus extends Construct {
  readonly deployment: k8s.KubeDeployment;
  readonly service: k8s.KubeService;

  constructor(scope: Construct, id: string, props: PrometheusProps) {
    super(scope, id);
    const ctx = props.context;
    const p = ctx.values.prometheus;
    const name = componentName(ctx, 'prometheus');
    const config = prometheusConfig(ctx);

    new k8s.KubeConfigMap(this, 'ConfigMap', { metadata: metadata(ctx, 'prometheus'), data: { 'prometheus.yml': config } });

    // Prometheus discovers the pods it scrapes through the Kubernetes API (the Role below).
    new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata: metadata(ctx, 'prometheus'), automountServiceAccountToken: true });
    podDiscoveryRbac(this, ctx, 'prometheus');

    this.deployment = new Deployment(
      this,
      'Deployment',
      {
        metadata: metadata(ctx, 'prometheus'),
        spec: {
          replicas: 1,
          revisionHistoryLimit: 3,
          strategy: { type: 'Recreate' },
          selector: { matchLabels: selectorLabels(ctx, 'prometheus') },
          template: {
            metadata: { labels: labels(ctx, 'prometheus'), annotations: { 'checksum/config': checksum(config) } },
            spec: {
              serviceAccountName: name,
              securityContext: podSecurityContext(65534),
              containers: [
                {
                  name: 'prometheus',
                  image: image(p.image),
                  imagePullPolicy: p.image.pullPolicy,
                  args: ['--config.file=/etc/prometheus/prometheus.yml', '--storage.tsdb.path=/prometheus', `--storage.tsdb.retention.time=${p.retention}`],
                  ports: [port('http', 9090)],
                  livenessProbe: { httpGet: { path: '/-/healthy', port: namedPort('http') }, periodSeconds: 10 },
                  readinessProbe: { httpGet: { path: '/-/ready', port: namedPort('http') }, periodSeconds: 5 },
                  securityContext: containerSecurityContext(),
                  resources: resources(p.resources),
                  volumeMounts: [
                    { name: 'config', mountPath: '/etc/prometheus', readOnly: true },
                    { name: 'data', mountPath: '/prometheus' },
                  ],
                },
              ],
              volumes: [
                { name: 'config', configMap: { name } },
                // Metrics for a kind cluster's lifetime; the retention bounds it.
                { name: 'data', emptyDir: { sizeLimit: k8s.Quantity.fromString('2Gi') } },
              ],
            },
          },
        },
      },
      { imagePullSecrets: ctx.values.imagePullSecrets },
    );

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: metadata(ctx, 'prometheus'),
      spec: { type: 'ClusterIP', selector: selectorLabels(ctx, 'prometheus'), ports: [servicePort('http', 9090)] },
    });
  }
}
