import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataOf, find, podSpecs, type Container, type K8sObject } from './chart.ts';

/** The Jaeger a render ships: its configuration files in --config order, its env, its mounts. */
export interface ChartJaeger {
  /** [ConfigMap key, text], in the order the Deployment's args pass them. */
  files: [string, string][];
  /** Plain env values by name. */
  env: Record<string, string>;
  /** Env taken from Secrets, as "<secret>/<key>" by name. */
  secretRefs: Record<string, string>;
  /** Names of env taken from elsewhere (fieldRef, configMapKeyRef, ...). */
  otherRefs: string[];
  /** mountPath by volume name. */
  mounts: Record<string, string>;
}

export function jaegerOf(objects: K8sObject[]): ChartJaeger {
  const configMap = dataOf(find(objects, 'ConfigMap', 'tracebridge-jaeger'));
  const container = podSpecs([find(objects, 'Deployment', 'tracebridge-jaeger')])[0]!.spec.containers[0]! as Container & {
    args?: string[];
    volumeMounts?: { name: string; mountPath: string }[];
  };
  const env: Record<string, string> = {};
  const secretRefs: Record<string, string> = {};
  const otherRefs: string[] = [];
  for (const e of container.env ?? []) {
    const ref = (e.valueFrom as { secretKeyRef?: { name: string; key: string } } | undefined)?.secretKeyRef;
    if (ref) secretRefs[e.name] = `${ref.name}/${ref.key}`;
    else if (e.value !== undefined) env[e.name] = e.value;
    else otherRefs.push(e.name);
  }
  const files = (container.args ?? []).map((arg): [string, string] => {
    const key = /^--config=\/conf\/(.+)$/.exec(arg)?.[1];
    const text = key === undefined ? undefined : configMap[key];
    if (key === undefined || text === undefined) throw new Error(`jaeger arg ${arg} names no file of the ConfigMap`);
    return [key, text];
  });
  const mounts = Object.fromEntries((container.volumeMounts ?? []).map((m) => [m.name, m.mountPath]));
  return { files, env, secretRefs, otherRefs, mounts };
}

/** Writes the chart's Jaeger files into dir; returns Jaeger's arguments (--config each). */
export function writeJaegerFiles(chart: ChartJaeger, dir: string): string[] {
  return chart.files.flatMap(([key, text]) => {
    const path = join(dir, key);
    writeFileSync(path, text);
    return ['--config', path];
  });
}
