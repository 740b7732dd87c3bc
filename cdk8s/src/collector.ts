import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { assembleCollectorConfig, toYaml } from '../../collector/assemble.ts';
import { checksum, containerSecurityContext, Deployment, env, image, namedPort, nonEmpty, podDiscoveryRbac, podSecurityContext, port, resources, servicePort } from './common.ts';
import { collectorFragments, DestinationCredentials, destinationEnv } from './destinations.ts';
import { componentName, labels, metadata, selectorLabels, type StackContext } from './names.ts';

/**
 * The collector's configuration: collector/config/base.yaml, scrape/kubernetes.yaml (every API
 * pod, found through the Kubernetes API) and the enabled destinations' fragments.
 */
export const collectorConfig = (ctx: StackContext): string =>
  toYaml(assembleCollectorConfig(collectorFragments(ctx), { scrape: 'kubernetes' }));

export interface CollectorProps {
  readonly context: StackContext;
}

/**
 * The OpenTelemetry Collector: its assembled configuration (ConfigMap), ServiceAccount (no
 * token), Service (OTLP gRPC/HTTP, own metrics), the destinations' credentials Secret when the
 * values hold them, and the Deployment (rolled when the configuration changes).
 */
export class Collector extends Construct {
  readonly configMap: k8s.KubeConfigMap;
  readonly deployment: k8s.KubeDeployment;
  readonly service: k8s.KubeService;

  constructor(scope: Construct, id: string, props: CollectorProps) {
    super(scope, id);
    const ctx = props.context;
    const c = ctx.values.collector;
    const name = componentName(ctx, 'collector');
    const config = collectorConfig(ctx);

    // Assembled from collector/config/ (base.yaml + destinations/<name>.yaml): the same files
    // `make up`, the tests and the chart assemble. Credentials stay ${env:...} references.
    this.configMap = new k8s.KubeConfigMap(this, 'ConfigMap', { metadata: metadata(ctx, 'collector'), data: { 'config.yaml': config } });

    new DestinationCredentials(this, 'DestinationCredentials', { context: ctx });

    // The collector discovers the API pods it scrapes through the Kubernetes API (the Role below).
    new k8s.KubeServiceAccount(this, 'ServiceAccount', { metadata: metadata(ctx, 'collector'), automountServiceAccountToken: true });
    podDiscoveryRbac(this, ctx, 'collector');

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: metadata(ctx, 'collector'),
      spec: {
        type: c.service.type,
        selector: selectorLabels(ctx, 'collector'),
        ports: [
          servicePort('otlp-grpc', 4317, { appProtocol: 'grpc' }),
          servicePort('otlp-http', 4318),
          servicePort('metrics', 8888),
        ],
      },
    });

    const health = { path: '/', port: namedPort('health') };
    this.deployment = new Deployment(
      this,
      'Deployment',
      {
        metadata: metadata(ctx, 'collector'),
        spec: {
          replicas: c.replicas,
          revisionHistoryLimit: 3,
          selector: { matchLabels: selectorLabels(ctx, 'collector') },
          template: {
            metadata: {
              labels: labels(ctx, 'collector'),
              // A new configuration (a destination switched on or off) rolls the pods.
              annotations: { 'checksum/config': checksum(config), ...c.podAnnotations },
            },
            spec: {
              serviceAccountName: name,
              securityContext: podSecurityContext(10001),
              containers: [
                {
                  name: 'collector',
                  image: image(c.image),
                  imagePullPolicy: c.image.pullPolicy,
                  args: ['--config=/conf/config.yaml'],
                  ports: [port('otlp-grpc', 4317), port('otlp-http', 4318), port('metrics', 8888), port('health', 13133)],
                  env: [
                    // Receivers on 0.0.0.0, not the pod IP: kubectl port-forward connects over loopback.
                    env('OTLP_GRPC_ENDPOINT', '0.0.0.0:4317'),
                    env('OTLP_HTTP_ENDPOINT', '0.0.0.0:4318'),
                    env('COLLECTOR_HEALTH_ENDPOINT', '0.0.0.0:13133'),
                    env('COLLECTOR_METRICS_HOST', '0.0.0.0'),
                    env('COLLECTOR_METRICS_PORT', '8888'),
                    // The API pods the collector scrapes (scrape/kubernetes.yaml), each on its port "metrics".
                    env('API_POD_SELECTOR', `app.kubernetes.io/instance=${ctx.release},app.kubernetes.io/component=api`),
                    env('API_SCRAPE_INTERVAL', c.scrapeInterval),
                    ...destinationEnv(ctx),
                  ],
                  livenessProbe: { httpGet: health, periodSeconds: 10 },
                  readinessProbe: { httpGet: health, periodSeconds: 5 },
                  securityContext: containerSecurityContext(),
                  resources: resources(c.resources),
                  volumeMounts: [{ name: 'config', mountPath: '/conf', readOnly: true }],
                },
              ],
              volumes: [{ name: 'config', configMap: { name } }],
              nodeSelector: nonEmpty(c.nodeSelector),
            },
          },
        },
      },
      { imagePullSecrets: ctx.values.imagePullSecrets, scheduling: c },
    );
  }
}
