import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * Jaeger's configuration is two files Jaeger merges itself: jaeger.yaml (receivers, query,
 * health; the trace store is the backend `traces`) and jaeger-storage/<type>.yaml, which defines
 * that backend. `make up`, the tests and the chart (jaeger.storage.type) pass the same files.
 */

const collectorDir = fileURLToPath(new URL('.', import.meta.url));

/** The storage types: one file each in jaeger-storage/. */
export const JAEGER_STORAGE_TYPES: readonly string[] = readdirSync(new URL('jaeger-storage/', import.meta.url))
  .filter((file) => file.endsWith('.yaml'))
  .map((file) => file.slice(0, -'.yaml'.length))
  .sort();

/** Jaeger's --config arguments for this storage type. */
export function jaegerArgs(storage: string): string[] {
  if (!JAEGER_STORAGE_TYPES.includes(storage)) throw new Error(`unknown Jaeger storage ${storage}; known: ${JAEGER_STORAGE_TYPES.join(', ')}`);
  return ['--config', `${collectorDir}jaeger.yaml`, '--config', `${collectorDir}jaeger-storage/${storage}.yaml`];
}
