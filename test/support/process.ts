import { runProcess, type ManagedProcess } from '../../api/src/dev/processes.ts';
import { freePort } from './ports.ts';

export { repoRoot, runProcess, waitForHttp, type ApiProcess, type ManagedProcess } from '../../api/src/dev/processes.ts';

/** Node flags that start the OpenTelemetry SDK before the app, as the image and `make dev` do. */
export const PRELOAD = ['--import', './api/src/telemetry/preload.ts'];

/** Runs a TypeScript entry point of the API with Node, as `make dev` and the image do. */
export function runNode(
  entry: string,
  args: string[],
  env: Record<string, string>,
  nodeArgs: string[] = [],
): ManagedProcess {
  return runProcess(process.execPath, [...nodeArgs, entry, ...args], env);
}

export interface TracedApi {
  api: ManagedProcess;
  /** http://127.0.0.1:<port> */
  base: string;
  metricsPort: number;
  /** http://127.0.0.1:<metricsPort>/metrics */
  metrics: string;
}

/**
 * The API as production starts it (`node --import preload server.ts`) on free loopback ports,
 * exporting spans to `otlpEndpoint` with a short batch delay; resolves once it listens.
 */
export async function startTracedApi(options: {
  databaseUrl: string;
  otlpEndpoint: string;
  service: string;
  metricsPort?: number;
  env?: Record<string, string>;
}): Promise<TracedApi> {
  const [port, metricsPort] = [await freePort(), options.metricsPort ?? (await freePort())];
  const api = runNode(
    'api/src/server.ts',
    [],
    {
      DATABASE_URL: options.databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: String(metricsPort),
      METRICS_HOST: '127.0.0.1',
      OTEL_EXPORTER_OTLP_ENDPOINT: options.otlpEndpoint,
      OTEL_BSP_SCHEDULE_DELAY: '100',
      SERVICE_NAME: options.service,
      ...options.env,
    },
    PRELOAD,
  );
  await api.waitFor(/"msg":"listening on/);
  return { api, base: `http://127.0.0.1:${port}`, metricsPort, metrics: `http://127.0.0.1:${metricsPort}/metrics` };
}
