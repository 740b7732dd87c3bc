import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolBinary } from './backends.ts';
import { freePort } from './ports.ts';
import { runProcess, waitForHttp, type ManagedProcess } from './process.ts';

/**
 * Stand-ins for the SaaS endpoints (and only those): the exporters talking to them are the
 * real ones of the shipped pipeline.
 */

export interface GrafanaCloudGateway {
  /** Base URL for GRAFANA_CLOUD_OTLP_ENDPOINT. */
  otlpHttp: string;
  /** What the gateway accepted, as Prometheus text. */
  metricsUrl: string;
  process: ManagedProcess;
}

/**
 * Grafana Cloud's OTLP gateway: a second real collector with an OTLP/HTTP receiver that
 * requires these basic-auth credentials; accepted traces go to the OTLP receiver on sinkPort,
 * accepted metrics to a Prometheus endpoint.
 */
export async function startGrafanaCloudGateway(auth: { instanceId: string; token: string; sinkPort: number }): Promise<GrafanaCloudGateway> {
  const [http, health, prom] = await Promise.all([1, 2, 3].map(() => freePort()));
  const dir = await mkdtemp(join(tmpdir(), 'tracebridge-gateway-'));
  const config = join(dir, 'gateway.yaml');
  await writeFile(
    config,
    `extensions:
  basicauth/server:
    htpasswd:
      inline: |
        ${auth.instanceId}:${auth.token}
  health_check:
    endpoint: 127.0.0.1:${health}
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${http}
        auth:
          authenticator: basicauth/server
exporters:
  otlp_grpc/sink:
    endpoint: 127.0.0.1:${auth.sinkPort}
    tls:
      insecure: true
  prometheus/sink:
    endpoint: 127.0.0.1:${prom}
service:
  extensions: [basicauth/server, health_check]
  telemetry:
    metrics:
      level: none
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [otlp_grpc/sink]
    metrics:
      receivers: [otlp]
      exporters: [prometheus/sink]
`,
  );
  const collector = runProcess(toolBinary('OTELCOL_BIN'), ['--config', config], {});
  await waitForHttp(`http://127.0.0.1:${health}/`, collector);
  return { otlpHttp: `http://127.0.0.1:${http}`, metricsUrl: `http://127.0.0.1:${prom}/metrics`, process: collector };
}
