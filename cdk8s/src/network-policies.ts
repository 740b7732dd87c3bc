import { k8s } from 'cdk8s-plus-34';
import { Construct } from 'constructs';
import { metadata, selectorLabels, type StackContext } from './names.ts';

/** tracebridge.peers: pods of these components of this release. */
const peers = (ctx: StackContext, ...components: string[]): k8s.NetworkPolicyPeer[] => [
  {
    podSelector: {
      matchExpressions: [
        { key: 'app.kubernetes.io/instance', operator: 'In', values: [ctx.release] },
        { key: 'app.kubernetes.io/component', operator: 'In', values: components },
      ],
    },
  },
];

const tcp = (port: number): k8s.NetworkPolicyPort => ({ port: k8s.IntOrString.fromNumber(port), protocol: 'TCP' });

export interface NetworkPoliciesProps {
  readonly context: StackContext;
}

/**
 * NetworkPolicies (networkPolicy.enabled): the database only from the API, the collector only
 * from the API (OTLP) and Prometheus (metrics), the backends only from the collector, Grafana
 * and port-forward (which NetworkPolicies do not see). Ingress only, like the chart's.
 */
export class NetworkPolicies extends Construct {
  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);
    const ctx = props.context;
    const v = ctx.values;
    const policy = (component: string, ingress: k8s.NetworkPolicyIngressRule[]) =>
      new k8s.KubeNetworkPolicy(this, component, {
        metadata: metadata(ctx, component),
        spec: { podSelector: { matchLabels: selectorLabels(ctx, component) }, policyTypes: ['Ingress'], ingress },
      });

    // The API itself is open to its clients; its metrics only to the scrapers.
    policy('api', [{ ports: [tcp(8000)] }, { from: peers(ctx, 'prometheus', 'collector'), ports: [tcp(v.api.metricsPort)] }]);
    // OTLP from the API; port-forward is not subject to NetworkPolicies.
    policy('collector', [
      { from: peers(ctx, 'api'), ports: [tcp(4317), tcp(4318)] },
      { from: peers(ctx, 'prometheus'), ports: [tcp(8888)] },
    ]);
    // "test": the chart's `helm test` pod reads Jaeger; the policy is the same either way.
    if (v.jaeger.enabled) {
      policy('jaeger', [
        { from: peers(ctx, 'collector'), ports: [tcp(4317)] },
        { from: peers(ctx, 'grafana', 'test'), ports: [tcp(16686)] },
      ]);
    }
    // The API and its migrations init container only.
    if (v.postgresql.enabled) policy('postgresql', [{ from: peers(ctx, 'api'), ports: [tcp(5432)] }]);
    if (v.prometheus.enabled) policy('prometheus', [{ from: peers(ctx, 'grafana'), ports: [tcp(9090)] }]);
  }
}
