import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jaegerTraces, startJaeger, toolBinary, type Jaeger } from '../support/backends.ts';
import { find, renderChart, type K8sObject } from '../support/chart.ts';
import { jaegerOf, writeJaegerFiles } from '../support/jaeger-chart.ts';
import { startSearchNode, type SearchNode } from '../support/search-node.ts';
import { runProcess } from '../support/process.ts';

/**
 * Traces survive a Jaeger restart with the chart's default storage: the real Jaeger v2 runs the
 * configuration the chart renders (its ConfigMap's files, its Deployment's env; the volume's
 * mount path becomes a temporary directory), stores a trace sent over OTLP, is stopped with
 * SIGTERM as the kubelet stops a pod, starts again on the same directory and still finds the
 * trace by id. Memory storage, rendered the same way, loses it: the check can fail. With
 * jaeger.storage.type opensearch and elasticsearch the same Jaeger keeps the trace in a real
 * OpenSearch or Elasticsearch node.
 */

const dirs: string[] = [];
const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
};
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The rendered Jaeger, with its listen addresses left to startJaeger and the volume at `dataDir`. */
function chartJaegerArgs(objects: K8sObject[], dataDir?: string): { args: string[]; env: Record<string, string> } {
  const chart = jaegerOf(objects);
  const env = Object.fromEntries(Object.entries(chart.env).filter(([name]) => !name.endsWith('_ENDPOINT')));
  if (dataDir) env.JAEGER_BADGER_DIRECTORY = dataDir;
  return { args: writeJaegerFiles(chart, tempDir('tracebridge-jaeger-conf-')), env };
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** One span over OTLP/HTTP (JSON), as any SDK sends it; returns its trace id. */
async function sendTrace(jaeger: Jaeger, name: string): Promise<string> {
  const traceId = hex(16);
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'persistence-check' } }] },
        scopeSpans: [
          {
            scope: { name: 'jaeger-persistence.test' },
            spans: [
              {
                traceId,
                spanId: hex(8),
                name,
                kind: 2,
                startTimeUnixNano: String(now - 5_000_000n),
                endTimeUnixNano: String(now),
                attributes: [{ key: 'order.id', value: { intValue: '42' } }],
              },
            ],
          },
        ],
      },
    ],
  };
  const response = await fetch(`${jaeger.otlpHttpUrl}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
  return traceId;
}

interface FoundTrace {
  spans: { operationName: string; tags: { key: string; value: unknown }[] }[];
}

/** The trace by id from Jaeger's query API (what the UI's search by id reads); undefined on 404. */
async function traceById(jaeger: Jaeger, traceId: string): Promise<FoundTrace | undefined> {
  const response = await fetch(`${jaeger.queryUrl}/api/traces/${traceId}`);
  if (response.status === 404) return undefined;
  expect(response.status).toBe(200);
  return ((await response.json()) as { data: FoundTrace[] }).data[0];
}

async function waitForTrace(jaeger: Jaeger, traceId: string, timeoutMs = 20_000): Promise<FoundTrace> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const trace = await traceById(jaeger, traceId);
    if (trace) return trace;
    if (Date.now() > deadline) throw new Error(`trace ${traceId} not in Jaeger within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe("the chart's default Jaeger (Badger on the PVC)", () => {
  it('keeps a stored trace across a SIGTERM and restart on the same volume', async () => {
    const { objects } = await renderChart();
    const chart = jaegerOf(objects);
    // The directory Badger writes is the PVC's mount, so the pod's restart finds it again.
    expect(chart.env.JAEGER_BADGER_DIRECTORY).toBe(chart.mounts.data);
    const volumes = (find(objects, 'Deployment', 'tracebridge-jaeger').spec as { template: { spec: { volumes: { name: string; persistentVolumeClaim?: { claimName: string } }[] } } })
      .template.spec.volumes;
    expect(volumes.find((v) => v.name === 'data')?.persistentVolumeClaim?.claimName).toBe(find(objects, 'PersistentVolumeClaim', 'tracebridge-jaeger').metadata.name);

    const dataDir = tempDir('tracebridge-badger-');
    const jaeger = await startJaeger(chartJaegerArgs(objects, dataDir));
    try {
      const traceId = await sendTrace(jaeger, 'checkout');
      await waitForTrace(jaeger, traceId);
      await jaeger.stop();
      expect(await jaeger.process.exited).toBe(0);
      expect(readdirSync(dataDir).sort()).toEqual(['keys', 'values']);

      await jaeger.start();
      const after = await traceById(jaeger, traceId);
      expect(after?.spans.map((s) => s.operationName)).toEqual(['checkout']);
      expect(after?.spans[0]?.tags.find((t) => t.key === 'order.id')?.value).toBe(42);

      // And it keeps storing: a trace after the restart is found too.
      await waitForTrace(jaeger, await sendTrace(jaeger, 'after-restart'));
    } finally {
      await jaeger.stop();
    }
  });

  it('refuses a second Jaeger on the same directory (why the chart never runs two pods on one volume)', async () => {
    const { objects } = await renderChart();
    const dataDir = tempDir('tracebridge-badger-');
    const first = await startJaeger(chartJaegerArgs(objects, dataDir));
    try {
      const second = chartJaegerArgs(objects, dataDir);
      const intruder = runProcess(toolBinary('JAEGER_BIN'), second.args, {
        ...second.env,
        JAEGER_OTLP_GRPC_ENDPOINT: '127.0.0.1:0',
        JAEGER_OTLP_HTTP_ENDPOINT: '127.0.0.1:0',
        JAEGER_QUERY_HTTP_ENDPOINT: '127.0.0.1:0',
        JAEGER_QUERY_GRPC_ENDPOINT: '127.0.0.1:0',
        JAEGER_HEALTH_ENDPOINT: '127.0.0.1:0',
      });
      expect(await intruder.exited).not.toBe(0);
      expect(intruder.stderr()).toMatch(/Cannot acquire directory lock/);
    } finally {
      await first.stop();
    }
  });
});

describe('jaeger.storage.badger.retention', () => {
  it('is how long Badger keeps a span: with 2s the trace is gone seconds later', async () => {
    const { objects } = await renderChart({ set: { 'jaeger.storage.badger.retention': '2s' } });
    const jaeger = await startJaeger(chartJaegerArgs(objects, tempDir('tracebridge-badger-')));
    try {
      const traceId = await sendTrace(jaeger, 'short-lived');
      await waitForTrace(jaeger, traceId);
      const deadline = Date.now() + 15_000;
      while ((await traceById(jaeger, traceId)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      expect(await traceById(jaeger, traceId)).toBeUndefined();
    } finally {
      await jaeger.stop();
    }
  });
});

describe('jaeger.storage.type=memory', () => {
  it('loses the trace on restart (what the default now avoids)', async () => {
    const { objects } = await renderChart({ set: { 'jaeger.storage.type': 'memory' } });
    const jaeger = await startJaeger(chartJaegerArgs(objects));
    try {
      const traceId = await sendTrace(jaeger, 'checkout');
      await waitForTrace(jaeger, traceId);
      await jaeger.stop();
      await jaeger.start();
      expect(await traceById(jaeger, traceId)).toBeUndefined();
    } finally {
      await jaeger.stop();
    }
  });
});

describe.each(['opensearch', 'elasticsearch'] as const)('jaeger.storage.type=%s, against a real node', (type) => {
  // One node per distribution for the file: it takes 6-11 s to start.
  let node: SearchNode | undefined;
  beforeAll(async () => {
    node = await startSearchNode(type);
  }, 120_000);
  afterAll(() => node?.stop());

  it("stores the trace in the cluster under the chart's index prefix and finds it again after a Jaeger restart", async () => {
    if (!node) throw new Error(`${type} did not start`);
    const cluster = node;
    const { objects } = await renderChart({
      set: {
        'jaeger.storage.type': type,
        [`jaeger.storage.${type}.serverUrls[0]`]: cluster.url,
        [`jaeger.storage.${type}.indexPrefix`]: 'tracebridge',
        [`jaeger.storage.${type}.auth.existingSecret`]: 'jaeger-storage',
      },
    });
    const chart = jaegerOf(objects);
    // The storage file Jaeger runs with is collector/jaeger-storage/<type>.yaml, unchanged.
    expect(chart.files[1]).toEqual(['storage.yaml', readFileSync(new URL(`../../collector/jaeger-storage/${type}.yaml`, import.meta.url), 'utf8')]);
    // The credentials reach Jaeger only from the Secret; here the test plays the kubelet. The
    // node has no security plugin, so it ignores the basic auth Jaeger sends.
    expect(chart.secretRefs).toEqual({ JAEGER_STORAGE_USERNAME: 'jaeger-storage/username', JAEGER_STORAGE_PASSWORD: 'jaeger-storage/password' });
    const password = hex(12);
    const { args, env } = chartJaegerArgs(objects);
    const jaeger = await startJaeger({ args, env: { ...env, JAEGER_STORAGE_USERNAME: 'jaeger', JAEGER_STORAGE_PASSWORD: password } });
    try {
      const traceId = await sendTrace(jaeger, 'checkout');
      await waitForTrace(jaeger, traceId);

      // The span is a document of the cluster, in the daily index named by the prefix.
      const search = await fetch(`${cluster.url}/tracebridge-jaeger-span-*/_search?q=traceID:${traceId}`);
      const hits = ((await search.json()) as { hits: { hits: { _index: string; _source: { operationName: string; process: { serviceName: string } } }[] } }).hits.hits;
      expect(hits.map((h) => [h._index.replace(/\d{4}-\d{2}-\d{2}$/, '<date>'), h._source.operationName, h._source.process.serviceName])).toEqual([
        ['tracebridge-jaeger-span-<date>', 'checkout', 'persistence-check'],
      ]);

      await jaeger.stop();
      expect(await jaeger.process.exited).toBe(0);
      await jaeger.start();
      // A new process with nothing in memory: what it finds, it read from the cluster.
      const after = await traceById(jaeger, traceId);
      expect(after?.spans.map((s) => s.operationName)).toEqual(['checkout']);
      expect(after?.spans[0]?.tags.find((t) => t.key === 'order.id')?.value).toBe(42);
      // The UI's search by service and by tag (a nested query in the cluster) finds it too.
      const found = await jaegerTraces(jaeger.queryUrl, 'persistence-check');
      expect(found.map((spans) => spans[0]?.traceID)).toContain(traceId);
      const byTag = await fetch(`${jaeger.queryUrl}/api/traces?${new URLSearchParams({ service: 'persistence-check', tags: JSON.stringify({ 'order.id': '42' }), lookback: '1h' }).toString()}`);
      expect(((await byTag.json()) as { data: { traceID: string }[] }).data.map((t) => t.traceID)).toEqual([traceId]);
      expect(jaeger.process.stdout() + jaeger.process.stderr()).not.toContain(password);
    } finally {
      await jaeger.stop();
    }
  }, 60_000);
});
