import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../../api/src/dev/processes.ts';
import { toolBinary } from './tools.ts';

/** Rendering charts/tracebridge with the real helm, and the golden files of its examples. */

const run = promisify(execFile);

export const chartDir = join(repoRoot, 'charts/tracebridge');
export const examplesDir = join(chartDir, 'examples');
export const RELEASE = 'tracebridge';
export const NAMESPACE = 'tracebridge';

export const EXAMPLES: readonly string[] = readdirSync(examplesDir, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

export const exampleValues = (example: string) => join(examplesDir, example, 'values.yaml');

export const helmBinary = () => toolBinary('HELM_BIN');

// Minimal Kubernetes object shapes: only what the tests read.
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface Rendered {
  /** Objects in helm's order, each with the template it came from. */
  objects: (K8sObject & { source: string })[];
  text: string;
}

export interface RenderOptions {
  valuesFiles?: string[];
  set?: Record<string, string>;
  release?: string;
  namespace?: string;
  /** Render the `helm test` hooks too (helm template does by default). */
  extraArgs?: string[];
}

/**
 * `helm install` keeps generated passwords with lookup; a client-side render cannot, and the
 * chart refuses to generate them there unless told that the render is not applied over live
 * Secrets (allowGeneratedPasswordsWithoutLookup). The tests render as an install would: given
 * first, so a test's own `set` overrides it.
 */
export const AS_INSTALLED = ['--set', 'allowGeneratedPasswordsWithoutLookup=true'];

function helmArgs(options: RenderOptions): string[] {
  const args = ['template', options.release ?? RELEASE, chartDir, '--namespace', options.namespace ?? NAMESPACE, ...AS_INSTALLED];
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  for (const [key, value] of Object.entries(options.set ?? {})) args.push('--set', `${key}=${value}`);
  return [...args, ...(options.extraArgs ?? [])];
}

export function parseManifest(text: string): Rendered['objects'] {
  const objects: Rendered['objects'] = [];
  for (const doc of parseAllDocuments(text)) {
    const source = /# Source: tracebridge\/(\S+)/.exec(doc.commentBefore ?? '')?.[1] ?? /# Source: tracebridge\/(\S+)/.exec(String(doc))?.[1];
    const object = doc.toJS() as K8sObject | null;
    if (object) objects.push({ ...object, source: source ?? 'unknown' });
  }
  return objects;
}

export async function renderChart(options: RenderOptions = {}): Promise<Rendered> {
  const { stdout } = await run(helmBinary(), helmArgs(options), { maxBuffer: 64 * 1024 * 1024 });
  return { text: stdout, objects: parseManifest(stdout) };
}

export const renderExample = (example: string, options: RenderOptions = {}) =>
  renderChart({ ...options, valuesFiles: [exampleValues(example), ...(options.valuesFiles ?? [])] });

/** What `helm install` prints after NOTES: (a client-side dry run). */
export async function renderNotes(options: RenderOptions = {}): Promise<string> {
  const args = helmArgs(options);
  args[0] = 'install';
  const { stdout } = await run(helmBinary(), [...args, '--dry-run=client'], { maxBuffer: 64 * 1024 * 1024 });
  return stdout.slice(stdout.indexOf('NOTES:'));
}

/** helm's error message when rendering must fail (schema or a `fail` in the templates). */
export async function renderError(options: RenderOptions): Promise<string> {
  try {
    await run(helmBinary(), helmArgs(options));
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  }
  throw new Error(`helm template succeeded with ${JSON.stringify(options)}`);
}

export function find<T extends K8sObject>(objects: readonly T[], kind: string, name: string): T {
  const found = objects.find((o) => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return found;
}

export interface Container {
  name: string;
  image: string;
  env?: { name: string; value?: string; valueFrom?: unknown }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: Record<string, unknown>;
}
export interface PodSpec {
  containers: Container[];
  initContainers?: Container[];
  securityContext?: Record<string, unknown>;
  automountServiceAccountToken?: boolean;
  serviceAccountName?: string;
}

/** Every pod spec a rendering would run: workloads' templates and bare pods (helm test). */
export function podSpecs(objects: K8sObject[]): { owner: string; spec: PodSpec }[] {
  return objects.flatMap((o) => {
    const owner = `${o.kind}/${o.metadata.name}`;
    if (o.kind === 'Pod') return [{ owner, spec: o.spec as PodSpec }];
    const template = (o.spec as { template?: { spec: PodSpec } } | undefined)?.template;
    return template ? [{ owner, spec: template.spec }] : [];
  });
}

/** A ConfigMap's or Secret's data. */
export const dataOf = (object: K8sObject): Record<string, string> => (object.data ?? {}) as Record<string, string>;

/** The collector a render ships: its configuration files, and its Deployment's env. */
export interface ChartCollector {
  /** The ConfigMap's files in the order the Deployment's args pass them: [key, text]. */
  fragments: [string, string][];
  /** Plain env values by name. */
  env: Record<string, string>;
  /** Env taken from Secrets, as "<secret>/<key>" by name. */
  secretRefs: Record<string, string>;
}

export function collectorOf(objects: K8sObject[], workload?: { kind: string; name: string }): ChartCollector {
  const configMap = dataOf(find(objects, 'ConfigMap', 'tracebridge-collector'));
  // The one Deployment, or (collector.mode agent-gateway) the agents' DaemonSet.
  const owner =
    workload ?? (objects.some((o) => o.kind === 'DaemonSet' && o.metadata.name === 'tracebridge-collector-agent') ? { kind: 'DaemonSet', name: 'tracebridge-collector-agent' } : { kind: 'Deployment', name: 'tracebridge-collector' });
  const container = podSpecs([find(objects, owner.kind, owner.name)])[0]!.spec.containers[0]! as Container & { args?: string[] };
  const env: Record<string, string> = {};
  const secretRefs: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const ref = (e.valueFrom as { secretKeyRef?: { name: string; key: string } } | undefined)?.secretKeyRef;
    if (ref) secretRefs[e.name] = `${ref.name}/${ref.key}`;
    else if (e.value !== undefined) env[e.name] = e.value;
  }
  const fragments = (container.args ?? []).map((arg): [string, string] => {
    const key = /^--config=\/conf\/(.+)$/.exec(arg)?.[1];
    const text = key === undefined ? undefined : configMap[key];
    if (key === undefined || text === undefined) throw new Error(`collector arg ${arg} names no file of the ConfigMap`);
    return [key, text];
  });
  return { fragments, env, secretRefs };
}

/**
 * A kubeconfig naming an API server nothing listens on: `otelcol validate` creates (never
 * starts) the Kubernetes clients of k8s_attributes and the loadbalancing exporter's k8s
 * resolver, which needs some cluster configuration outside a pod.
 */
export function unreachableKubeconfig(): string {
  const path = join(tmpdir(), 'tracebridge-unreachable-kubeconfig.yaml');
  writeFileSync(
    path,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]',
      'users: [{name: none, user: {token: none}}]',
      'contexts: [{name: none, context: {cluster: none, user: none}}]',
      'current-context: none',
      '',
    ].join('\n'),
  );
  return path;
}

