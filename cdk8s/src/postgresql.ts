import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { databaseSecretName } from './api.ts';
import {
  containerSecurityContext,
  env,
  generatedPasswordSecret,
  image,
  port,
  podSecurityContext,
  resources,
  secretEnv,
  servicePort,
  StatefulSet,
  type GeneratedSecretProps,
} from './common.ts';
import { componentName, labels, metadata, selectorLabels } from './names.ts';

export type PostgresqlProps = GeneratedSecretProps;

/**
 * The in-cluster PostgreSQL (postgresql.enabled): a generated password Secret (unless
 * postgresql.existingSecret), a Service, and a one-replica StatefulSet with a data volume.
 */
export class Postgresql extends Construct {
  readonly statefulSet: k8s.KubeStatefulSet;
  readonly service: k8s.KubeService;
  /** The generated password Secret; undefined with postgresql.existingSecret. */
  readonly secret?: k8s.KubeSecret;

  constructor(scope: Construct, id: string, props: PostgresqlProps) {
    super(scope, id);
    const ctx = props.context;
    const pg = ctx.values.postgresql;
    const name = componentName(ctx, 'postgresql');

    if (!pg.existingSecret) {
      // Created once and never re-applied (see main.ts): a redeploy must not change the
      // password the database was initialized with. The chart keeps it with `lookup` instead.
      this.secret = generatedPasswordSecret(this, props, 'postgresql', pg.passwordKey);
    }

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: metadata(ctx, 'postgresql'),
      spec: { type: 'ClusterIP', selector: selectorLabels(ctx, 'postgresql'), ports: [servicePort('postgresql', 5432)] },
    });

    const ready = ['pg_isready', '-h', '127.0.0.1', '-U', pg.username, '-d', pg.database];
    this.statefulSet = new StatefulSet(
      this,
      'StatefulSet',
      {
        metadata: metadata(ctx, 'postgresql'),
        spec: {
          serviceName: name,
          replicas: 1,
          selector: { matchLabels: selectorLabels(ctx, 'postgresql') },
          template: {
            metadata: { labels: labels(ctx, 'postgresql') },
            spec: {
              automountServiceAccountToken: false,
              // 999 is the postgres user of the official image; fsGroup makes the volume its own.
              securityContext: podSecurityContext(999),
              containers: [
                {
                  name: 'postgresql',
                  image: image(pg.image),
                  imagePullPolicy: pg.image.pullPolicy,
                  ports: [port('postgresql', 5432)],
                  env: [
                    env('POSTGRES_DB', pg.database),
                    env('POSTGRES_USER', pg.username),
                    secretEnv('POSTGRES_PASSWORD', databaseSecretName(ctx), pg.passwordKey),
                  ],
                  readinessProbe: { exec: { command: ready }, periodSeconds: 5, timeoutSeconds: 3 },
                  livenessProbe: { exec: { command: ready }, initialDelaySeconds: 30, periodSeconds: 10, timeoutSeconds: 5 },
                  securityContext: containerSecurityContext(),
                  resources: resources(pg.resources),
                  volumeMounts: [
                    // PostgreSQL 18+ keeps its cluster in /var/lib/postgresql/18/docker and refuses
                    // a volume at the old /var/lib/postgresql/data.
                    { name: 'data', mountPath: '/var/lib/postgresql' },
                    { name: 'run', mountPath: '/var/run/postgresql' },
                    { name: 'tmp', mountPath: '/tmp' },
                  ],
                },
              ],
              volumes: [
                { name: 'run', emptyDir: {} },
                { name: 'tmp', emptyDir: {} },
              ],
            },
          },
          volumeClaimTemplates: [
            {
              metadata: { name: 'data', labels: selectorLabels(ctx, 'postgresql') },
              spec: {
                accessModes: ['ReadWriteOnce'],
                storageClassName: pg.persistence.storageClass || undefined,
                resources: { requests: { storage: k8s.Quantity.fromString(pg.persistence.size) } },
              },
            },
          ],
        },
      },
      { imagePullSecrets: ctx.values.imagePullSecrets },
    );
  }
}
