import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { AS_INSTALLED, exampleValues } from '../support/chart.ts';
import { freePort } from '../support/ports.ts';
import { toolBinary } from '../support/tools.ts';
import { repoRoot, runProcess, waitForHttp, type ManagedProcess } from '../support/process.ts';

/**
 * Docs don't rot: every command in the README's code blocks is either run here for real
 * (the local quick start with its curl examples, helm, node) or — when it needs Docker or a
 * cluster — dry-run (`make -n`) and checked against the files and names it refers to.
 */

const run = promisify(execFile);

/** Commands of the ```bash / ```sh blocks: continuations joined, comments and env prefixes kept apart. */
export function readmeCommands(markdown: string): string[] {
  const blocks = [...markdown.matchAll(/^\s*```(?:bash|sh)\n([\s\S]*?)^\s*```/gm)].map((m) => m[1]!);
  return blocks.flatMap((block) =>
    block
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .map((line) => line.replace(/\s+#\s.*$/, '').trim())
      .filter((line) => line && !line.startsWith('#')),
  );
}

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const commands = readmeCommands(readme);

/** Leading VAR=value assignments. */
const withoutEnv = (command: string) => command.replace(/^(?:[A-Z_]+=\S*\s+)+/, '');

type Kind = 'make-local' | 'make-cluster' | 'curl' | 'node' | 'helm-local' | 'cluster' | 'self';
const CLUSTER_MAKE = /^make (kind-|image|deploy|undeploy|port-forward-|status|logs|demo-k8s|grafana-password)/;

function classify(command: string): Kind {
  const c = withoutEnv(command);
  if (c === 'make test') return 'self';
  if (CLUSTER_MAKE.test(c)) return 'make-cluster';
  if (c.startsWith('make ')) return 'make-local';
  if (c.startsWith('curl ')) return 'curl';
  if (c.startsWith('node ')) return 'node';
  if (/^helm (install|template|lint)\b/.test(c)) return 'helm-local';
  if (/^(kubectl|docker|kind|helm test) /.test(c)) return 'cluster';
  throw new Error(`README command with no check: ${command}`);
}

describe('the README commands', () => {
  it('every command in a code block is one this suite checks', () => {
    expect(commands.length).toBeGreaterThan(20);
    for (const command of commands) expect(() => classify(command), command).not.toThrow();
  });

  it.each(commands.filter((c) => ['make-local', 'make-cluster'].includes(classify(c))).map((c) => [c]))('`%s` is a target make can run', async (command) => {
    const [, ...words] = withoutEnv(command).split(/\s+/);
    const vars = words.filter((w) => w.includes('='));
    for (const target of words.filter((w) => !w.includes('='))) {
      const { stdout } = await run('make', ['-n', '--no-print-directory', target, ...vars], { cwd: repoRoot });
      for (const path of [...stdout.matchAll(/(?:^|[\s=])((?:charts|api|cdk8s)\/[\w./-]+\.(?:yaml|json|ts|mjs))/g)].map((m) => m[1]!)) {
        expect(readFileSync(join(repoRoot, path)).length, path).toBeGreaterThan(0);
      }
    }
  });

  it('`helm install tracebridge charts/tracebridge` is a complete install (client-side dry run)', async () => {
    const helmCommands = commands.filter((c) => classify(c) === 'helm-local');
    expect(helmCommands).toContain('helm install tracebridge charts/tracebridge');
    for (const command of helmCommands) {
      const [, ...args] = withoutEnv(command).split(/\s+/);
      const { stdout } = await run(toolBinary('HELM_BIN'), [...args, '--dry-run=client', ...AS_INSTALLED], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
      expect(stdout).toContain('kind: Deployment');
      expect(stdout).toContain('NOTES:');
    }
  });

  it('the Secrets the walkthroughs create are the ones the examples reference, with the same keys', () => {
    const secrets = commands
      .filter((c) => c.startsWith('kubectl -n tracebridge create secret generic'))
      .map((c) => ({ name: c.split(/\s+/)[6]!, keys: [...c.matchAll(/--from-literal=([\w-]+)=/g)].map((m) => m[1]!) }));
    type Values = { destinations: Record<string, Record<string, string>> };
    const grafana = (parse(readFileSync(exampleValues('grafana-cloud'), 'utf8')) as Values).destinations.grafanaCloud!;
    const datadog = (parse(readFileSync(exampleValues('datadog'), 'utf8')) as Values).destinations.datadog!;
    expect(secrets).toEqual([
      { name: grafana.existingSecret, keys: ['instance-id', 'api-token'] },
      { name: datadog.existingSecret, keys: ['api-key'] },
    ]);
    // The chart's default key names are the ones the commands create.
    const defaults = (parse(readFileSync(join(repoRoot, 'charts/tracebridge/values.yaml'), 'utf8')) as Values).destinations;
    expect([defaults.grafanaCloud!.instanceIdKey, defaults.grafanaCloud!.apiTokenKey, defaults.datadog!.apiKeyKey]).toEqual(['instance-id', 'api-token', 'api-key']);
  });

  it('cluster-only commands name the release and namespace the chart and examples use', () => {
    const cluster = commands.filter((c) => classify(c) === 'cluster');
    expect(cluster.some((c) => c.startsWith('helm test')) && cluster.some((c) => c.startsWith('kubectl'))).toBe(true);
    for (const command of cluster) {
      if (command.startsWith('helm test')) expect(command).toBe('helm test tracebridge -n tracebridge');
      if (command.startsWith('kubectl')) expect(command).toMatch(/^kubectl -n tracebridge /);
    }
  });
});

describe('the quick start, for real: make up, make demo, the curl examples, make down', () => {
  let stack: ManagedProcess;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tracebridge-quickstart-'));
    // As root, PostgreSQL runs as the postgres user, which must be able to enter the directory.
    await chmod(dir, 0o755);
    // Its own database directory and pid file; the ports are the documented ones.
    stack = runProcess('make', ['--no-print-directory', 'up', `STACK_DIR=${join(dir, 'stack')}`], {
      ...(process.env as Record<string, string>),
      EMBEDDED_PG_DIR: join(dir, 'postgres'),
      // Internal to the stack (not a documented address): a free one, so it cannot collide.
      EMBEDDED_PG_PORT: String(await freePort()),
    });
    await Promise.race([
      stack.waitFor(/tracebridge is up/, 120_000),
      stack.exited.then((code) => {
        throw new Error(`make up exited (${String(code)}):\n${stack.stdout()}\n${stack.stderr()}`);
      }),
    ]);
    await waitForHttp('http://127.0.0.1:8000/readyz', stack);
  }, 150_000);

  afterAll(async () => {
    const { stdout } = await run('make', ['--no-print-directory', 'down', `STACK_DIR=${join(dir, 'stack')}`], { cwd: repoRoot });
    expect(stdout).toContain('stack stopped');
    await stack.exited;
    await rm(dir, { recursive: true, force: true });
  }, 60_000);

  it('make demo prints the GET /users/:id trace read back from Jaeger: the SERVER span and its two ORM spans', async () => {
    const { stdout } = await run('make', ['--no-print-directory', 'demo'], { cwd: repoRoot, timeout: 60_000 });
    expect(stdout).toMatch(/^ {2}GET \/users\/:id\n {4}db\.query\.find\n {4}db\.relationship\.load\n/m);
  }, 70_000);

  it('every curl example of the API section answers with a success status', async () => {
    const curls = commands.filter((c) => classify(c) === 'curl');
    expect(curls.length).toBeGreaterThanOrEqual(9);
    for (const command of curls) {
      // The shell parses the quoting, as it would for a reader; -f fails on HTTP >= 400.
      const { stdout } = await run('bash', ['-c', command.replace(/^curl /, 'curl -fsS -o /dev/null -w "%{http_code}" ')], { cwd: repoRoot });
      expect(Number(stdout), command).toBeLessThan(400);
    }
  }, 60_000);

  it('the documented start command serves (node --import preload server)', async () => {
    const start = commands.filter((c) => classify(c) === 'node');
    expect(start).toEqual(['node --import ./api/src/telemetry/preload.ts api/src/server.ts']);
    const [, ...args] = start[0]!.split(' ');
    const port = String(await freePort());
    const api = runProcess(process.execPath, args, {
      DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none',
      PORT: port,
      METRICS_PORT: String(await freePort()),
    });
    try {
      await waitForHttp(`http://127.0.0.1:${port}/healthz`, api);
      const info = (await (await fetch(`http://127.0.0.1:${port}/`)).json()) as { tracing: boolean };
      expect(info.tracing).toBe(true);
    } finally {
      await api.stop();
    }
  });
});
