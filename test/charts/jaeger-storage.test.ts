import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { toolBinary } from '../support/backends.ts';
import { exampleValues, find, renderChart, renderError, renderExample, type K8sObject } from '../support/chart.ts';
import { jaegerOf, writeJaegerFiles, type ChartJaeger } from '../support/jaeger-chart.ts';

/**
 * Jaeger's storage as a user sets it (jaeger.storage, jaeger.persistence): Badger on a
 * PersistentVolumeClaim by default, one pod under Pod Security "restricted"; memory; external
 * Elasticsearch, OpenSearch and Cassandra with credentials only from Secrets. The rendered
 * configuration of every type passes the real Jaeger's `validate`; no Cassandra runs here.
 * test/e2e/jaeger-persistence.test.ts runs Badger, memory, OpenSearch and Elasticsearch for real.
 */

const run = promisify(execFile);
const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

interface PodTemplate {
  spec: {
    replicas: number;
    strategy: { type: string };
    template: {
      spec: {
        securityContext: Record<string, unknown>;
        volumes: { name: string; persistentVolumeClaim?: { claimName: string }; configMap?: { name: string }; secret?: { secretName: string } }[];
        containers: { securityContext: Record<string, unknown>; volumeMounts: { name: string; mountPath: string }[] }[];
      };
    };
  };
}
const deployment = (objects: K8sObject[]) => find(objects, 'Deployment', 'tracebridge-jaeger') as unknown as PodTemplate;
const pvcs = (objects: K8sObject[]) => objects.filter((o) => o.kind === 'PersistentVolumeClaim' && o.metadata.name.includes('jaeger'));

/** `jaeger validate` on the rendered files with the rendered env (Secrets' values stood in). */
async function validate(chart: ChartJaeger): Promise<{ ok: boolean; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tracebridge-jaeger-validate-'));
  dirs.push(dir);
  const stand = Object.fromEntries(Object.keys(chart.secretRefs).map((name) => [name, 'from-a-secret']));
  try {
    const { stdout, stderr } = await run(toolBinary('JAEGER_BIN'), ['validate', ...writeJaegerFiles(chart, dir)], {
      env: { PATH: process.env.PATH ?? '', ...chart.env, ...stand },
    });
    return { ok: true, output: stdout + stderr };
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('the default: Badger on a PersistentVolumeClaim', () => {
  it('claims a ReadWriteOnce volume of jaeger.persistence.size from the default StorageClass, mounted where Badger writes', async () => {
    const { objects } = await renderChart();
    const [pvc, ...more] = pvcs(objects);
    expect(more).toEqual([]);
    expect(pvc!.metadata.name).toBe('tracebridge-jaeger');
    expect(pvc!.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } });
    const pod = deployment(objects).spec.template.spec;
    expect(pod.volumes.find((v) => v.name === 'data')?.persistentVolumeClaim).toEqual({ claimName: 'tracebridge-jaeger' });
    const chart = jaegerOf(objects);
    expect(chart.files.map(([key]) => key)).toEqual(['config.yaml', 'storage.yaml']);
    expect(chart.files[1]![1]).toMatch(/badger:\n\s+directories:/);
    expect(chart.env.JAEGER_BADGER_DIRECTORY).toBe(chart.mounts.data);
    expect(chart.env.JAEGER_BADGER_SPAN_TTL).toBe('72h');
  });

  it('runs one pod, recreated rather than rolled, as non-root with the volume group-owned (fsGroup)', async () => {
    const { objects } = await renderChart();
    const { spec } = deployment(objects);
    expect(spec.replicas).toBe(1);
    expect(spec.strategy).toEqual({ type: 'Recreate' });
    expect(spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: 'RuntimeDefault' } });
    expect(spec.template.spec.containers[0]!.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
  });

  it('jaeger.replicas cannot be raised: a second pod could not open the volume', async () => {
    expect(await renderError({ set: { 'jaeger.replicas': '2' } })).toMatch(/at '\/jaeger\/replicas': value must be 1/);
  });

  it('takes the StorageClass, size and retention from values, or an existing claim instead of its own', async () => {
    const { objects } = await renderChart({ set: { 'jaeger.persistence.storageClass': 'fast-ssd', 'jaeger.persistence.size': '50Gi', 'jaeger.storage.badger.retention': '168h' } });
    expect(pvcs(objects)[0]!.spec).toMatchObject({ storageClassName: 'fast-ssd', resources: { requests: { storage: '50Gi' } } });
    expect(jaegerOf(objects).env.JAEGER_BADGER_SPAN_TTL).toBe('168h');

    const existing = await renderChart({ set: { 'jaeger.persistence.existingClaim': 'traces-from-before' } });
    expect(pvcs(existing.objects)).toEqual([]);
    expect(deployment(existing.objects).spec.template.spec.volumes.find((v) => v.name === 'data')?.persistentVolumeClaim).toEqual({ claimName: 'traces-from-before' });
  });

  it('refuses a retention, size or claim it cannot use, naming the key', async () => {
    expect(await renderError({ set: { 'jaeger.storage.badger.retention': '3days' } })).toMatch(/\/jaeger\/storage\/badger\/retention.*does not match/);
    expect(await renderError({ set: { 'jaeger.persistence.size': '10GB' } })).toMatch(/\/jaeger\/persistence\/size.*does not match/);
    expect(await renderError({ set: { 'jaeger.storage.type': 'memory', 'jaeger.persistence.existingClaim': 'traces' } })).toContain(
      'jaeger.persistence.existingClaim is set, but jaeger.storage.type is memory: only badger keeps traces on a volume',
    );
  });
});

