import { execFile } from 'node:child_process';
import { cp, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Chart } from 'cdk8s';
import { beforeAll, describe, expect, it } from 'vitest';
import { TracebridgeStack, ValuesError } from '../../cdk8s/src/index.ts';
import { AS_INSTALLED, chartDir, find, helmBinary, renderChart, renderError, renderExample, podSpecs, type K8sObject } from '../support/chart.ts';

/**
 * What a running release needs from its chart: passwords that a GitOps render cannot rotate,
 * PostgreSQL changes a StatefulSet cannot take refused with the way through, an HPA that scales
 * where the pods work, and a disruption budget that lets nodes drain.
 */

const run = promisify(execFile);

// ---- generated passwords -----------------------------------------------------------------

describe('a render that cannot read the cluster never carries a generated password', () => {
  const CLIENT_SIDE = { allowGeneratedPasswordsWithoutLookup: 'false' };

  it('helm template without existingSecrets fails, naming the value to set and why', async () => {
    const error = await renderError({ set: CLIENT_SIDE });
    expect(error).toContain('postgresql.existingSecret is empty, so the chart would generate the password');
    expect(error).toContain('every render would carry a new password, and applying it would rotate the live one');
    expect(error).toContain('helm template --dry-run=server');
    expect(await renderError({ set: { ...CLIENT_SIDE, 'postgresql.existingSecret': 'pg' } })).toContain('grafana.existingSecret is empty');
  });

  it('so does a client-side dry run; helm lint, whose `fail` never fails, still passes', async () => {
    const dryRun = await run(helmBinary(), ['install', 'tracebridge', chartDir, '--dry-run=client']).then(
      () => '',
      (e: unknown) => (e as { stderr: string }).stderr,
    );
    expect(dryRun).toContain('postgresql.existingSecret is empty');
    const { stdout } = await run(helmBinary(), ['lint', '--strict', chartDir]);
    expect(stdout).toContain('0 chart(s) failed');
  });

  it('examples/gitops (existingSecret everywhere) renders without lookup and generates nothing', async () => {
    const { objects } = await renderExample('gitops', { set: CLIENT_SIDE });
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    const refs = podSpecs(objects).flatMap(({ spec }) =>
      [...(spec.initContainers ?? []), ...spec.containers].flatMap((c) =>
        (c.env ?? []).flatMap((e) => {
          const ref = (e.valueFrom as { secretKeyRef?: { name: string; key: string } } | undefined)?.secretKeyRef;
          return ref ? [`${ref.name}/${ref.key}`] : [];
        }),
      ),
    );
    expect(new Set(refs)).toEqual(new Set(['tracebridge-postgresql-password/password', 'tracebridge-grafana-admin/admin-password']));
  });

  it('with allowGeneratedPasswordsWithoutLookup, each render has new passwords, marked for create-only tools', async () => {
    const password = async () => find((await renderChart()).objects, 'Secret', 'tracebridge-postgresql');
    const [a, b] = [await password(), await password()];
    expect(a.metadata.annotations?.['tracebridge/generated-password']).toBe('true');
    expect((a.data as Record<string, string>).password).not.toBe((b.data as Record<string, string>).password);
  });

  it('the cdk8s app allows it (its generated Secrets are only ever created), unless the values say false', () => {
    const stack = new TracebridgeStack(new Chart(new App(), 'c'), 's');
    expect(stack.generatedSecrets.map((s) => s.name).sort()).toEqual(['tracebridge-grafana', 'tracebridge-postgresql']);
    expect(() => new TracebridgeStack(new Chart(new App(), 'd'), 's', { values: { allowGeneratedPasswordsWithoutLookup: false } })).toThrow(ValuesError);
    expect(() => new TracebridgeStack(new Chart(new App(), 'e'), 's', { values: { allowGeneratedPasswordsWithoutLookup: false } })).toThrow(/postgresql\.existingSecret is empty/);
  });
});

// ---- PostgreSQL upgrades -----------------------------------------------------------------

/**
 * templates/postgresql/upgrade-check.yaml reads the live StatefulSet with lookup, which needs a
 * cluster. Here the same check (tracebridge.postgresqlUpgradeCheck) runs in the real helm on a
 * copy of the chart, given as the live object the StatefulSet a previous render made.
 */
