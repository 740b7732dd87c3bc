import { createHash, randomInt } from 'node:crypto';
import { JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import type { Construct } from 'constructs';
import { componentName, metadata, type StackContext } from './names.ts';
import type { ImageValues, Json, ResourceList, ResourcesValues, SchedulingValues } from './values.ts';

/**
 * What every component shares: the chart's Pod Security "restricted" contexts, images,
 * resources, and workloads that carry values the chart passes through untouched.
 */

/** tracebridge.podSecurityContext: non-root as the image's own UID, RuntimeDefault seccomp. */
export const podSecurityContext = (uid: number): k8s.PodSecurityContext => ({
  runAsNonRoot: true,
  runAsUser: uid,
  runAsGroup: uid,
  fsGroup: uid,
  seccompProfile: { type: 'RuntimeDefault' },
});

/** tracebridge.containerSecurityContext */
export const containerSecurityContext = (): k8s.SecurityContext => ({
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  runAsNonRoot: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
});

/** tracebridge.image */
export const image = (i: Pick<ImageValues, 'repository' | 'tag'>): string => `${i.repository}:${i.tag}`;

const quantity = (q: string | number) => (typeof q === 'number' ? k8s.Quantity.fromNumber(q) : k8s.Quantity.fromString(q));
const resourceList = (list: ResourceList): Record<string, k8s.Quantity> =>
  Object.fromEntries((Object.entries(list) as [string, string | number][]).map(([name, q]) => [name, quantity(q)]));

/**
 * The values' requests and limits, exactly: nothing is defaulted here (cdk8s-plus would give a
 * container 1 CPU / 512Mi requests, too much for a kind node; the chart's values are sized for it).
 */
export const resources = (r: ResourcesValues): k8s.ResourceRequirements => ({
  requests: resourceList(r.requests),
  limits: resourceList(r.limits),
});

/** A port referred to by its container port's name. */
export const namedPort = (name: string): k8s.IntOrString => k8s.IntOrString.fromString(name);
export const port = (name: string, containerPort: number): k8s.ContainerPort => ({ name, containerPort, protocol: 'TCP' });
export const servicePort = (name: string, portNumber: number, extra: Partial<k8s.ServicePort> = {}): k8s.ServicePort => ({
  name,
  port: portNumber,
  targetPort: namedPort(name),
  protocol: 'TCP',
  ...extra,
});

export const env = (name: string, value: string): k8s.EnvVar => ({ name, value });
export const secretEnv = (name: string, secret: string, key: string): k8s.EnvVar => ({
  name,
  valueFrom: { secretKeyRef: { name: secret, key } },
});
export const fieldEnv = (name: string, fieldPath: string): k8s.EnvVar => ({ name, valueFrom: { fieldRef: { fieldPath } } });

/** sha256 of what a pod reads from a ConfigMap: a new configuration rolls the pods. */
export const checksum = (...contents: unknown[]): string => createHash('sha256').update(JSON.stringify(contents)).digest('hex');

/** Sprig's randAlphaNum, from a CSPRNG. */
export function randomAlphaNum(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
}

/** Props of a component that may generate a password Secret. */
export interface GeneratedSecretProps {
  readonly context: StackContext;
  /**
   * Where generated Secrets go; default: the component itself. The CLI puts them in a chart of
   * their own that `make deploy-cdk8s` creates only when absent, so a redeploy never rotates a
   * live password (the chart keeps it with `lookup` instead).
   */
  readonly secretsScope?: Construct;
  /** A new password; default: 32 random alphanumerics, like the chart's randAlphaNum 32. */
  readonly generatePassword?: () => string;
}

export const defaultPassword = (): string => randomAlphaNum(32);

/**
 * The generated password Secret of a component (the chart's tracebridge.generatedPassword),
 * in props.secretsScope when given.
 */
export function generatedPasswordSecret(
  owner: Construct,
  props: GeneratedSecretProps,
  component: 'grafana' | 'postgresql',
  passwordKey: string,
): k8s.KubeSecret {
  const ctx = props.context;
  return new k8s.KubeSecret(props.secretsScope ?? owner, `${componentName(ctx, component)}-secret`, {
    metadata: metadata(ctx, component),
    type: 'Opaque',
    data: { [passwordKey]: Buffer.from((props.generatePassword ?? defaultPassword)()).toString('base64') },
  });
}

/** What the chart passes through from the values as given (toYaml): extra env, scheduling. */
export interface PodPassthrough {
  imagePullSecrets?: Json[];
  /** Appended to the env of the first container (the main one). */
  extraEnv?: Json[];
  scheduling?: Pick<SchedulingValues, 'tolerations' | 'affinity'>;
}

/**
 * The JSON patches that add pass-through values to a pod template at `podPath`. They are
 * applied after the typed conversion of the generated imports, which keeps only the fields it
 * knows: the chart renders such values verbatim, and so do we (the API server judges them).
 */
function passthroughPatches(podPath: string, p: PodPassthrough): JsonPatch[] {
  const patches: JsonPatch[] = [];
  for (const e of p.extraEnv ?? []) patches.push(JsonPatch.add(`${podPath}/containers/0/env/-`, e));
  if (p.imagePullSecrets?.length) patches.push(JsonPatch.add(`${podPath}/imagePullSecrets`, p.imagePullSecrets));
  const { tolerations, affinity } = p.scheduling ?? {};
  if (tolerations?.length) patches.push(JsonPatch.add(`${podPath}/tolerations`, tolerations));
  if (affinity && Object.keys(affinity).length > 0) patches.push(JsonPatch.add(`${podPath}/affinity`, affinity));
  return patches;
}

const applyPatches = (json: unknown, patches: JsonPatch[]): unknown => (patches.length ? JsonPatch.apply(json, ...patches) : json);

/** A Deployment whose pod template also carries pass-through values. */
export class Deployment extends k8s.KubeDeployment {
  readonly #patches: JsonPatch[];
  constructor(scope: Construct, id: string, props: k8s.KubeDeploymentProps, passthrough: PodPassthrough = {}) {
    super(scope, id, props);
    this.#patches = passthroughPatches('/spec/template/spec', passthrough);
  }
  override toJson(): unknown {
    return applyPatches(super.toJson(), this.#patches);
  }
}

/** A StatefulSet whose pod template also carries pass-through values. */
export class StatefulSet extends k8s.KubeStatefulSet {
  readonly #patches: JsonPatch[];
  constructor(scope: Construct, id: string, props: k8s.KubeStatefulSetProps, passthrough: PodPassthrough = {}) {
    super(scope, id, props);
    this.#patches = passthroughPatches('/spec/template/spec', passthrough);
  }
  override toJson(): unknown {
    return applyPatches(super.toJson(), this.#patches);
  }
}

/** A map or list, or nothing when empty or absent (`{{- with }}`). */
export const nonEmpty = <T extends object>(v: T | undefined): T | undefined => (v && Object.keys(v).length ? v : undefined);

/**
 * A Role to list and watch pods in the release's namespace, bound to the component's service
 * account: how Prometheus and the collector find the pods they scrape (templates/<component>/role.yaml).
 */
export function podDiscoveryRbac(scope: Construct, ctx: StackContext, component: 'collector' | 'prometheus'): void {
  const name = componentName(ctx, component);
  new k8s.KubeRole(scope, 'Role', {
    metadata: metadata(ctx, component),
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
  });
  new k8s.KubeRoleBinding(scope, 'RoleBinding', {
    metadata: metadata(ctx, component),
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', name, namespace: ctx.namespace }],
  });
}
