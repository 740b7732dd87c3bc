/**
 * Using the tracebridge construct from another cdk8s app: a platform chart that holds its own
 * objects and the tracebridge stack, with the generated passwords in a chart of their own.
 *
 *   node cdk8s/examples/embed.ts [outdir]     (default: cdk8s/dist/embed)
 *
 * writes platform.k8s.yaml (to `kubectl apply --server-side`) and platform-secrets.k8s.yaml (to
 * `kubectl create`, once: see cdk8s/README.md).
 */
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, Chart, JsonPatch } from 'cdk8s';
import { k8s } from 'cdk8s-plus-34';
import type { Construct } from 'constructs';
// From another repository: import { TracebridgeStack } from '<path to tracebridge>/cdk8s/src/index.ts';
import { TracebridgeStack } from '../src/index.ts';

export interface PlatformChartProps {
  /** Where the stack's generated password Secrets go. */
  readonly secrets: Chart;
}

export class PlatformChart extends Chart {
  readonly observability: TracebridgeStack;

  constructor(scope: Construct, id: string, props: PlatformChartProps) {
    super(scope, id, { namespace: 'platform', disableResourceNameHashes: true });

    // The chart's values, typed (generated from values.schema.json); the rest are its defaults.
    this.observability = new TracebridgeStack(this, 'Observability', {
      release: 'obs',
      values: {
        api: { environment: 'staging', samplingRatio: 0.5 },
        destinations: { debug: { enabled: true, verbosity: 'basic' } },
        networkPolicy: { enabled: true },
      },
      secretsScope: props.secrets,
    });

    // The platform's own objects next to it, e.g. the OTLP settings its other services read.
    new k8s.KubeConfigMap(this, 'OtelSettings', {
      metadata: { name: 'otel-settings' },
      data: {
        OTEL_EXPORTER_OTLP_ENDPOINT: this.observability.otlpGrpcEndpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      },
    });

    // Escape hatch: the chart's objects are cdk8s ApiObjects, patched after synthesis.
    this.observability
      .apiObject('Deployment', 'api')
      .addJsonPatch(JsonPatch.add('/metadata/annotations', { 'platform.example.com/owner': 'observability' }));
  }
}

/** The app: the platform chart and its secrets chart. */
export function platformApp(outdir: string): App {
  const app = new App({ outdir });
  const secrets = new Chart(app, 'platform-secrets', { namespace: 'platform', disableResourceNameHashes: true });
  new PlatformChart(app, 'platform', { secrets });
  return app;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  platformApp(process.argv[2] ?? fileURLToPath(new URL('../dist/embed', import.meta.url))).synth();
}
