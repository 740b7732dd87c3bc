import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiObject, Chart, Helm, JsonPatch } from 'cdk8s';
import { Construct } from 'constructs';
import { stringify } from 'yaml';
import { chartDir, helmBinary } from './chart.ts';
import type { TracebridgeValues } from './values.generated.ts';

/** Any part of the values, at any depth; a null deletes a default, as in a Helm values file. */
export type DeepPartial<T> = T extends readonly (infer U)[] ? U[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> | null } : T;
export type ValuesInput = DeepPartial<TracebridgeValues>;

/**
 * The annotation the chart puts on Secrets holding a password it generates at install (kept
 * across upgrades with `lookup`, which a client-side render cannot do): those are created only
 * when absent, never applied over a live one.
 */
export const GENERATED_PASSWORD_ANNOTATION = 'tracebridge/generated-password';

/** helm refused to render: the values break the schema or a rule of templates/validate.yaml. */
export class ValuesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValuesError';
  }
}

export interface TracebridgeStackProps {
  /**
   * The chart's values (the props type is generated from values.schema.json): any part of them,
   * the rest being the chart's defaults, or several merged in order like repeated `--values`.
   * helm checks them; a refusal throws a ValuesError with helm's message.
   */
  readonly values?: ValuesInput | readonly ValuesInput[];
  /** Values files, given to helm before `values` (the CLI's --values). */
  readonly valuesFiles?: readonly string[];
  /** The release name: the objects' name prefix and app.kubernetes.io/instance. Default: tracebridge. */
  readonly release?: string;
  /** The namespace of every object. Default: the enclosing Chart's namespace, else "default". */
  readonly namespace?: string;
  /**
   * Where the Secrets with generated passwords (PostgreSQL, Grafana admin) go. Default: the
   * stack. Give them a Chart of their own to create once and never re-apply (see main.ts).
   */
  readonly secretsScope?: Construct;
  /** The helm binary. Default: HELM_BIN, else the pinned one from collector/build-tools.sh. */
  readonly helmExecutable?: string;
}

/** A Secret key a workload of the stack reads. */
export interface SecretKeyReference {
  readonly name: string;
  readonly key: string;
}

type Json = Record<string, unknown>;
type PodSpec = { containers?: Json[]; initContainers?: Json[] };

const MANAGED_BY = 'app.kubernetes.io/managed-by';
/** The kinds the chart may render that are cluster-scoped (collector.scrape.pods' ClusterRole). */
const CLUSTER_SCOPED_KINDS = new Set(['ClusterRole', 'ClusterRoleBinding']);
const isGenerated = (o: ApiObject) =>
  o.kind === 'Secret' && (o.metadata.toJson() as { annotations?: Record<string, string> }).annotations?.[GENERATED_PASSWORD_ANNOTATION] === 'true';
const COMPONENT = 'app.kubernetes.io/component';
/** The collector's tier in collector.mode agent-gateway (agent, gateway): its objects carry it. */
const COLLECTOR_TIER = 'tracebridge.io/collector-tier';

/**
 * The tracebridge stack: the objects of charts/tracebridge, rendered by helm (cdk8s' Helm
 * construct runs `helm template --skip-tests`; the `helm test` hook is Helm's own). They are
 * ordinary cdk8s ApiObjects: patch them after synthesis with `apiObject(...).addJsonPatch(...)`.
 */
export class TracebridgeStack extends Construct {
  readonly release: string;
  readonly namespace: string;
  /** The Helm construct holding the objects (all but the generated Secrets when secretsScope is given). */
  readonly helm: Helm;
  /** The Secrets with generated passwords, wherever they went. */
  readonly generatedSecrets: readonly ApiObject[];
  /** Every object, in helm's order, the generated Secrets included. */
  readonly apiObjects: readonly ApiObject[];
  /** Where other workloads send OTLP/gRPC: the collector's Service, fully qualified. */
  readonly otlpGrpcEndpoint: string;
  /** Where other workloads send OTLP/HTTP (the base URL; exporters append /v1/traces, ...). */
  readonly otlpHttpEndpoint: string;

