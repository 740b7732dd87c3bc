import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../api/src/dev/processes.ts';
import { exampleValues, NAMESPACE, parseManifest, RELEASE, type K8sObject } from './chart.ts';

/** The cdk8s app run as `make synth` runs it. */

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

/** parseManifest's `source` is helm's template path; cdk8s output has none. */
export const withoutSource = (objects: (K8sObject & { source?: string })[]): K8sObject[] =>
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
  const read = (file: string) => (existsSync(join(dir, file)) ? withoutSource(parseManifest(readFileSync(join(dir, file), 'utf8'))) : []);
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

export const objectKey = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;
