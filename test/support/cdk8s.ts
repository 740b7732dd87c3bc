import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createTwoFilesPatch } from 'diff';
import { parse, stringify } from 'yaml';
import { repoRoot } from '../../api/src/dev/processes.ts';
import { exampleValues, NAMESPACE, parseManifest, RELEASE, type K8sObject } from './chart.ts';

/** The cdk8s app run as `make synth` runs it, and the normalization that compares it with helm's. */

const run = promisify(execFile);

export const MAIN_FILE = 'tracebridge.k8s.yaml';
export const SECRETS_FILE = 'generated-secrets.k8s.yaml';

export interface Synth {
  dir: string;
  stdout: string;
  /** tracebridge.k8s.yaml: what `kubectl apply --server-side` gets. */
  objects: K8sObject[];
  /** generated-secrets.k8s.yaml: created only when absent ([] when the file is not written). */
  secrets: K8sObject[];
}

export interface SynthOptions {
  valuesFiles?: string[];
  release?: string;
  namespace?: string;
}

const strip = (objects: (K8sObject & { source?: string })[]): K8sObject[] =>
  objects.map((o) => {
    const copy = { ...o };
    delete copy.source;
    return copy;
  });

/** `node cdk8s/src/main.ts --values ... --out <temporary dir>`, the files read back. */
export async function synth(options: SynthOptions = {}): Promise<Synth> {
  const dir = mkdtempSync(join(tmpdir(), 'tracebridge-cdk8s-'));
  const args = ['cdk8s/src/main.ts', '--release', options.release ?? RELEASE, '--namespace', options.namespace ?? NAMESPACE, '--out', dir];
  for (const file of options.valuesFiles ?? []) args.push('--values', file);
  const { stdout } = await run(process.execPath, args, { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 });
  const read = (file: string) => (existsSync(join(dir, file)) ? strip(parseManifest(readFileSync(join(dir, file), 'utf8'))) : []);
  return { dir, stdout, objects: read(MAIN_FILE), secrets: read(SECRETS_FILE) };
}

export const synthExample = (example: string, options: SynthOptions = {}) =>
  synth({ ...options, valuesFiles: [exampleValues(example), ...(options.valuesFiles ?? [])] });

/** The CLI's exit code and stderr when it must refuse the values. */
export async function synthError(options: SynthOptions): Promise<{ code: number; stderr: string }> {
  try {
    await synth(options);
  } catch (error) {
    const e = error as { code?: number; stderr?: string };
    return { code: e.code ?? -1, stderr: e.stderr ?? String(error) };
  }
  throw new Error(`cdk8s synth succeeded with ${JSON.stringify(options)}`);
}

// ---- parity normalization -------------------------------------------------------------------

export const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Objects that are Helm's alone: `helm test` hooks. */
export const isHelmHook = (o: K8sObject) => Boolean(o.metadata.annotations?.['helm.sh/hook']);

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Mappings with sorted keys, all the way down; list order is kept (it means something). */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isMapping(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  );
}

/** A ConfigMap value that is YAML or JSON is compared as what it says, not how it is written. */
function parsedConfig(text: string): unknown {
  try {
    const parsed = parse(text) as unknown;
    return isMapping(parsed) || Array.isArray(parsed) ? parsed : text;
  } catch {
    return text;
  }
}

const MANAGED_BY = { helm: 'Helm', cdk8s: 'cdk8s' } as const;

/**
 * What the two tools may legitimately write differently, and nothing else:
 * - labels: helm.sh/chart is dropped; app.kubernetes.io/managed-by (Helm / cdk8s, checked) becomes <tool>;
 * - the helm.sh/resource-policy annotation (Helm's own instruction; cdk8s gets the same effect
 *   by creating generated Secrets only when absent) is dropped;
 * - checksum/* annotations: each tool hashes its own rendering; a 64-hex value becomes <sha256>;
 * - Secret data: values become <redacted> (generated passwords differ every run), keys stay;
 * - ConfigMap data in YAML or JSON is compared parsed (formatting, comments, key order);
 * - key order everywhere. Object order is handled by comparing per kind/namespace/name.
 */
export function normalize(object: K8sObject, tool: keyof typeof MANAGED_BY): K8sObject {
  const walk = (value: unknown, parentKey: string): unknown => {
    if (Array.isArray(value)) return value.map((v) => walk(v, ''));
    if (!isMapping(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (parentKey === 'labels' && k === 'helm.sh/chart') continue;
      if (parentKey === 'annotations' && k === 'helm.sh/resource-policy') continue;
      if (parentKey === 'labels' && k === 'app.kubernetes.io/managed-by' && v === MANAGED_BY[tool]) out[k] = '<tool>';
      else if (parentKey === 'annotations' && k.startsWith('checksum/') && typeof v === 'string' && /^[0-9a-f]{64}$/.test(v)) out[k] = '<sha256>';
      else out[k] = walk(v, k);
    }
    if (parentKey === 'metadata' && isMapping(out.annotations) && Object.keys(out.annotations).length === 0) delete out.annotations;
    return out;
  };
  const o = walk(object, '') as K8sObject;
  if (o.kind === 'Secret') o.data = Object.fromEntries(Object.keys((o.data ?? {}) as Record<string, string>).map((k) => [k, '<redacted>']));
  if (o.kind === 'ConfigMap' && isMapping(o.data)) o.data = Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, typeof v === 'string' ? parsedConfig(v) : v]));
  return sortKeys(o) as K8sObject;
}

export interface Parity {
  onlyHelm: string[];
  onlyCdk8s: string[];
  /** One readable diff per object that differs, headed by kind/name. */
  diffs: string[];
  compared: number;
}

/** Helm's objects (less its hooks) against cdk8s's, by kind/namespace/name, normalized. */
export function compare(helmObjects: K8sObject[], cdk8sObjects: K8sObject[]): Parity {
  // parseManifest's `source` (the template a helm object came from) is not part of the object.
  const helm = new Map(strip(helmObjects.filter((o) => !isHelmHook(o))).map((o) => [key(o), normalize(o, 'helm')]));
  const cdk8s = new Map(strip(cdk8sObjects).map((o) => [key(o), normalize(o, 'cdk8s')]));
  const diffs: string[] = [];
  let compared = 0;
  for (const [k, h] of helm) {
    const c = cdk8s.get(k);
    if (!c) continue;
    compared++;
    const a = stringify(h, { lineWidth: 0 });
    const b = stringify(c, { lineWidth: 0 });
    if (a !== b) diffs.push(createTwoFilesPatch(`helm template: ${k}`, `cdk8s synth: ${k}`, a, b, undefined, undefined, { context: 3 }));
  }
  return {
    onlyHelm: [...helm.keys()].filter((k) => !cdk8s.has(k)).sort(),
    onlyCdk8s: [...cdk8s.keys()].filter((k) => !helm.has(k)).sort(),
    diffs,
    compared,
  };
}

/** The failure message of a parity check: which objects are missing where, then each diff. */
export function describeParity(p: Parity): string {
  const parts: string[] = [];
  if (p.onlyHelm.length) parts.push(`only in helm template: ${p.onlyHelm.join(', ')}`);
  if (p.onlyCdk8s.length) parts.push(`only in cdk8s synth: ${p.onlyCdk8s.join(', ')}`);
  return [...parts, ...p.diffs].join('\n');
}
