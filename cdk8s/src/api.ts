import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import {
  containerSecurityContext,
  Deployment,
  env,
  fieldEnv,
  image,
  namedPort,
  nonEmpty,
  podSecurityContext,
  port,
  resources,
  secretEnv,
  servicePort,
} from './common.ts';
import { componentName, labels, metadata, selectorLabels, type StackContext } from './names.ts';

/** The image tag, and the service.version the API reports: the chart's appVersion unless set. */
const apiTag = (ctx: StackContext): string => ctx.values.api.image.tag || ctx.chart.appVersion;
/** The API's image: api.image with that tag. */
export const apiImage = (ctx: StackContext) => image({ ...ctx.values.api.image, tag: apiTag(ctx) });

/** The Service the API sends OTLP/gRPC to (tracebridge.collectorOtlpGrpc). */
export const collectorOtlpGrpc = (ctx: StackContext) => `${componentName(ctx, 'collector')}:4317`;

/** tracebridge.databaseSecretName */
export function databaseSecretName(ctx: StackContext): string {
  const v = ctx.values;
  return v.postgresql.enabled ? v.postgresql.existingSecret || componentName(ctx, 'postgresql') : v.externalDatabase.existingSecret;
}

/** tracebridge.databaseEnv: the URL carries no password; node-postgres reads PGPASSWORD. */
export function databaseEnv(ctx: StackContext): k8s.EnvVar[] {
  const v = ctx.values;
  const inCluster = v.postgresql.enabled;
  const db = inCluster ? v.postgresql : v.externalDatabase;
  const host = inCluster ? componentName(ctx, 'postgresql') : v.externalDatabase.host;
  const dbPort = inCluster ? 5432 : v.externalDatabase.port;
  return [
    env('DATABASE_URL', `postgresql://${db.username}@${host}:${dbPort}/${db.database}`),
    secretEnv('PGPASSWORD', databaseSecretName(ctx), db.passwordKey),
    env('DB_SSL', inCluster ? 'false' : String(v.externalDatabase.ssl)),
  ];
}

export interface ApiProps {
  readonly context: StackContext;
}

/**
 * The traced users/posts API: ServiceAccount (no token), Service (http + metrics), Deployment
 * (migrations in an init container), and when enabled a HorizontalPodAutoscaler and a
 * PodDisruptionBudget.
 */
export class Api extends Construct {
  readonly deployment: k8s.KubeDeployment;
  readonly service: k8s.KubeService;

