import { readFileSync } from 'node:fs';
import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { checksum, containerSecurityContext, Deployment, env, image, namedPort, podSecurityContext, port, resources, servicePort } from './common.ts';
import { componentName, labels, metadata, selectorLabels, type StackContext } from './names.ts';

/** collector/jaeger.yaml: the configuration `make up`, the tests and the chart run. */
export const jaegerConfig = (): string => readFileSync(new URL('../../collector/jaeger.yaml', import.meta.url), 'utf8');

export interface JaegerProps {
  readonly context: StackContext;
}

/**
 * The in-cluster Jaeger v2 (jaeger.enabled): its configuration, a one-replica Deployment with
 * memory storage (Recreate, so two pods never split the traces), and its Service.
 */
export class Jaeger extends Construct {
  readonly deployment: k8s.KubeDeployment;
  readonly service: k8s.KubeService;

  constructor(scope: Construct, id: string, props: JaegerProps) {
    super(scope, id);
    const ctx = props.context;
    const j = ctx.values.jaeger;
    const config = jaegerConfig();

    new k8s.KubeConfigMap(this, 'ConfigMap', { metadata: metadata(ctx, 'jaeger'), data: { 'config.yaml': config } });

    const health = { path: '/status', port: namedPort('health') };
    this.deployment = new Deployment(
      this,
      'Deployment',
      {
        metadata: metadata(ctx, 'jaeger'),
        spec: {
          // Memory storage: one replica holds all traces; Recreate so two never split them.
          replicas: 1,
          revisionHistoryLimit: 3,
          strategy: { type: 'Recreate' },
          selector: { matchLabels: selectorLabels(ctx, 'jaeger') },
          template: {
            metadata: { labels: labels(ctx, 'jaeger'), annotations: { 'checksum/config': checksum(config) } },
            spec: {
              automountServiceAccountToken: false,
              securityContext: podSecurityContext(10001),
              containers: [
                {
                  name: 'jaeger',
                  image: image(j.image),
                  imagePullPolicy: j.image.pullPolicy,
                  args: ['--config=/conf/config.yaml'],
                  ports: [port('otlp-grpc', 4317), port('query-http', 16686), port('health', 13133)],
                  env: [
                    env('JAEGER_OTLP_GRPC_ENDPOINT', '0.0.0.0:4317'),
                    env('JAEGER_OTLP_HTTP_ENDPOINT', '0.0.0.0:4318'),
                    env('JAEGER_QUERY_HTTP_ENDPOINT', '0.0.0.0:16686'),
                    env('JAEGER_QUERY_GRPC_ENDPOINT', '0.0.0.0:16685'),
                    env('JAEGER_HEALTH_ENDPOINT', '0.0.0.0:13133'),
                    env('JAEGER_MAX_TRACES', String(j.maxTraces)),
                  ],
                  livenessProbe: { httpGet: health, periodSeconds: 10 },
                  readinessProbe: { httpGet: health, periodSeconds: 5 },
                  securityContext: containerSecurityContext(),
                  resources: resources(j.resources),
                  volumeMounts: [
                    { name: 'config', mountPath: '/conf', readOnly: true },
                    { name: 'tmp', mountPath: '/tmp' },
                  ],
                },
              ],
              volumes: [
                { name: 'config', configMap: { name: componentName(ctx, 'jaeger') } },
                { name: 'tmp', emptyDir: {} },
              ],
            },
          },
        },
      },
      { imagePullSecrets: ctx.values.imagePullSecrets },
    );

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: metadata(ctx, 'jaeger'),
      spec: {
        type: 'ClusterIP',
        selector: selectorLabels(ctx, 'jaeger'),
        ports: [servicePort('otlp-grpc', 4317, { appProtocol: 'grpc' }), servicePort('query-http', 16686)],
      },
    });
  }
}
