import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { TarEntry } from './tar.ts';

/**
 * An image's filesystem, described as tar entries: what goes where, owned by whom. Nothing is
 * copied to a staging directory — file contents are read from the host when the layer is
 * written — so ownership and modes are exactly what is declared here, whoever builds.
 */

export interface Owner {
  uid: number;
  gid: number;
}
const ROOT: Owner = { uid: 0, gid: 0 };

const clean = (path: string) => posix.normalize(path).replace(/^\/+/, '').replace(/\/+$/, '');

export class Rootfs {
  private readonly entries = new Map<string, TarEntry>();

  private add(entry: TarEntry): void {
    const path = clean(entry.path);
    if (!path || path === '.') throw new Error('rootfs: an entry needs a path below /');
    const parent = posix.dirname(path);
    if (parent !== '.' && !this.entries.has(parent)) this.dir(`/${parent}`);
    const existing = this.entries.get(path);
    if (existing && !(existing.type === 'dir' && entry.type === 'dir')) throw new Error(`rootfs: /${path} is declared twice`);
    this.entries.set(path, { ...entry, path });
  }

  /** A directory (an existing one takes the new owner and mode). */
  dir(path: string, mode = 0o755, owner: Owner = ROOT): this {
    this.add({ path, type: 'dir', mode, ...owner });
    return this;
  }

  /** A file with the given content. */
  text(path: string, content: string | Buffer, mode = 0o644, owner: Owner = ROOT): this {
    this.add({ path, type: 'file', mode, ...owner, data: Buffer.from(content) });
    return this;
  }

  /** A host file (symlinks followed), keeping its permission bits unless `mode` is given. */
  file(path: string, source: string, options: { mode?: number; owner?: Owner; xattrs?: Record<string, Buffer> } = {}): this {
    const stat = statSync(source);
    if (!stat.isFile()) throw new Error(`rootfs: ${source} is not a file`);
    this.add({ path, type: 'file', mode: options.mode ?? stat.mode & 0o777, ...(options.owner ?? ROOT), source, size: stat.size, xattrs: options.xattrs });
    return this;
  }

  symlink(path: string, target: string): this {
    this.add({ path, type: 'symlink', mode: 0o777, ...ROOT, linkname: target });
    return this;
  }

  /**
   * A host directory tree, owned by root, symlinks kept as symlinks; `include` filters by the
   * path relative to `source`.
   */
  tree(path: string, source: string, include: (relative: string) => boolean = () => true): this {
    const walk = (relative: string) => {
      for (const name of readdirSync(join(source, relative)).sort()) {
        const rel = relative ? `${relative}/${name}` : name;
        if (!include(rel)) continue;
        const host = join(source, rel);
        const stat = lstatSync(host);
        const target = posix.join(path, rel);
        if (stat.isSymbolicLink()) this.symlink(target, readlinkSync(host));
        else if (stat.isDirectory()) {
          this.dir(target, stat.mode & 0o777);
          walk(rel);
        } else if (stat.isFile()) this.file(target, host);
      }
    };
    if (!statSync(source).isDirectory()) throw new Error(`rootfs: ${source} is not a directory`);
    this.dir(path, statSync(source).mode & 0o777);
    walk('');
    return this;
  }

  /**
   * The shared libraries the host's dynamic loader resolves for `binaries` (ldd), except those
   * under `except` (shipped in the image some other way), at their paths on a merged-/usr
   * Debian: /lib and /lib64 are symlinks into /usr, as on the host and in distroless.
   */
  libraryClosure(binaries: readonly string[], except: readonly string[] = []): this {
    const libraries = new Set<string>();
    for (const binary of binaries) {
      const output = execFileSync('ldd', [binary], { encoding: 'utf8' });
      for (const line of output.split('\n')) {
        const path = /=>\s+(\/\S+)/.exec(line)?.[1] ?? /^\s*(\/\S+)\s+\(/.exec(line)?.[1];
        if (path && !except.some((dir) => path.startsWith(dir))) libraries.add(path);
      }
      if (/not found/.test(output)) throw new Error(`rootfs: ldd ${binary}: a library is missing on this host:\n${output}`);
    }
    if (libraries.size === 0) throw new Error(`rootfs: ldd found no libraries for ${binaries.join(', ')} (static binaries need none)`);
    this.merged();
    for (const library of [...libraries].sort()) {
      const inImage = library.replace(/^\/(lib|lib64)\//, '/usr/$1/');
      this.file(inImage, realpathSync(library), { mode: 0o755 });
    }
    return this;
  }

  /** Debian's merged /usr: /lib → usr/lib, /lib64 → usr/lib64. */
  private merged(): void {
    if (this.entries.has('lib')) return;
    this.dir('/usr/lib').dir('/usr/lib64').symlink('/lib', 'usr/lib').symlink('/lib64', 'usr/lib64');
  }

  /** /etc/passwd and /etc/group with root, the image's user and nobody. */
  users(user: { name: string; uid: number; home: string }): this {
    const rows: [string, number, string][] = [
      ['root', 0, '/root'],
      [user.name, user.uid, user.home],
      ['nobody', 65534, '/nonexistent'],
    ];
    const unique = rows.filter(([, uid], i) => rows.findIndex(([, u]) => u === uid) === i);
    this.text('/etc/passwd', unique.map(([name, uid, home]) => `${name}:x:${uid}:${uid}:${name}:${home}:/sbin/nologin\n`).join(''));
    this.text('/etc/group', unique.map(([name, uid]) => `${name}:x:${uid}:\n`).join(''));
    return this;
  }

  /** World-writable /tmp (sticky), as in every base image. */
  tmp(): this {
    return this.dir('/tmp', 0o1777);
  }

  /** The entries in the archive's order. */
  list(): TarEntry[] {
    return [...this.entries.values()].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  }
}
