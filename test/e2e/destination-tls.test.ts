import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { copyFile, mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configDir } from '../../collector/fragments.ts';
import { jaegerTraces, startCollector, startJaeger, type Collector, type Jaeger } from '../support/backends.ts';
import { collectorOf, renderExample, writeCollectorFiles, type ChartCollector } from '../support/chart.ts';
import { parsePrometheus } from '../support/prometheus.ts';
import { makeCa, makeCert, type KeyPair } from '../support/tls.ts';

/**
 * Destination TLS with the real parts: the collector runs the configuration and env the chart
 * renders for examples/destinations-tls and exports to a real Jaeger v2 whose OTLP receiver
 * speaks TLS and requires a client certificate. Certificates come from openssl; the chart's
 * mounted files (/tls/jaeger/...) are those files, and only the endpoint moves to loopback.
 * The server certificate names only the Service (the example's serverName), not 127.0.0.1, so
 * the span arriving also proves the server-name override. The example's OTLP destination goes to
 * a second real Jaeger with TLS under another private CA (the example's Tempo).
 */

const SERVICE = 'tracebridge-tls-e2e';
const SERVER_NAME = 'jaeger-collector.observability.svc';

let chart: ChartCollector;
let files: string[];
let ca: KeyPair & { dir: string };
let client: KeyPair;
let jaeger: Jaeger;
/** A second backend for the example's OTLP destination: TLS with the Tempo CA, no client certificate. */
let tempo: Jaeger;
let tempoCa: KeyPair & { dir: string };
const collectors: Collector[] = [];

/**
 * The chart's env with its mounted files placed in a directory: `files` by their path under
 * /tls/ ("jaeger/ca.crt", ...); a variable whose file is not given is left out (unset).
 */
async function mounted(env: Record<string, string>, files: Record<string, string | undefined>): Promise<Record<string, string>> {
  const dir = await mkdtemp(join(tmpdir(), 'tracebridge-tls-mount-'));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    const m = /^\/tls\/(\w+)\/(ca\.crt|tls\.crt|tls\.key)$/.exec(value);
    if (!m) {
      out[name] = value;
      continue;
    }
    const source = files[`${m[1]!}/${m[2]!}`];
    if (!source) continue;
    await mkdir(join(dir, m[1]!), { recursive: true });
    out[name] = join(dir, m[1]!, m[2]!);
    await copyFile(source, out[name]);
  }
  return out;
}

async function collectorWith(files_: { ca?: string; cert?: string; key?: string; otlpCa?: string }, overrides: Record<string, never>[] = []): Promise<Collector> {
  // startCollector binds the receivers, health and metrics to free loopback ports itself.
  const listeners = /^(OTLP_(GRPC|HTTP)_ENDPOINT|COLLECTOR_(HEALTH_ENDPOINT|METRICS_HOST|METRICS_PORT))$/;
  const env = await mounted(Object.fromEntries(Object.entries(chart.env).filter(([name]) => !listeners.test(name))), {
    'jaeger/ca.crt': files_.ca,
    'jaeger/tls.crt': files_.cert,
    'jaeger/tls.key': files_.key,
    'otlp/ca.crt': files_.otlpCa,
  });
  const collector = await startCollector(
    // The API pods are found through the Kubernetes API in a cluster; here scrape/static.yaml
    // (one address, nothing listening) replaces that job.
    { files: [...files, join(configDir, 'scrape/static.yaml')] },
    {
      ...env,
      JAEGER_OTLP_ENDPOINT: jaeger.otlpGrpcEndpoint,
      OTLP_DESTINATION_ENDPOINT: tempo.otlpGrpcEndpoint,
    },
    overrides,
  );
  collectors.push(collector);
  return collector;
}

async function send(collector: Collector, name: string) {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': SERVICE }),
    spanProcessors: [new SimpleSpanProcessor({ exporter: new OTLPTraceExporter({ url: collector.otlpGrpcEndpoint }) })],
  });
  provider.getTracer('tls').startSpan(name).end();
  await provider.shutdown();
}

async function arrived(name: string, timeoutMs: number, backend: Jaeger = jaeger): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const traces = await jaegerTraces(backend.queryUrl, SERVICE, name);
    if (traces.length > 0) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

const failedSpans = async (collector: Collector) =>
  parsePrometheus(await (await fetch(collector.metricsUrl)).text())
    .filter((s) => /^otelcol_exporter_send_failed_spans/.test(s.name) && s.labels.exporter === 'otlp_grpc/jaeger')
    .reduce((sum, s) => sum + s.value, 0);

