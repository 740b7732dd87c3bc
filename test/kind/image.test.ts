import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { find, podSpecs, renderExample } from '../support/chart.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { freePort } from '../support/ports.ts';
import { repoRoot, runProcess, waitForHttp, type ManagedProcess } from '../support/process.ts';

/**
 * The image's contents without Docker: the same steps as api/Dockerfile's stages (production
 * dependencies only from package-lock.json, the API compiled with api/tsconfig.build.json)
 * into an empty directory, then the chart's migration and start commands run there — so a
 * runtime import of a dev dependency, or a start command naming a file the build does not
 * emit, fails here and not on a cluster.
 */

const run = promisify(execFile);
let app: string;
let database: TestDatabase;

beforeAll(async () => {
  app = await mkdtemp(join(tmpdir(), 'tracebridge-image-'));
  for (const file of ['package.json', 'package-lock.json', '.npmrc']) await copyFile(join(repoRoot, file), join(app, file));
  // The deps stage: npm ci --omit=dev --ignore-scripts (from npm's cache when it has everything).
  await run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app });
  // The build stage's output.
  await mkdir(join(app, 'api'));
  await run(join(repoRoot, 'node_modules/.bin/tsc'), ['-p', join(repoRoot, 'api/tsconfig.build.json'), '--outDir', join(app, 'api/dist')]);
  database = await createTestDatabase({ migrate: false });
}, 180_000);

afterAll(async () => {
  await database.drop();
  await rm(app, { recursive: true, force: true });
});

describe('the image contents run the chart’s commands', () => {
  let api: ManagedProcess;
  let port: number;
  let env: Record<string, string>;
  let args: string[];

  beforeAll(async () => {
    const spec = podSpecs([find((await renderExample('kind')).objects, 'Deployment', 'tracebridge-api')])[0]!.spec;
    args = (spec.containers[0] as unknown as { args: string[] }).args;
    const migrate = (spec.initContainers![0] as unknown as { args: string[] }).args;
    port = await freePort();
    env = {
      DATABASE_URL: database.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      METRICS_PORT: String(await freePort()),
      NODE_ENV: 'production',
    };
    // Resolves only on exit 0.
    await run(process.execPath, migrate, { cwd: app, env: { PATH: process.env.PATH, ...env } });
    api = runProcess(process.execPath, args, env, undefined, app);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, api);
  }, 60_000);

  it('no dev dependency is installed, and the API serves from them', async () => {
    await expect(run('node', ['-e', "require.resolve('vitest')"], { cwd: app })).rejects.toThrow();
    const created = await fetch(`http://127.0.0.1:${port}/users`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Image', email: 'image@example.com' }),
    });
    expect(created.status).toBe(201);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
  });

  // That node is PID 1 (exec-form CMD, no shell) is checked on the Dockerfile in workflow.test.ts.
  it('the image contents shut down cleanly on SIGTERM', async () => {
    api.child.kill('SIGTERM');
    expect(await api.exited).toBe(0);
    expect(api.stdout()).toMatch(/shutdown complete/);
  });
});
