import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { App, Chart } from 'cdk8s';
import { repoRoot } from './chart.ts';
import { TracebridgeChart, ValuesError } from './stack.ts';

/**
 * The cdk8s app: `node cdk8s/src/main.ts --values <file> [--values <file2>] [--release tracebridge]
 * [--namespace tracebridge] --out cdk8s/dist`. helm renders the chart with the files (exit 2
 * with helm's reasons when it refuses them).
 *
 * It writes two files: <out>/tracebridge.k8s.yaml, everything to `kubectl apply --server-side`,
 * and <out>/generated-secrets.k8s.yaml, the generated passwords (PostgreSQL, Grafana admin), to
 * create only when absent, so that a redeploy never rotates a live password (`make deploy-cdk8s`
 * does both). Without generated passwords (existingSecret everywhere) the second file is absent.
 */

export const MAIN_CHART = 'tracebridge';
export const SECRETS_CHART = 'generated-secrets';

export interface SynthOptions {
  valuesFiles?: readonly string[];
  release?: string;
  namespace?: string;
  /** Write <chart>.k8s.yaml files here (stale ones removed first); omit to only build. */
  outdir?: string;
}

export interface SynthResult {
  app: App;
  /** Everything applied with `kubectl apply --server-side`. */
  main: TracebridgeChart;
  /** The generated password Secrets, created only when absent. */
  secrets: Chart;
  /** Files written, when outdir was given. */
  files: string[];
}

export function synthesize(options: SynthOptions = {}): SynthResult {
  const app = new App({ outdir: options.outdir ?? join(repoRoot, 'cdk8s/dist') });
  const secrets = new Chart(app, SECRETS_CHART, { disableResourceNameHashes: true });
  const main = new TracebridgeChart(app, MAIN_CHART, {
    valuesFiles: options.valuesFiles,
    release: options.release ?? 'tracebridge',
    namespace: options.namespace ?? 'tracebridge',
    secretsScope: secrets,
  });
  const files: string[] = [];
  if (options.outdir) {
    mkdirSync(options.outdir, { recursive: true });
    for (const f of readdirSync(options.outdir)) if (f.endsWith('.k8s.yaml')) rmSync(join(options.outdir, f));
    app.synth();
    const secretsFile = join(options.outdir, `${SECRETS_CHART}.k8s.yaml`);
    if (main.stack.generatedSecrets.length === 0) rmSync(secretsFile, { force: true });
    else files.push(secretsFile);
    files.unshift(join(options.outdir, `${MAIN_CHART}.k8s.yaml`));
  }
  return { app, main, secrets, files };
}

const USAGE = 'usage: node cdk8s/src/main.ts --values <file> [--values <file>...] [--release tracebridge] [--namespace tracebridge] --out cdk8s/dist';

function cli(argv: string[]): number {
  let args;
  try {
    args = parseArgs({
      args: argv,
      options: {
        values: { type: 'string', multiple: true, default: [] },
        release: { type: 'string', default: 'tracebridge' },
        namespace: { type: 'string', default: 'tracebridge' },
        out: { type: 'string', default: join(repoRoot, 'cdk8s/dist') },
        help: { type: 'boolean', short: 'h', default: false },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    process.stderr.write(`cdk8s: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  try {
    const { main, secrets, files } = synthesize({ valuesFiles: args.values, release: args.release, namespace: args.namespace, outdir: args.out });
    const count = (chart: Chart) => chart.toJson().length;
    const show = (f: string) => relative(process.cwd(), f) || f;
    process.stdout.write(`cdk8s: ${show(files[0] ?? '')}: ${count(main)} objects (kubectl apply --server-side)\n`);
    const generated = count(secrets);
    if (files[1]) process.stdout.write(`cdk8s: ${show(files[1])}: ${generated} generated Secret${generated === 1 ? '' : 's'} (created only when absent)\n`);
    return 0;
  } catch (error) {
    if (error instanceof ValuesError) {
      process.stderr.write(`cdk8s: helm refused the values (${args.values.join(', ') || 'chart defaults'}):\n${error.message}\n`);
      return 2;
    }
    // No helm, or it could not run: the message says which binary.
    process.stderr.write(`cdk8s: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exit(cli(process.argv.slice(2)));
