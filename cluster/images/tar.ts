import { createReadStream } from 'node:fs';

/**
 * A reproducible tar writer (POSIX ustar, with pax headers for long names and xattrs): the
 * bytes depend only on the entries. Every entry carries its own numeric owner and mode, mtime
 * is fixed, and entries are written in byte order of their paths — so an image layer never
 * depends on who built it, when, or in which order the files were found.
 */

export interface TarEntry {
  /** Relative path inside the archive, no leading slash; directories without a trailing one. */
  path: string;
  type: 'file' | 'dir' | 'symlink';
  mode: number;
  uid: number;
  gid: number;
  /** file: where the content comes from (read at write time) ... */
  source?: string;
  /** ... or the content itself. */
  data?: Buffer;
  /** file: the size of `source` (checked while writing). */
  size?: number;
  /** symlink target. */
  linkname?: string;
  /** Extended attributes, e.g. security.capability (pax SCHILY.xattr.*, which containerd applies). */
  xattrs?: Record<string, Buffer>;
}

const BLOCK = 512;
/** 2000-01-01T00:00:00Z: a fixed mtime (not 0, which some tools treat as "unknown"). */
export const FIXED_MTIME = 946_684_800;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0');
}

function header(name: string, entry: Pick<TarEntry, 'mode' | 'uid' | 'gid' | 'linkname'>, typeflag: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const put = (text: string, offset: number, width: number) => {
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > width) throw new Error(`tar: "${text}" does not fit a ${width}-byte header field`);
    bytes.copy(block, offset);
  };
  put(name, 0, 100);
  put(octal(entry.mode & 0o7777, 8), 100, 8);
  put(octal(entry.uid, 8), 108, 8);
  put(octal(entry.gid, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(FIXED_MTIME, 12), 136, 12);
  block.fill(' ', 148, 156);
  put(typeflag, 156, 1);
  put(entry.linkname ?? '', 157, 100);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(`${octal(sum, 7)}\0 `.slice(0, 8), 148, 8);
  return block;
}

/** A pax record "<len> <key>=<value>\n", whose length counts its own digits. */
function paxRecord(key: string, value: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length = String(length).length + body.length;
  return Buffer.concat([Buffer.from(String(length)), body]);
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

function* headers(entry: TarEntry, size: number): Generator<Buffer> {
  const name = entry.type === 'dir' ? `${entry.path}/` : entry.path;
  const records: Buffer[] = [];
  if (Buffer.byteLength(name) > 100) records.push(paxRecord('path', Buffer.from(name)));
  if (entry.linkname && Buffer.byteLength(entry.linkname) > 100) records.push(paxRecord('linkpath', Buffer.from(entry.linkname)));
  for (const [key, value] of Object.entries(entry.xattrs ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) records.push(paxRecord(`SCHILY.xattr.${key}`, value));
  const typeflag = { file: '0', dir: '5', symlink: '2' }[entry.type];
  const short = (text: string) => Buffer.from(text).subarray(0, 100).toString('utf8').replace(/\uFFFD+$/, '');
  if (records.length > 0) {
    const pax = Buffer.concat(records);
    yield header(short(`PaxHeaders/${entry.path}`), { mode: 0o644, uid: 0, gid: 0 }, 'x', pax.length);
    yield pax;
    yield padding(pax.length);
  }
  yield header(short(name), { ...entry, linkname: entry.linkname ? short(entry.linkname) : undefined }, typeflag, size);
}

/** The archive's bytes, in chunks. Entries must be sorted and unique (see sortEntries). */
export async function* tarStream(entries: readonly TarEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    if (entry.type !== 'file') {
      yield* headers(entry, 0);
      continue;
    }
    if (entry.data) {
      yield* headers(entry, entry.data.length);
      yield entry.data;
      yield padding(entry.data.length);
      continue;
    }
    if (!entry.source || entry.size === undefined) throw new Error(`tar: ${entry.path} has no content`);
    yield* headers(entry, entry.size);
    let written = 0;
    for await (const chunk of createReadStream(entry.source)) {
      written += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (written !== entry.size) throw new Error(`tar: ${entry.source} changed while it was being archived (${entry.size} → ${written} bytes)`);
    yield padding(entry.size);
  }
  yield Buffer.alloc(2 * BLOCK);
}