describe('PostgreSQL changes a live StatefulSet cannot take', () => {
  let copy: string;
  const live = async (set: Record<string, string> = {}) => find((await renderChart({ set })).objects, 'StatefulSet', 'tracebridge-postgresql');

  beforeAll(async () => {
    copy = join(await mkdtemp(join(tmpdir(), 'tracebridge-upgrade-')), 'tracebridge');
    await cp(chartDir, copy, { recursive: true, dereference: true });
    await writeFile(join(copy, 'templates/zz-live-check.yaml'), '{{- include "tracebridge.postgresqlUpgradeCheck" (list . (.Files.Get "live.json" | fromJson)) -}}\n');
  });

  async function upgrade(liveObject: K8sObject, set: Record<string, string> = {}): Promise<string> {
    await writeFile(join(copy, 'live.json'), JSON.stringify(liveObject));
    const args = ['template', 'tracebridge', copy, '--namespace', 'tracebridge', ...AS_INSTALLED, ...Object.entries(set).flatMap(([k, v]) => ['--set', `${k}=${v}`])];
    return run(helmBinary(), args, { maxBuffer: 64 * 1024 * 1024 }).then(
      () => 'ok',
      (e: unknown) => (e as { stderr: string }).stderr,
    );
  }

  it('the same values pass, and so do a minor version and the same size in other units', async () => {
    const current = await live();
    expect(await upgrade(current)).toBe('ok');
    expect(await upgrade(current, { 'postgresql.image.tag': '18.3', 'postgresql.persistence.size': '1024Mi' })).toBe('ok');
  });

  it('a new volume size fails with the commands that grow the volume', async () => {
    const error = await upgrade(await live(), { 'postgresql.persistence.size': '5Gi' });
    expect(error).toContain('postgresql.persistence.size: the StatefulSet tracebridge-postgresql has a 1Gi data volume');
    const patch = /kubectl -n tracebridge patch pvc data-tracebridge-postgresql-0 -p '([^']+)'/.exec(error)?.[1];
    expect(JSON.parse(patch!)).toEqual({ spec: { resources: { requests: { storage: '5Gi' } } } });
    expect(error).toContain('kubectl -n tracebridge delete statefulset tracebridge-postgresql --cascade=orphan');
    expect(error).toContain('set postgresql.persistence.size=1Gi');
  });

  it('a new major version fails with the dump-and-restore steps, and passes when allowed', async () => {
    const current = await live();
    const error = await upgrade(current, { 'postgresql.image.tag': '19.0' });
    expect(error).toContain('postgresql.image.tag 19.0: the StatefulSet tracebridge-postgresql runs PostgreSQL 18 (postgres:18.1)');
    expect(error).toContain('kubectl -n tracebridge exec tracebridge-postgresql-0 -- pg_dump -U tracebridge -d tracebridge --format=custom > tracebridge.dump');
    expect(error).toContain('pg_restore -U tracebridge -d tracebridge --clean --if-exists < tracebridge.dump');
    expect(await upgrade(current, { 'postgresql.image.tag': '19.0', 'postgresql.allowMajorVersionChange': 'true' })).toBe('ok');
  });

  it('reads the major version from any image reference: a registry port, a digest', async () => {
    const withImage = async (image: string) => {
      const sts = structuredClone(await live());
      (sts.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image = image;
      return sts;
    };
    expect(await upgrade(await withImage('registry.example.com:5000/library/postgres:17.6'))).toContain('runs PostgreSQL 17 (registry.example.com:5000/library/postgres:17.6)');
    expect(await upgrade(await withImage('postgres:18.1@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'))).toBe('ok');
    // No tag to read: nothing to compare, nothing refused.
    expect(await upgrade(await withImage('postgres@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'))).toBe('ok');
  });

  it('helm template (no cluster) renders no check object', async () => {
    const { objects } = await renderChart();
    expect(objects.filter((o) => o.source.includes('upgrade-check'))).toEqual([]);
  });
});

// ---- autoscaling and disruption ----------------------------------------------------------

const millicores = (q: string) => (q.endsWith('m') ? Number(q.slice(0, -1)) : Number(q) * 1000);

describe('the HPA scales where the API works', () => {
  const AUTOSCALED = { 'api.autoscaling.enabled': 'true' };

  it('by default it adds pods at 60 % of the CPU limit (300m: 600 % of the 50m request)', async () => {
    const { objects } = await renderChart({ set: AUTOSCALED });
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'tracebridge-api').spec as { metrics: { resource: { name: string; target: { averageUtilization: number } } }[] };
    const resources = podSpecs([find(objects, 'Deployment', 'tracebridge-api')])[0]!.spec.containers[0]!.resources!;
    const [metric] = hpa.metrics;
    expect(metric!.resource.name).toBe('cpu');
    const at = (millicores(resources.requests!.cpu!) * metric!.resource.target.averageUtilization) / 100;
    expect(at).toBe(300);
    expect(at / millicores(resources.limits!.cpu!)).toBe(0.6);
  });

  it.each([
    ['80 % of a 50m request: 40m, nearly idle', { 'api.autoscaling.targetCPUUtilizationPercentage': '80' }, 'api.autoscaling.targetCPUUtilizationPercentage 80 of the 50m CPU request scales at 40m, below 25 % of the 500m limit: the HPA adds pods while they are nearly idle; set it to at least 250'],
    ['950 %: 475m, throttled first', { 'api.autoscaling.targetCPUUtilizationPercentage': '950' }, 'api.autoscaling.targetCPUUtilizationPercentage 950 of the 50m CPU request scales at 475m, above 90 % of the 500m limit: pods are throttled before the HPA adds any; set it to at most 900'],
    ['600 % under a limit of 2 cores: 300m, 15 %', { 'api.resources.limits.cpu': '2' }, 'scales at 300m, below 25 % of the 2000m limit'],
    ['no CPU request', { 'api.resources.requests.cpu': 'null' }, "api.autoscaling needs api.resources.requests.cpu: the HPA's target is a percentage of it"],
  ])('refused: %s', async (_case, set, message) => {
    expect(await renderError({ set: { ...AUTOSCALED, ...set } })).toContain(message);
  });

  it('accepted where the target sits between a quarter and 90 % of the limit', async () => {
    const { objects } = await renderChart({ set: { ...AUTOSCALED, 'api.resources.requests.cpu': '250m', 'api.autoscaling.targetCPUUtilizationPercentage': '80' } });
    expect(find(objects, 'HorizontalPodAutoscaler', 'tracebridge-api')).toBeDefined();
  });
});