  constructor(scope: Construct, id: string, props: TracebridgeStackProps = {}) {
    super(scope, id);
    this.release = props.release ?? 'tracebridge';
    this.namespace = props.namespace ?? Chart.of(this).namespace ?? 'default';

    const inputs: readonly ValuesInput[] = props.values === undefined ? [] : Array.isArray(props.values) ? props.values : [props.values];
    const helmExecutable = props.helmExecutable ?? helmBinary();
    const dir = mkdtempSync(join(tmpdir(), 'tracebridge-cdk8s-values-'));
    try {
      // The generated passwords, new in each render, are the stack's generatedSecrets, created
      // only when absent (secretsScope): the chart may generate them without lookup. First, so
      // that values setting allowGeneratedPasswordsWithoutLookup=false (existingSecret only) win.
      const allow = join(dir, 'generated-passwords.yaml');
      writeFileSync(allow, stringify({ allowGeneratedPasswordsWithoutLookup: true }));
      const files = [allow, ...(props.valuesFiles ?? [])];
      inputs.forEach((input, i) => {
        const file = join(dir, `values-${i}.yaml`);
        writeFileSync(file, stringify(input));
        files.push(file);
      });
      // cdk8s' Helm keeps helm's output (the generated passwords included) in a directory it
      // makes under os.tmpdir() and never removes: point that at ours, removed below.
      const tmp = process.env.TMPDIR;
      process.env.TMPDIR = dir;
      try {
        this.helm = new Helm(this, 'Chart', {
          chart: chartDir,
          releaseName: this.release,
          namespace: this.namespace,
          helmExecutable,
          helmFlags: ['--skip-tests', ...files.flatMap((f) => ['--values', f])],
        });
      } finally {
        if (tmp === undefined) delete process.env.TMPDIR;
        else process.env.TMPDIR = tmp;
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (message.startsWith('unable to execute')) throw error;
      // helm's log lines (level=INFO about the chart's symlinks, level=ERROR repeating the error)
      // and its --debug hint aside.
      const lines = message.split('\n').filter((line) => line.trim() && !line.startsWith('level=') && !line.startsWith('Use --debug flag'));
      throw new ValuesError(lines.join('\n'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const objects = this.helm.apiObjects.map((o) => this.relabel(o));
    const generated = new Set(objects.filter((o) => isGenerated(o)));
    const secretsScope = props.secretsScope;
    this.apiObjects = objects.map((o) => {
      if (!generated.has(o) || !secretsScope) return o;
      this.helm.node.tryRemoveChild(o.node.id);
      return new ApiObject(secretsScope, `${this.node.id}-${o.node.id}`, o.toJson() as ConstructorParameters<typeof ApiObject>[2]);
    });
    this.generatedSecrets = this.apiObjects.filter((o) => isGenerated(o));

    const collector = this.service('collector');
    this.otlpGrpcEndpoint = `http://${collector.host}:${collector.port('otlp-grpc')}`;
    this.otlpHttpEndpoint = `http://${collector.host}:${collector.port('otlp-http')}`;
  }

  /**
   * The chart's `managed-by: Helm` (its .Release.Service) says cdk8s here, as kubectl applies these.
   * An object without the label (one of extraObjects) stays without it, as helm renders it.
   */
  private relabel(o: ApiObject): ApiObject {
    if (o.metadata.getLabel(MANAGED_BY) === undefined) return o;
    o.metadata.addLabel(MANAGED_BY, 'cdk8s');
    // cdk8s gives every object of a Chart its namespace; cluster-scoped ones have none in helm's output.
    if (CLUSTER_SCOPED_KINDS.has(o.kind) && (o.toJson() as { metadata?: { namespace?: string } }).metadata?.namespace !== undefined) {
      o.addJsonPatch(JsonPatch.remove('/metadata/namespace'));
    }
    const template = (o.toJson() as { spec?: { template?: { metadata?: { labels?: Json } } } }).spec?.template;
    if (template?.metadata?.labels?.[MANAGED_BY] !== undefined) o.addJsonPatch(JsonPatch.replace(`/spec/template/metadata/labels/${MANAGED_BY.replace('/', '~1')}`, 'cdk8s'));
    return o;
  }

  /**
   * The object of this kind for a component (its app.kubernetes.io/component label), to patch.
   * With collector.mode agent-gateway, the collector's agent and gateway objects are picked by
   * `tier` (e.g. ('Deployment', 'collector', 'gateway')); without it, the component's objects
   * outside any tier (the collector Service the API sends to).
   */
  apiObject(kind: string, component: string, tier?: 'agent' | 'gateway'): ApiObject {
    const found = this.apiObjects.filter((o) => o.kind === kind && o.metadata.getLabel(COMPONENT) === component && o.metadata.getLabel(COLLECTOR_TIER) === tier);
    const [only] = found;
    if (!only || found.length > 1) {
      const all = this.apiObjects.map((o) => `${o.kind}/${o.metadata.getLabel(COMPONENT) ?? '?'}`).join(', ');
      throw new Error(`${found.length === 0 ? 'no' : 'more than one'} ${kind} for component ${component} in this stack (${all})`);
    }
    return only;
  }

  /** A component's Service: its name, in-cluster host name and named ports. */
  service(component: string): { name: string; host: string; port: (name: string) => number } {
    const service = this.apiObject('Service', component);
    const name = service.name;
    const ports = ((service.toJson() as { spec: { ports?: { name?: string; port: number }[] } }).spec.ports ?? []);
    return {
      name,
      host: `${name}.${this.namespace}.svc`,
      port: (portName) => {
        const port = ports.find((p) => p.name === portName);
        if (!port) throw new Error(`Service ${name} has no port ${portName} (${ports.map((p) => p.name).join(', ')})`);
        return port.port;
      },
    };
  }

  /** Every Secret key the stack's pods read (env secretKeyRefs), generated or expected to exist. */
  get secretKeysRead(): SecretKeyReference[] {
    const seen = new Map<string, SecretKeyReference>();
    for (const o of this.apiObjects) {
      const spec = (o.toJson() as { spec?: { template?: { spec?: PodSpec } } }).spec?.template?.spec;
      for (const container of [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])]) {
        for (const env of (container.env ?? []) as { valueFrom?: { secretKeyRef?: SecretKeyReference } }[]) {
          const ref = env.valueFrom?.secretKeyRef;
          if (ref) seen.set(`${ref.name}/${ref.key}`, { name: ref.name, key: ref.key });
        }
      }
    }
    return [...seen.values()];
  }
}

/** A cdk8s Chart holding one TracebridgeStack. */
export class TracebridgeChart extends Chart {
  readonly stack: TracebridgeStack;

  constructor(scope: Construct, id: string, props: TracebridgeStackProps = {}) {
    // No Chart namespace: the chart's templates set each namespaced object's, and a cluster-scoped
    // one (a PriorityClass in extraObjects) must stay without, as helm renders it.
    super(scope, id, { disableResourceNameHashes: true });
    this.stack = new TracebridgeStack(this, 'Stack', { ...props, namespace: props.namespace ?? 'default' });
  }
}
