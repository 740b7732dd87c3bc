import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { imagesDir, repoRoot } from './inputs.ts';
import { writeImageArchive, type RuntimeConfig } from './oci.ts';
import { refOf, type ImageSpec } from './spec.ts';
import { IMAGES } from './specs/index.ts';
import type { TarEntry } from './tar.ts';

/**
 * The local cluster's images as OCI image-layout archives, without Docker or a registry:
 *
 *   node cluster/images/build.ts refs            name=ref per image (for shell scripts)
 *   node cluster/images/build.ts build [name...] build (or keep) each archive; prints its path
 *
 * An image whose inputs (files, owners, modes, config, and this builder) are unchanged since its
 * archive was written is kept as it is.
 */

export const archivePath = (spec: ImageSpec) => join(imagesDir(), `${spec.name}.tar`);

const BUILDER_SOURCES = ['cluster/images/tar.ts', 'cluster/images/oci.ts'];

/** A digest of everything the archive's bytes depend on. */
async function fingerprint(ref: string, config: RuntimeConfig, entries: readonly TarEntry[]): Promise<string> {
  const hash = createHash('sha256');
  for (const source of BUILDER_SOURCES) hash.update(readFileSync(join(repoRoot, source)));
  hash.update(JSON.stringify({ ref, config }));
  for (const { source, data, ...meta } of entries) {
    hash.update(JSON.stringify({ ...meta, xattrs: Object.fromEntries(Object.entries(meta.xattrs ?? {}).map(([k, v]) => [k, v.toString('hex')])) }));
    if (data) hash.update(data);
    if (source) for await (const chunk of createReadStream(source)) hash.update(chunk as Buffer);
  }
  return hash.digest('hex');
}

const log = (line: string) => process.stderr.write(`[images] ${line}\n`);

export async function buildImage(spec: ImageSpec): Promise<{ ref: string; archive: string; built: boolean }> {
  const ref = refOf(spec);
  const archive = archivePath(spec);
  const started = Date.now();
  const { config, rootfs } = await spec.contents();
  const entries = rootfs.list();
  const inputs = await fingerprint(ref, config, entries);
  const stamp = `${archive}.inputs`;
  if (existsSync(archive) && existsSync(stamp) && readFileSync(stamp, 'utf8') === inputs) {
    log(`${ref}: unchanged, kept ${archive}`);
    return { ref, archive, built: false };
  }
  log(`${ref}: writing ${entries.length} entries (${spec.summary})`);
  mkdirSync(imagesDir(), { recursive: true });
  const written = await writeImageArchive(ref, config, entries, archive);
  writeFileSync(stamp, inputs);
  log(`${ref}: ${archive} (layer ${(written.layerBytes / 1048576).toFixed(1)} MiB gzip, manifest ${written.manifestDigest.slice(0, 19)}, ${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return { ref, archive, built: true };
}

function select(names: readonly string[]): ImageSpec[] {
  if (names.length === 0) return [...IMAGES];
  return names.map((name) => {
    const spec = IMAGES.find((s) => s.name === name);
    if (!spec) throw new Error(`unknown image "${name}"; the images are: ${IMAGES.map((s) => s.name).join(', ')}`);
    return spec;
  });
}

async function main(argv: string[]): Promise<void> {
  const [command, ...names] = argv;
  if (command === 'refs') {
    for (const spec of select(names)) process.stdout.write(`${spec.name}=${refOf(spec)}\n`);
    return;
  }
  if (command === 'build') {
    for (const spec of select(names)) process.stdout.write(`${(await buildImage(spec)).archive}\n`);
    return;
  }
  process.stderr.write('usage: node cluster/images/build.ts refs [name...] | build [name...]\n');
  process.exitCode = 2;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`[images] error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
