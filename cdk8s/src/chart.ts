import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { TracebridgeValues } from './values.generated.ts';

/** Where the chart is, and the helm that renders it. */

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const chartDir = join(repoRoot, 'charts/tracebridge');

/** The chart's defaults (values.yaml), typed. */
export const chartDefaults = (): TracebridgeValues => parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as TracebridgeValues;

/**
 * The helm to render with: HELM_BIN, else the pinned one `collector/build-tools.sh helm` prints
 * (built on first use, like the Makefile's tools).
 */
export function helmBinary(): string {
  if (process.env.HELM_BIN) return process.env.HELM_BIN;
  try {
    return execFileSync('bash', [join(repoRoot, 'collector/build-tools.sh'), 'helm'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (error) {
    const stderr = ((error as { stderr?: string }).stderr ?? '').trim();
    throw new Error(`cannot find helm: set HELM_BIN, or let collector/build-tools.sh build it (${stderr.split('\n').at(-1) ?? ''})`, { cause: error });
  }
}
