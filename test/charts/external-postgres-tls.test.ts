import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/src/config.ts';
import { exampleValues, find, podSpecs, renderChart, renderError, renderExample, type Container, type K8sObject, type Rendered } from '../support/chart.ts';

/**
 * An external PostgreSQL over TLS: externalDatabase.sslmode and a CA from a Secret or ConfigMap,
 * mounted into the API and its migrations. test/api/database-tls.test.ts shows the API verifying
 * a real PostgreSQL against such a CA with these variables.
 */

interface ApiPod {
  containers: (Container & { volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] })[];
  initContainers: (Container & { volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] })[];
  volumes: { name: string; secret?: unknown; configMap?: unknown }[];
}
const apiPod = (r: Rendered) => podSpecs([find(r.objects as K8sObject[], 'Deployment', 'tracebridge-api')])[0]!.spec as unknown as ApiPod;
const plainEnv = (c: Container) => Object.fromEntries((c.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));

const external = exampleValues('external-postgres');

describe('examples/external-postgres-tls', () => {
  it('the API and the migrations verify the full name against the mounted CA', async () => {
    const pod = apiPod(await renderExample('external-postgres-tls'));
    for (const container of [pod.containers[0]!, pod.initContainers[0]!]) {
      expect(plainEnv(container), container.name).toMatchObject({ DB_SSL_MODE: 'verify-full', DB_SSL_ROOT_CERT: '/tls/database/ca.crt' });
      expect(container.volumeMounts, container.name).toContainEqual({ name: 'database-ca', mountPath: '/tls/database', readOnly: true });
    }
    expect(pod.volumes).toContainEqual({ name: 'database-ca', configMap: { name: 'rds-ca', items: [{ key: 'global-bundle.pem', path: 'ca.crt' }] } });
  });

  it("the API's own config reads what the chart sets", async () => {
    const env = plainEnv(apiPod(await renderExample('external-postgres-tls')).containers[0]!);
    const config = loadConfig({ ...env, DATABASE_URL: env.DATABASE_URL! });
    expect(config.pool.ssl).toEqual({ mode: 'verify-full', rootCertPath: '/tls/database/ca.crt' });
  });

  it('a CA from a Secret mounts the same way', async () => {
    const r = await renderExample('external-postgres-tls', { set: { 'externalDatabase.tls.ca.configMap': '', 'externalDatabase.tls.ca.secret': 'db-ca' } });
    expect(apiPod(r).volumes).toContainEqual({ name: 'database-ca', secret: { secretName: 'db-ca', items: [{ key: 'global-bundle.pem', path: 'ca.crt' }] } });
  });
});

describe('sslmode, and the older ssl switch', () => {
  const modeOf = async (set: Record<string, string>, values = [external]) => plainEnv(apiPod(await renderChart({ valuesFiles: values, set })).containers[0]!).DB_SSL_MODE;

  it('ssl keeps its meaning: false is disable, true verify-full; sslmode wins when given', async () => {
    expect(await modeOf({})).toBe('disable');
    expect(await modeOf({ 'externalDatabase.ssl': 'true' })).toBe('verify-full');
    expect(await modeOf({ 'externalDatabase.sslmode': 'verify-ca' })).toBe('verify-ca');
    expect(await modeOf({ 'externalDatabase.sslmode': 'require' })).toBe('require');
  });

  it('the in-cluster PostgreSQL is plaintext inside the cluster, and mounts no CA', async () => {
    const pod = apiPod(await renderChart({ set: { 'externalDatabase.sslmode': 'verify-full', 'externalDatabase.tls.ca.secret': 'x' } }));
    expect(plainEnv(pod.containers[0]!).DB_SSL_MODE).toBe('disable');
    expect(plainEnv(pod.containers[0]!).DB_SSL_ROOT_CERT).toBeUndefined();
    expect(pod.volumes.map((v) => v.name)).toEqual(['tmp']);
  });

  it('without a CA nothing is mounted and Node verifies against its own CAs', async () => {
    const pod = apiPod(await renderChart({ valuesFiles: [external], set: { 'externalDatabase.sslmode': 'verify-full' } }));
    expect(plainEnv(pod.containers[0]!).DB_SSL_ROOT_CERT).toBeUndefined();
    expect(pod.initContainers[0]!.volumeMounts).toBeUndefined();
  });
});

describe('contradictions fail with the key to change', () => {
  it('ssl=true with another sslmode', async () => {
    expect(await renderError({ valuesFiles: [external], set: { 'externalDatabase.ssl': 'true', 'externalDatabase.sslmode': 'disable' } })).toContain(
      'externalDatabase.ssl=true contradicts externalDatabase.sslmode=disable: set sslmode only (ssl=true means verify-full)',
    );
  });

  it('a CA with TLS off, and a CA from two places', async () => {
    expect(await renderError({ valuesFiles: [external], set: { 'externalDatabase.tls.ca.secret': 'db-ca' } })).toContain(
      'externalDatabase.tls.ca is set, but TLS is off (sslmode disable): set externalDatabase.sslmode=verify-full',
    );
    expect(await renderError({ valuesFiles: [external], set: { 'externalDatabase.sslmode': 'verify-full', 'externalDatabase.tls.ca.secret': 'a', 'externalDatabase.tls.ca.configMap': 'b' } })).toContain(
      'externalDatabase.tls.ca: give the CA from a Secret (ca.secret) or a ConfigMap (ca.configMap), not both',
    );
  });

  it("an sslmode libpq has but the API refuses (prefer: TLS only if offered)", async () => {
    expect(await renderError({ valuesFiles: [external], set: { 'externalDatabase.sslmode': 'prefer' } })).toMatch(/externalDatabase\/sslmode.*must be one of/);
  });
});