/** Pods the eviction API lets go at the replica floor, as the disruption controller counts. */
function evictable(pdb: K8sObject, replicas: number): number {
  const spec = pdb.spec as { minAvailable?: number | string; maxUnavailable?: number | string };
  const count = (v: number | string) => (typeof v === 'number' ? v : Math.ceil((Number(v.replace('%', '')) * replicas) / 100));
  if (spec.maxUnavailable !== undefined) return Math.min(replicas, count(spec.maxUnavailable));
  return Math.max(0, replicas - count(spec.minAvailable!));
}

describe('the disruption budget lets nodes drain', () => {
  const PDB = { 'api.podDisruptionBudget.enabled': 'true' };
  const pdbOf = async (set: Record<string, string>) => find((await renderChart({ set: { ...PDB, ...set } })).objects, 'PodDisruptionBudget', 'tracebridge-api');

  it('one replica: maxUnavailable 1 instead of a minAvailable 1 that would refuse every eviction', async () => {
    const pdb = await pdbOf({});
    expect(pdb.spec).toMatchObject({ maxUnavailable: 1 });
    expect(pdb.spec).not.toHaveProperty('minAvailable');
    expect(evictable(pdb, 1)).toBe(1);
    const autoscaled = await pdbOf({ 'api.replicas': '3', 'api.autoscaling.enabled': 'true', 'api.autoscaling.minReplicas': '1', 'api.podDisruptionBudget.minAvailable': '100%' });
    expect(autoscaled.spec).toMatchObject({ maxUnavailable: 1 });
  });

  it('more replicas: the minAvailable asked for, leaving pods to evict', async () => {
    const { objects } = await renderExample('all-destinations');
    const pdb = find(objects, 'PodDisruptionBudget', 'tracebridge-api');
    expect(pdb.spec).toMatchObject({ minAvailable: 1 });
    expect(evictable(pdb, 2)).toBe(1);
    expect(evictable(await pdbOf({ 'api.replicas': '4', 'api.podDisruptionBudget.minAvailable': '50%' }), 4)).toBe(2);
  });

  it.each([
    [{ 'api.replicas': '2', 'api.podDisruptionBudget.minAvailable': '2' }, 'api.podDisruptionBudget.minAvailable 2 keeps all 2 API pods (api.replicas) available: no pod could ever be evicted and node drains would hang; set it below 2'],
    [{ 'api.replicas': '2', 'api.podDisruptionBudget.minAvailable': '60%' }, 'api.podDisruptionBudget.minAvailable 60% keeps all 2 API pods (api.replicas) available'],
    [{ 'api.autoscaling.enabled': 'true', 'api.autoscaling.minReplicas': '3', 'api.podDisruptionBudget.minAvailable': '3' }, 'keeps all 3 API pods (api.autoscaling.minReplicas) available'],
  ])('a budget that keeps every pod is refused: %j', async (set, message) => {
    expect(await renderError({ set: { ...PDB, ...set } })).toContain(message);
  });

  it('examples/availability: one autoscaled replica at the floor can be evicted, and the HPA target is 60 % of the limit', async () => {
    const { objects } = await renderExample('availability');
    expect(evictable(find(objects, 'PodDisruptionBudget', 'tracebridge-api'), 1)).toBe(1);
    const hpa = find(objects, 'HorizontalPodAutoscaler', 'tracebridge-api').spec as { minReplicas: number; metrics: { resource: { target: { averageUtilization: number } } }[] };
    expect(hpa.minReplicas).toBe(1);
    const resources = podSpecs([find(objects, 'Deployment', 'tracebridge-api')])[0]!.spec.containers[0]!.resources!;
    expect((millicores(resources.requests!.cpu!) * hpa.metrics[0]!.resource.target.averageUtilization) / 100 / millicores(resources.limits!.cpu!)).toBe(0.6);
  });

});
