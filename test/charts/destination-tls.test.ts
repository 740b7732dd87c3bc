import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { AS_INSTALLED, chartDir, collectorOf, find, helmBinary, renderChart, renderError, renderExample, type K8sObject, type Rendered } from '../support/chart.ts';

/**
 * Destination TLS in the chart: each destination's CA (Secret or ConfigMap) and client
 * certificate (Secret) are mounted into the collector, and the fragments' TLS variables point
 * at them. test/e2e/destination-tls.test.ts runs the result against a real mTLS Jaeger.
 */

const run = promisify(execFile);

interface Volume {
  name: string;
  projected?: { sources: ({ secret?: { name: string; items: { key: string; path: string }[] }; configMap?: { name: string; items: { key: string; path: string }[] } })[] };
}
interface PodTemplate {
  spec: { template: { spec: { volumes: Volume[]; containers: { volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[] } } };
}
const collectorPod = (r: Rendered) => (find(r.objects, 'Deployment', 'tracebridge-collector') as unknown as K8sObject & PodTemplate).spec.template.spec;

let example: Rendered;
let defaults: Rendered;
beforeAll(async () => {
  [example, defaults] = await Promise.all([renderExample('destinations-tls'), renderChart()]);
});

describe('defaults', () => {
  it('plaintext to the in-cluster Jaeger, and no TLS files or variables', () => {
    const { env } = collectorOf(defaults.objects);
    expect(env.JAEGER_OTLP_INSECURE).toBe('true');
    expect(Object.keys(env).filter((name) => name.includes('_TLS_'))).toEqual([]);
    expect(collectorPod(defaults).volumes.map((v) => v.name)).toEqual(['config']);
  });
});

describe('examples/destinations-tls', () => {
  it('mounts each CA and the client certificate read-only where the variables point', () => {
    const pod = collectorPod(example);
    const mounts = pod.containers[0]!.volumeMounts.filter((m) => m.mountPath.startsWith('/tls/'));
    expect(mounts).toEqual([
      { name: 'tls-jaeger', mountPath: '/tls/jaeger', readOnly: true },
      { name: 'tls-otlp', mountPath: '/tls/otlp', readOnly: true },
    ]);
    const volume = (name: string) => pod.volumes.find((v) => v.name === name)!.projected!.sources;
    expect(volume('tls-jaeger')).toEqual([
      { configMap: { name: 'observability-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { secret: { name: 'tracebridge-collector-client', items: [{ key: 'tls.crt', path: 'tls.crt' }, { key: 'tls.key', path: 'tls.key' }] } },
    ]);
    expect(volume('tls-otlp')).toEqual([{ secret: { name: 'tempo-ca', items: [{ key: 'ca.crt', path: 'ca.crt' }] } }]);
    const { env } = collectorOf(example.objects);
    expect(env.OTLP_DESTINATION_TLS_CA_FILE).toBe('/tls/otlp/ca.crt');
    expect(env.OTLP_DESTINATION_TLS_CERT_FILE).toBeUndefined();
    expect(env.OTLP_DESTINATION_INSECURE).toBe('false');
  });

  it('no certificate material is rendered into the manifests: only references to Secrets and ConfigMaps', () => {
    expect(example.text).not.toMatch(/BEGIN (CERTIFICATE|PRIVATE KEY|EC PRIVATE KEY)/);
  });
});

describe('other destinations', () => {
  it('Grafana Cloud takes a CA from a ConfigMap; OTLP/HTTP a client certificate', async () => {
    const r = await renderChart({
      set: {
        'destinations.grafanaCloud.enabled': 'true',
        'destinations.grafanaCloud.endpoint': 'https://otlp-gateway-prod-eu-west-2.grafana.net/otlp',
        'destinations.grafanaCloud.existingSecret': 'grafana-cloud',
        'destinations.grafanaCloud.tls.ca.configMap': 'egress-proxy-ca',
        'destinations.otlp.enabled': 'true',
        'destinations.otlp.protocol': 'http',
        'destinations.otlp.endpoint': 'https://otlp.example.com',
        'destinations.otlp.tls.clientCert.secret': 'otlp-client',
      },
    });
    const { env } = collectorOf(r.objects);
    expect(env).toMatchObject({ GRAFANA_CLOUD_TLS_CA_FILE: '/tls/grafanacloud/ca.crt', OTLP_DESTINATION_TLS_CERT_FILE: '/tls/otlp/tls.crt', OTLP_DESTINATION_TLS_KEY_FILE: '/tls/otlp/tls.key' });
    expect(collectorPod(r).volumes.map((v) => v.name)).toEqual(['config', 'tls-grafanacloud', 'tls-otlp']);
  });

  it('a disabled destination mounts nothing, whatever its tls says', async () => {
    const r = await renderChart({ set: { 'destinations.otlp.tls.ca.secret': 'tempo-ca' } });
    expect(collectorPod(r).volumes.map((v) => v.name)).toEqual(['config']);
  });
});

describe('insecureSkipVerify is only ever an explicit choice', () => {
  it('off by default for every destination', () => {
    expect(Object.keys(collectorOf(example.objects).env).filter((n) => n.endsWith('_INSECURE_SKIP_VERIFY'))).toEqual([]);
  });

  it('when chosen, the collector skips verification and the install notes warn', async () => {
    const args = ['install', 'tracebridge', chartDir, '--dry-run=client', ...AS_INSTALLED, '--namespace', 'tracebridge'];
    const set = ['destinations.datadog.enabled=true', 'destinations.datadog.existingSecret=dd', 'destinations.datadog.tls.insecureSkipVerify=true'];
    const { stdout } = await run(helmBinary(), [...args, ...set.flatMap((s) => ['--set', s])], { maxBuffer: 64 * 1024 * 1024 });
    expect(stdout).toContain('WARNING: destinations.datadog.tls.insecureSkipVerify is true');
    expect(stdout).toContain('- name: DD_TLS_INSECURE_SKIP_VERIFY\n              value: "true"');
    const { stdout: safe } = await run(helmBinary(), [...args, '--set', 'destinations.debug.enabled=true'], { maxBuffer: 64 * 1024 * 1024 });
    expect(safe).not.toContain('WARNING');
  });
});

describe('contradictions fail with the key to change', () => {
  it('TLS settings on a plaintext destination', async () => {
    expect(await renderError({ set: { 'destinations.jaeger.tls.ca.secret': 'ca' } })).toContain(
      'destinations.jaeger.tls is set, but destinations.jaeger.insecure is true (plaintext, no TLS): set destinations.jaeger.insecure=false',
    );
    expect(
      await renderError({ set: { 'destinations.otlp.enabled': 'true', 'destinations.otlp.endpoint': 'tempo:4317', 'destinations.otlp.insecure': 'true', 'destinations.otlp.tls.serverName': 'tempo' } }),
    ).toContain('destinations.otlp.tls is set, but destinations.otlp.insecure is true');
  });

  it('a CA from a Secret and a ConfigMap at once', async () => {
    expect(await renderError({ set: { 'destinations.jaeger.insecure': 'false', 'destinations.jaeger.tls.ca.secret': 'a', 'destinations.jaeger.tls.ca.configMap': 'b' } })).toContain(
      'destinations.jaeger.tls.ca: give the CA from a Secret (ca.secret) or a ConfigMap (ca.configMap), not both',
    );
  });

  it('TLS files for a plaintext http:// OTLP endpoint', async () => {
    const message = await renderError({
      set: { 'destinations.otlp.enabled': 'true', 'destinations.otlp.protocol': 'http', 'destinations.otlp.endpoint': 'http://tempo:4318', 'destinations.otlp.tls.ca.secret': 'ca' },
    });
    expect(message).toContain('destinations.otlp.tls is set, but destinations.otlp.endpoint "http://tempo:4318" is plaintext: give an https:// URL');
  });

  it('Datadog takes no CA (its exporter cannot use one), and names are checked', async () => {
    expect(await renderError({ set: { 'destinations.datadog.tls.ca.secret': 'x' } })).toMatch(/datadog\/tls.*additional properties 'ca' not allowed/);
    expect(await renderError({ set: { 'destinations.jaeger.tls.clientCert.secret': 'Not_A_Name' } })).toMatch(/jaeger\/tls\/clientCert\/secret/);
  });
});