  constructor(scope: Construct, id: string, props: ApiProps) {
    super(scope, id);
    const ctx = props.context;
    const api = ctx.values.api;
    const name = componentName(ctx, 'api');

    new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: metadata(ctx, 'api'),
      // The API never talks to the Kubernetes API.
      automountServiceAccountToken: false,
    });

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: metadata(ctx, 'api'),
      spec: {
        type: api.service.type,
        selector: selectorLabels(ctx, 'api'),
        ports: [
          servicePort('http', api.service.port),
          servicePort('metrics', api.metricsPort),
        ],
      },
    });

    const apiImageName = apiImage(ctx);
    const migrate: k8s.Container = {
      name: 'migrate',
      image: apiImageName,
      imagePullPolicy: api.image.pullPolicy,
      workingDir: '/app',
      args: ['api/dist/db/cli.js', 'migrate'],
      env: [...databaseEnv(ctx), env('DB_CONNECT_TIMEOUT_MS', '5000')],
      securityContext: containerSecurityContext(),
      resources: resources(api.resources),
    };
    const healthz = { path: '/healthz', port: namedPort('http') };

    this.deployment = new Deployment(
      this,
      'Deployment',
      {
        metadata: metadata(ctx, 'api'),
        spec: {
          ...(api.autoscaling.enabled ? {} : { replicas: api.replicas }),
          revisionHistoryLimit: 3,
          selector: { matchLabels: selectorLabels(ctx, 'api') },
          template: {
            metadata: { labels: labels(ctx, 'api'), annotations: nonEmpty(api.podAnnotations) },
            spec: {
              serviceAccountName: name,
              automountServiceAccountToken: false,
              // 65532: the nonroot user of the distroless image (api/Dockerfile).
              securityContext: podSecurityContext(65532),
              // Longer than SHUTDOWN_TIMEOUT_MS: in-flight requests drain, then spans are flushed.
              terminationGracePeriodSeconds: 30,
              initContainers: api.migrations.enabled ? [migrate] : undefined,
              containers: [
                {
                  name: 'api',
                  image: apiImageName,
                  imagePullPolicy: api.image.pullPolicy,
                  workingDir: '/app',
                  args: ['--import', './api/dist/telemetry/preload.js', 'api/dist/server.js'],
                  ports: [port('http', 8000), port('metrics', api.metricsPort)],
                  env: [
                    ...(api.nodeOptions ? [env('NODE_OPTIONS', api.nodeOptions)] : []),
                    env('PORT', '8000'),
                    env('METRICS_PORT', String(api.metricsPort)),
                    ...databaseEnv(ctx),
                    env('DB_POOL_MAX', String(api.pool.max)),
                    env('DB_POOL_ACQUIRE_TIMEOUT_MS', String(api.pool.acquireTimeoutMs)),
                    env('DB_STATEMENT_TIMEOUT_MS', String(api.pool.statementTimeoutMs)),
                    env('LOG_LEVEL', api.logLevel),
                    env('SERVICE_NAME', 'tracebridge-api'),
                    env('SERVICE_VERSION', apiTag(ctx)),
                    env('DEPLOYMENT_ENVIRONMENT', api.environment),
                    env('SHUTDOWN_TIMEOUT_MS', '20000'),
                    env('OTEL_EXPORTER_OTLP_ENDPOINT', `http://${collectorOtlpGrpc(ctx)}`),
                    env('OTEL_TRACES_SAMPLER', 'parentbased_traceidratio'),
                    env('OTEL_TRACES_SAMPLER_ARG', String(api.samplingRatio)),
                    env('TRACEBRIDGE_ORM_TRACING', String(api.ormTracing)),
                    env('TRACEBRIDGE_N_PLUS_ONE_THRESHOLD', String(api.nPlusOneThreshold)),
                    fieldEnv('K8S_POD_NAME', 'metadata.name'),
                    fieldEnv('K8S_POD_UID', 'metadata.uid'),
                    fieldEnv('K8S_NAMESPACE_NAME', 'metadata.namespace'),
                    fieldEnv('K8S_NODE_NAME', 'spec.nodeName'),
                  ],
                  startupProbe: { httpGet: healthz, periodSeconds: 2, failureThreshold: 30 },
                  livenessProbe: { httpGet: healthz, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
                  readinessProbe: {
                    httpGet: { path: '/readyz', port: namedPort('http') },
                    periodSeconds: 5,
                    timeoutSeconds: 2,
                    failureThreshold: 2,
                  },
                  securityContext: containerSecurityContext(),
                  resources: resources(api.resources),
                  volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
                },
              ],
              volumes: [{ name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } }],
              nodeSelector: nonEmpty(api.nodeSelector),
            },
          },
        },
      },
      { imagePullSecrets: ctx.values.imagePullSecrets, extraEnv: api.extraEnv, scheduling: api },
    );

    if (api.autoscaling.enabled) {
      const a = api.autoscaling;
      new k8s.KubeHorizontalPodAutoscalerV2(this, 'HorizontalPodAutoscaler', {
        metadata: metadata(ctx, 'api'),
        spec: {
          scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          minReplicas: a.minReplicas,
          maxReplicas: a.maxReplicas,
          metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: a.targetCPUUtilizationPercentage } } }],
        },
      });
    }

    if (api.podDisruptionBudget.enabled) {
      const minAvailable = api.podDisruptionBudget.minAvailable;
      new k8s.KubePodDisruptionBudget(this, 'PodDisruptionBudget', {
        metadata: metadata(ctx, 'api'),
        spec: {
          minAvailable: typeof minAvailable === 'number' ? k8s.IntOrString.fromNumber(minAvailable) : k8s.IntOrString.fromString(minAvailable),
          // Evicting a pod that is not ready anyway never costs availability (and unblocks drains).
          unhealthyPodEvictionPolicy: 'AlwaysAllow',
          selector: { matchLabels: selectorLabels(ctx, 'api') },
        },
      });
    }
  }
}