describe('jaeger.storage.type=memory', () => {
  it('has no volume and keeps jaeger.maxTraces in memory', async () => {
    const { objects } = await renderChart({ set: { 'jaeger.storage.type': 'memory', 'jaeger.maxTraces': '5000' } });
    expect(pvcs(objects)).toEqual([]);
    expect(deployment(objects).spec.template.spec.volumes.map((v) => v.name)).toEqual(['config', 'tmp']);
    const chart = jaegerOf(objects);
    expect(chart.files[1]![1]).toMatch(/memory:\n\s+max_traces: \$\{env:JAEGER_MAX_TRACES/);
    expect(chart.env.JAEGER_MAX_TRACES).toBe('5000');
    expect(chart.env.JAEGER_BADGER_DIRECTORY).toBeUndefined();
  });
});

describe('external storage: credentials only from Secrets', () => {
  const cases = [
    { type: 'elasticsearch', values: exampleValues('jaeger-elasticsearch'), secret: 'jaeger-elasticsearch', ca: { configMap: { name: 'elasticsearch-ca' } } },
    {
      type: 'opensearch',
      values: undefined,
      set: {
        'jaeger.storage.type': 'opensearch',
        'jaeger.storage.opensearch.serverUrls[0]': 'https://opensearch.example.com:9200',
        'jaeger.storage.opensearch.auth.existingSecret': 'jaeger-opensearch',
        'jaeger.storage.opensearch.tls.ca.secret': 'opensearch-ca',
      },
      secret: 'jaeger-opensearch',
      ca: { secret: { secretName: 'opensearch-ca' } },
    },
    { type: 'cassandra', values: exampleValues('jaeger-cassandra'), secret: 'jaeger-cassandra', ca: { secret: { secretName: 'cassandra-ca' } } },
  ];

  it.each(cases)('$type: its storage file, username and password by secretKeyRef, the CA mounted; no volume; Jaeger validates it', async ({ type, values, set, secret, ca }) => {
    const { objects, text } = await renderChart({ valuesFiles: values ? [values] : [], set: set ?? {} });
    const chart = jaegerOf(objects);
    expect(chart.files[1]![1]).toContain(`        ${type}:\n`);
    expect(chart.secretRefs).toEqual({ JAEGER_STORAGE_USERNAME: `${secret}/username`, JAEGER_STORAGE_PASSWORD: `${secret}/password` });
    expect(chart.otherRefs).toEqual([]);
    // The config and every plain env value name the credentials only as ${env:...}.
    expect(chart.files[1]![1]).toMatch(/password: \$\{env:JAEGER_STORAGE_PASSWORD:-\}/);
    expect(Object.keys(chart.env).filter((name) => /PASSWORD|USERNAME/.test(name))).toEqual([]);
    expect(text).not.toMatch(/from-a-secret/);
    expect(pvcs(objects)).toEqual([]);
    const pod = deployment(objects).spec.template.spec;
    expect(pod.volumes.find((v) => v.name === 'storage-ca')).toMatchObject(ca);
    expect(chart.env.JAEGER_STORAGE_CA_FILE).toBe(`${chart.mounts['storage-ca']}/ca.crt`);
    expect(JSON.parse(chart.env.JAEGER_STORAGE_SERVERS!)).not.toEqual([]);

    const { ok, output } = await validate(chart);
    expect(output, output).not.toMatch(/Error/);
    expect(ok).toBe(true);
  });

  it('the validation is real: a misspelt key in the rendered file fails it', async () => {
    const chart = jaegerOf((await renderExample('jaeger-elasticsearch')).objects);
    chart.files[1]![1] = chart.files[1]![1].replace('server_urls:', 'server_url:');
    const { ok, output } = await validate(chart);
    expect(ok).toBe(false);
    expect(output).toMatch(/has invalid keys: server_url/);
  });

  it('Cassandra without TLS tells Jaeger so; with TLS and no CA it verifies against the system CAs', async () => {
    const plain = jaegerOf((await renderExample('jaeger-cassandra', { set: { 'jaeger.storage.cassandra.tls.enabled': 'false', 'jaeger.storage.cassandra.tls.ca.secret': '' } })).objects);
    expect(plain.env.JAEGER_CASSANDRA_TLS_DISABLED).toBe('true');
    expect(plain.env.JAEGER_CASSANDRA_KEYSPACE).toBe('jaeger_v1_dc1');
    expect(plain.env.JAEGER_STORAGE_CA_FILE).toBeUndefined();
    const tls = jaegerOf((await renderExample('jaeger-cassandra', { set: { 'jaeger.storage.cassandra.tls.ca.secret': '' } })).objects);
    expect(tls.env.JAEGER_CASSANDRA_TLS_DISABLED).toBe('false');
    expect(tls.env.JAEGER_STORAGE_CA_FILE).toBeUndefined();
  });

  it('without auth.existingSecret there are no credentials at all (Jaeger then sends none)', async () => {
    const chart = jaegerOf((await renderChart({ set: { 'jaeger.storage.type': 'elasticsearch', 'jaeger.storage.elasticsearch.serverUrls[0]': 'http://elasticsearch.example.com:9200' } })).objects);
    expect(chart.secretRefs).toEqual({});
    expect(chart.env.JAEGER_STORAGE_SERVERS).toBe('["http://elasticsearch.example.com:9200"]');
    expect((await validate(chart)).ok).toBe(true);
  });
});

describe('bad combinations fail at install with the key to change', () => {
  it.each([
    [{ 'jaeger.storage.type': 'elasticsearch' }, /\/jaeger\/storage\/elasticsearch\/serverUrls': minItems: got 0, want 1/],
    [{ 'jaeger.storage.type': 'opensearch' }, /\/jaeger\/storage\/opensearch\/serverUrls': minItems: got 0, want 1/],
    [{ 'jaeger.storage.type': 'cassandra' }, /\/jaeger\/storage\/cassandra\/servers': minItems: got 0, want 1/],
    [{ 'jaeger.storage.type': 'postgres' }, /\/jaeger\/storage\/type': value must be one of 'memory', 'badger', 'elasticsearch', 'opensearch', 'cassandra'/],
    [{ 'jaeger.storage.elasticsearch.serverUrls[0]': 'elasticsearch:9200' }, /\/jaeger\/storage\/elasticsearch\/serverUrls\/0.*does not match/],
    [{ 'jaeger.storage.elasticsearch.auth.password': 'hunter2' }, /\/jaeger\/storage\/elasticsearch\/auth': additional properties 'password' not allowed/],
    [{ 'jaeger.storage.cassandra.auth.existingSecret': 'Not_A_Name' }, /\/jaeger\/storage\/cassandra\/auth\/existingSecret.*does not match/],
  ])('%j', async (set, message) => {
    expect(await renderError({ set })).toMatch(message);
  });

  it('a CA for plaintext: http:// Elasticsearch URLs, or Cassandra with TLS off', async () => {
    expect(await renderError({ valuesFiles: [exampleValues('jaeger-elasticsearch')], set: { 'jaeger.storage.elasticsearch.serverUrls[0]': 'http://elasticsearch.example.com:9200' } })).toContain(
      'jaeger.storage.elasticsearch.tls.ca is set, but every serverUrl is http:// (no TLS): give https:// URLs',
    );
    expect(await renderError({ valuesFiles: [exampleValues('jaeger-cassandra')], set: { 'jaeger.storage.cassandra.tls.enabled': 'false' } })).toContain(
      'jaeger.storage.cassandra.tls.ca is set, but TLS is off: set jaeger.storage.cassandra.tls.enabled=true',
    );
  });

  it('a CA from both a Secret and a ConfigMap', async () => {
    expect(await renderError({ valuesFiles: [exampleValues('jaeger-elasticsearch')], set: { 'jaeger.storage.elasticsearch.tls.ca.secret': 'es-ca' } })).toContain(
      'jaeger.storage.elasticsearch.tls.ca: give the CA from a Secret (ca.secret) or a ConfigMap (ca.configMap), not both',
    );
  });
});