/** Writes the chart's collector files into dir; returns their paths in --config order. */
export function writeCollectorFiles(chart: ChartCollector, dir: string): string[] {
  return chart.fragments.map(([key, text]) => {
    const path = join(dir, key);
    writeFileSync(path, text);
    return path;
  });
}

// ---- golden files ----------------------------------------------------------------------------

/**
 * Generated secrets differ on every render, and no credential belongs in a golden file: Secret
 * data is replaced by its key names. Everything else is helm's output, re-serialized.
 */
function normalize(object: K8sObject): K8sObject {
  if (object.kind !== 'Secret') return object;
  const data = (object.data ?? {}) as Record<string, string>;
  return { ...object, data: Object.fromEntries(Object.keys(data).map((k) => [k, '<redacted>'])) };
}

/** The golden files of a rendering: one per template, under examples/<case>/rendered/. */
export function goldenFiles(rendered: Rendered): Map<string, string> {
  const files = new Map<string, string[]>();
  for (const { source, ...object } of rendered.objects) {
    const path = source.replace(/^templates\//, '');
    files.set(path, [...(files.get(path) ?? []), stringify(normalize(object), { lineWidth: 0 })]);
  }
  return new Map([...files].map(([path, docs]) => [path, docs.join('---\n')]));
}

export const goldenDir = (example: string) => join(examplesDir, example, 'rendered');

export function listGolden(example: string): string[] {
  const dir = goldenDir(example);
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)]));
  try {
    return walk(dir).map((f) => f.slice(dir.length + 1)).sort();
  } catch {
    return [];
  }
}

export async function updateGolden(example: string): Promise<number> {
  const files = goldenFiles(await renderExample(example));
  rmSync(goldenDir(example), { recursive: true, force: true });
  for (const [path, text] of files) {
    const target = join(goldenDir(example), path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  return files.size;
}

// `node test/support/chart.ts update-golden` (make chart-golden) rewrites every example's rendered/.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (process.argv[2] !== 'update-golden') {
    process.stderr.write('usage: node test/support/chart.ts update-golden\n');
    process.exit(2);
  }
  for (const example of EXAMPLES) process.stdout.write(`${example}: ${await updateGolden(example)} files\n`);
}