/** Retries off for the failing cases: the shipped config retries a refused handshake for 300 s. */
const NO_RETRY = { exporters: { 'otlp_grpc/jaeger': { retry_on_failure: { enabled: false } } } } as unknown as Record<string, never>;

beforeAll(async () => {
  chart = collectorOf((await renderExample('destinations-tls')).objects);
  files = writeCollectorFiles(chart, await mkdtemp(join(tmpdir(), 'tracebridge-tls-conf-')));
  ca = await makeCa('platform');
  const server = await makeCert(ca, 'jaeger-server', { dns: [SERVER_NAME], usage: 'server' });
  client = await makeCert(ca, 'collector-client', { usage: 'client' });
  const receiver = 'receivers.otlp.protocols.grpc.tls';
  jaeger = await startJaeger({ set: [`${receiver}.cert_file=${server.cert}`, `${receiver}.key_file=${server.key}`, `${receiver}.client_ca_file=${ca.cert}`] });
  // The example's OTLP destination has no serverName: the certificate names the address dialled.
  tempoCa = await makeCa('tempo');
  const tempoServer = await makeCert(tempoCa, 'tempo-server', { ips: ['127.0.0.1'], usage: 'server' });
  tempo = await startJaeger({ set: [`${receiver}.cert_file=${tempoServer.cert}`, `${receiver}.key_file=${tempoServer.key}`] });
});

afterAll(async () => {
  await Promise.all(collectors.map((c) => c.stop()));
  await jaeger.stop();
  await tempo.stop();
});

describe('examples/destinations-tls: the collector to an external Jaeger over mTLS', () => {
  it('the chart points the exporter at its mounted CA, client certificate and key, with TLS on and the server name set', () => {
    expect(chart.env).toMatchObject({
      JAEGER_OTLP_INSECURE: 'false',
      JAEGER_OTLP_TLS_CA_FILE: '/tls/jaeger/ca.crt',
      JAEGER_OTLP_TLS_CERT_FILE: '/tls/jaeger/tls.crt',
      JAEGER_OTLP_TLS_KEY_FILE: '/tls/jaeger/tls.key',
      JAEGER_OTLP_TLS_SERVER_NAME: SERVER_NAME,
      OTLP_DESTINATION_TLS_CA_FILE: '/tls/otlp/ca.crt',
    });
    expect(chart.env.JAEGER_OTLP_TLS_INSECURE_SKIP_VERIFY).toBeUndefined();
  });

  it('with the right CAs and client certificate, the span arrives in Jaeger over mTLS and in the OTLP backend over TLS', async () => {
    const collector = await collectorWith({ ca: ca.cert, cert: client.cert, key: client.key, otlpCa: tempoCa.cert });
    await send(collector, 'over-mtls');
    expect(await arrived('over-mtls', 20_000)).toBe(true);
    expect(await arrived('over-mtls', 20_000, tempo)).toBe(true);
    expect(await failedSpans(collector)).toBe(0);
  });

  it('with a CA that did not sign the server, the export is refused, counted and logged, and nothing arrives', async () => {
    const wrong = await makeCa('other');
    const collector = await collectorWith({ ca: wrong.cert, cert: client.cert, key: client.key }, [NO_RETRY]);
    await send(collector, 'wrong-ca');
    const deadline = Date.now() + 20_000;
    while ((await failedSpans(collector)) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await failedSpans(collector)).toBeGreaterThan(0);
    expect(collector.process.stderr()).toMatch(/x509: certificate signed by unknown authority/);
    expect(await arrived('wrong-ca', 1_000)).toBe(false);
  });

  it('without the client certificate, Jaeger refuses the connection (mTLS) and nothing arrives', async () => {
    const collector = await collectorWith({ ca: ca.cert }, [NO_RETRY]);
    await send(collector, 'no-client-cert');
    const deadline = Date.now() + 20_000;
    while ((await failedSpans(collector)) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await failedSpans(collector)).toBeGreaterThan(0);
    // TLS 1.3: the server rejects the handshake after the client's Finished, so the client sees
    // its next write fail (broken pipe / reset) rather than a certificate error.
    expect(collector.process.stderr()).toMatch(/Exporting failed\. Dropping data\..*"otlp_grpc\/jaeger".*code = Unavailable/);
    expect(await arrived('no-client-cert', 1_000)).toBe(false);
  });
});
