import { Chart } from 'cdk8s';
import { Construct } from 'constructs';
import { Api } from './api.ts';
import { Collector } from './collector.ts';
import { Grafana } from './grafana.ts';
import { Jaeger } from './jaeger.ts';
import { fullname, type StackContext } from './names.ts';
import { NetworkPolicies } from './network-policies.ts';
import { Postgresql } from './postgresql.ts';
import { Prometheus } from './prometheus.ts';
import { chartInfo, resolveValues, ValuesError, type TracebridgeValues, type ValuesInput } from './values.ts';

export interface TracebridgeStackProps {
  /**
   * The chart's values: any part of them (the rest comes from charts/tracebridge/values.yaml),
   * or several, merged in order like Helm's repeated --values; checked by values.schema.json and
   * the chart's validate.yaml rules (ValuesError otherwise).
   */
  readonly values?: ValuesInput | readonly ValuesInput[];
  /** Helm's release name: the objects' name prefix and app.kubernetes.io/instance. Default: tracebridge. */
  readonly release?: string;
  /** The namespace of every object. Default: the enclosing Chart's namespace, else "default". */
  readonly namespace?: string;
  /**
   * Where the generated password Secrets (PostgreSQL, Grafana admin) go. Default: the stack.
   * Give a Chart of their own to create them once and never re-apply them (see main.ts).
   */
  readonly secretsScope?: Construct;
  /** Generates those passwords; default: 32 random alphanumerics. */
  readonly generatePassword?: () => string;
}

/** Helm's rule for release names. */
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * The whole tracebridge stack, the same objects as `helm template <release> charts/tracebridge`
 * with the same values: the API (migrations in an init container), PostgreSQL or an external
 * database, the collector with its destinations, Jaeger, Prometheus, Grafana and, when enabled,
 * NetworkPolicies. Everything but the `helm test` hook, which is Helm's own.
 */
export class TracebridgeStack extends Construct {
  readonly values: TracebridgeValues;
  readonly context: StackContext;
  /** The prefix of every object's name (the chart's tracebridge.fullname). */
  readonly fullname: string;
  /** Where other workloads send OTLP/gRPC: the collector's Service, fully qualified. */
  readonly otlpGrpcEndpoint: string;
  readonly api: Api;
  readonly collector: Collector;
  readonly postgresql?: Postgresql;
  readonly jaeger?: Jaeger;
  readonly prometheus?: Prometheus;
  readonly grafana?: Grafana;
  readonly networkPolicies?: NetworkPolicies;

  constructor(scope: Construct, id: string, props: TracebridgeStackProps = {}) {
    super(scope, id);
    const release = props.release ?? 'tracebridge';
    if (release.length > 53 || !RELEASE_NAME.test(release)) {
      throw new ValuesError([`release name ${JSON.stringify(release)}: at most 53 lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`]);
    }
    const inputs: readonly ValuesInput[] = Array.isArray(props.values) ? props.values : [props.values ?? {}];
    this.values = resolveValues(...inputs);
    const namespace = props.namespace ?? Chart.of(this).namespace ?? 'default';
    const context: StackContext = { values: this.values, release, namespace, chart: chartInfo() };
    this.context = context;
    this.fullname = fullname(context);
    this.otlpGrpcEndpoint = `http://${this.fullname}-collector.${namespace}.svc:4317`;
    const secrets = { context, secretsScope: props.secretsScope, generatePassword: props.generatePassword };
    const v = this.values;

    if (v.postgresql.enabled) this.postgresql = new Postgresql(this, 'PostgreSQL', secrets);
    this.api = new Api(this, 'Api', { context });
    this.collector = new Collector(this, 'Collector', { context });
    if (v.jaeger.enabled) this.jaeger = new Jaeger(this, 'Jaeger', { context });
    if (v.prometheus.enabled) this.prometheus = new Prometheus(this, 'Prometheus', { context });
    if (v.grafana.enabled) this.grafana = new Grafana(this, 'Grafana', secrets);
    if (v.networkPolicy.enabled) this.networkPolicies = new NetworkPolicies(this, 'NetworkPolicies', { context });
  }
}

/**
 * A cdk8s Chart holding one TracebridgeStack, with stable names (no hash suffixes: the names
 * are the stack's, equal to the Helm chart's for the same release).
 */
export class TracebridgeChart extends Chart {
  readonly stack: TracebridgeStack;

  constructor(scope: Construct, id: string, props: TracebridgeStackProps = {}) {
    super(scope, id, { disableResourceNameHashes: true, namespace: props.namespace });
    this.stack = new TracebridgeStack(this, 'Stack', props);
  }
}
