import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { tarStream, type TarEntry } from './tar.ts';

/**
 * An OCI image layout (https://github.com/opencontainers/image-spec/blob/main/image-layout.md)
 * as one tar archive: oci-layout, index.json and blobs/sha256/{layer,config,manifest}. The
 * index names the image in both annotations `ctr images import` reads, so the import gives
 * it its full reference.
 */

/** The image config's `config` (https://github.com/opencontainers/image-spec/blob/main/config.md). */
export interface RuntimeConfig {
  User: string;
  Entrypoint: string[];
  Cmd?: string[];
  Env: string[];
  WorkingDir: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export const MEDIA_TYPES = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

interface Blob {
  digest: string;
  size: number;
}

function hashing(hash: Hash): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

/** The layer as a gzip blob at `path`: its digest and size, and the uncompressed diff_id. */
async function writeLayer(entries: readonly TarEntry[], path: string): Promise<Blob & { diffId: string }> {
  const diff = createHash('sha256');
  const compressed = createHash('sha256');
  // zlib's gzip header has no mtime or name: the bytes depend on the tar alone.
  await pipeline(tarStream(entries), hashing(diff), createGzip({ level: 6 }), hashing(compressed), createWriteStream(path));
  return { digest: `sha256:${compressed.digest('hex')}`, size: (await stat(path)).size, diffId: `sha256:${diff.digest('hex')}` };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const digestOf = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;
const blobPath = (digest: string) => `blobs/sha256/${digest.slice('sha256:'.length)}`;

export interface WrittenImage {
  ref: string;
  manifestDigest: string;
  layerBytes: number;
}

/**
 * Write the image `ref` (single layer of `entries`) to `out`, atomically: a crash leaves the
 * previous archive or none, never half of one.
 */
export async function writeImageArchive(ref: string, config: RuntimeConfig, entries: readonly TarEntry[], out: string): Promise<WrittenImage> {
  // Per process: two builds at once never write the same temporary file; the last rename wins.
  const layerFile = `${out}.${process.pid}.layer.tmp`;
  const partial = `${out}.${process.pid}.tmp`;
  try {
    const layer = await writeLayer(entries, layerFile);
    const configBlob = json({
      architecture: 'amd64',
      os: 'linux',
      config,
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
    });
    const manifestBlob = json({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: { mediaType: MEDIA_TYPES.config, digest: digestOf(configBlob), size: configBlob.length },
      layers: [{ mediaType: MEDIA_TYPES.layer, digest: layer.digest, size: layer.size }],
    });
    const manifestDigest = digestOf(manifestBlob);
    const index = json({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.index,
      manifests: [
        {
          mediaType: MEDIA_TYPES.manifest,
          digest: manifestDigest,
          size: manifestBlob.length,
          platform: { architecture: 'amd64', os: 'linux' },
          annotations: { 'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': ref },
        },
      ],
    });
    const file = (path: string, data: Buffer): TarEntry => ({ path, type: 'file', mode: 0o644, uid: 0, gid: 0, data });
    const dir = (path: string): TarEntry => ({ path, type: 'dir', mode: 0o755, uid: 0, gid: 0 });
    const layerEntry: TarEntry = { path: blobPath(layer.digest), type: 'file', mode: 0o644, uid: 0, gid: 0, source: layerFile, size: layer.size };
    const blobs = [file(blobPath(digestOf(configBlob)), configBlob), file(blobPath(manifestDigest), manifestBlob), layerEntry].sort((a, b) =>
      a.path < b.path ? -1 : 1,
    );
    const layout: TarEntry[] = [dir('blobs'), dir('blobs/sha256'), ...blobs, file('index.json', index), file('oci-layout', json({ imageLayoutVersion: '1.0.0' }))];
    await pipeline(tarStream(layout), createWriteStream(partial));
    await rename(partial, out);
    return { ref, manifestDigest, layerBytes: layer.size };
  } finally {
    await rm(layerFile, { force: true });
    await rm(partial, { force: true });
  }
}
