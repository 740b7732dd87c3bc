import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../api/src/config.ts';
import { createDb, pingDatabase } from '../../api/src/db/knex.ts';
import { serverUser, startEmbeddedPostgres, type EmbeddedDatabase } from '../../api/src/dev/embedded-postgres.ts';
import { freePort } from '../support/ports.ts';
import { runNode } from '../support/process.ts';
import { makeCa, makeCert, type KeyPair } from '../support/tls.ts';

/**
 * TLS to PostgreSQL as a managed database serves it: a real PostgreSQL with ssl=on and a server
 * certificate from a private CA (openssl), which is not in Node's bundle — as the RDS and Cloud
 * SQL CAs are not. The API's own config (DB_SSL_MODE, DB_SSL_ROOT_CERT) and pool connect; what
 * the server reports (pg_stat_ssl) is the proof, and each refusal says why.
 */

const HOST = 'localhost';
let server: EmbeddedDatabase;
let baseDir: string;
let ca: KeyPair & { dir: string };
let otherCa: KeyPair & { dir: string };

beforeAll(async () => {
  baseDir = await mkdtemp(join(tmpdir(), 'tracebridge-pg-tls-'));
  ca = await makeCa('database');
  otherCa = await makeCa('other');
  // The certificate names the host, not its address: connecting by IP is "a wrong host name".
  const cert = await makeCert(ca, 'postgres-server', { dns: [HOST], usage: 'server' });
  // PostgreSQL refuses a key others can read; as root it runs as its own user, who must own it.
  const user = serverUser();
  await chmod(ca.dir, 0o755);
  for (const file of [cert.cert, cert.key]) {
    await chmod(file, 0o600);
    if (user) await chown(file, user.uid, user.gid);
  }
  server = await startEmbeddedPostgres({
    baseDir,
    port: await freePort(),
    database: 'tls',
    persistent: false,
    settings: { ssl: 'on', ssl_cert_file: cert.cert, ssl_key_file: cert.key },
  });
}, 120_000);

afterAll(async () => {
  await server.stop();
  await rm(baseDir, { recursive: true, force: true });
});

/** The URL of the server by another host name (the URL itself carries no TLS settings). */
function urlFor(host: string): string {
  const url = new URL(server.url);
  url.hostname = host;
  return url.href;
}

/** Connects as the API would with these variables; returns whether the session is encrypted. */
async function connect(env: Record<string, string>, host = HOST): Promise<boolean> {
  const config = loadConfig({ DATABASE_URL: urlFor(host), DB_CONNECT_TIMEOUT_MS: '5000', ...env });
  const db = createDb(config.databaseUrl, { ...config.pool, max: 1 });
  try {
    await pingDatabase(db, 10_000);
    const { rows } = await db.raw<{ rows: { ssl: boolean }[] }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return rows[0]!.ssl;
  } finally {
    await db.destroy();
  }
}

const refusal = (env: Record<string, string>, host = HOST) =>
  connect(env, host).then(
    () => 'connected',
    (error: unknown) => (error as Error).message,
  );

describe('PostgreSQL over TLS with a private CA (as RDS and Cloud SQL use)', () => {
  it('verify-full with the CA from DB_SSL_ROOT_CERT: connected, and the session is encrypted', async () => {
    expect(await connect({ DB_SSL_MODE: 'verify-full', DB_SSL_ROOT_CERT: ca.cert })).toBe(true);
  });

  it("verify-full without the CA fails clearly: Node's bundle does not know it", async () => {
    expect(await refusal({ DB_SSL_MODE: 'verify-full' })).toMatch(
      /unable to verify the first certificate.*: the database's certificate is not signed by a CA the API trusts: set DB_SSL_ROOT_CERT to its CA bundle/,
    );
  });

  it('verify-full with the wrong CA fails', async () => {
    expect(await refusal({ DB_SSL_MODE: 'verify-full', DB_SSL_ROOT_CERT: otherCa.cert })).toMatch(/unable to verify the first certificate.*: the database's certificate is not signed by a CA the API trusts: set DB_SSL_ROOT_CERT to its CA bundle/);
  });

  it('verify-full with a host name the certificate does not carry fails and says so; verify-ca accepts it', async () => {
    expect(await refusal({ DB_SSL_MODE: 'verify-full', DB_SSL_ROOT_CERT: ca.cert }, '127.0.0.1')).toMatch(
      /Hostname\/IP does not match certificate's altnames: IP: 127\.0\.0\.1 is not in the cert's list: .*does not name the host of DATABASE_URL.*DB_SSL_MODE=verify-ca/,
    );
    expect(await connect({ DB_SSL_MODE: 'verify-ca', DB_SSL_ROOT_CERT: ca.cert }, '127.0.0.1')).toBe(true);
    expect(await refusal({ DB_SSL_MODE: 'verify-ca', DB_SSL_ROOT_CERT: otherCa.cert }, '127.0.0.1')).not.toBe('connected');
  });

  it('require encrypts without verifying; with a root certificate it verifies the chain (libpq)', async () => {
    expect(await connect({ DB_SSL_MODE: 'require' })).toBe(true);
    expect(await refusal({ DB_SSL_MODE: 'require', DB_SSL_ROOT_CERT: otherCa.cert })).not.toBe('connected');
  });

  it('disable (the default) connects in plaintext; DB_SSL=true still means verify-full', async () => {
    expect(await connect({})).toBe(false);
    expect(await connect({ DB_SSL_MODE: 'disable' })).toBe(false);
    expect(await refusal({ DB_SSL: 'true' })).toMatch(/unable to verify the first certificate.*: the database's certificate is not signed by a CA the API trusts: set DB_SSL_ROOT_CERT to its CA bundle/);
    expect(await connect({ DB_SSL: 'true', DB_SSL_ROOT_CERT: ca.cert })).toBe(true);
  });

  it('a root certificate path that cannot be read, or is not PEM, fails when the pool is made, naming the variable', async () => {
    const config = (path: string) => loadConfig({ DATABASE_URL: urlFor(HOST), DB_SSL_MODE: 'verify-full', DB_SSL_ROOT_CERT: path });
    expect(() => createDb(config('/nonexistent/ca.pem').databaseUrl, config('/nonexistent/ca.pem').pool)).toThrow(
      'DB_SSL_ROOT_CERT /nonexistent/ca.pem: cannot read it (ENOENT)',
    );
    const notPem = join(ca.dir, 'not-a-cert.txt');
    await writeFile(notPem, 'hello');
    expect(() => createDb(config(notPem).databaseUrl, config(notPem).pool)).toThrow(`DB_SSL_ROOT_CERT ${notPem}: not a PEM certificate bundle`);
  });

  it('the migrations (the init container) verify the same way, and say what to change when they cannot', async () => {
    const migrate = async (env: Record<string, string>) => {
      const run = runNode('api/src/db/cli.ts', ['migrate'], { DATABASE_URL: urlFor(HOST), ...env });
      return { code: await run.exited, stdout: run.stdout(), stderr: run.stderr() };
    };
    const refused = await migrate({ DB_SSL_MODE: 'verify-full' });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^failed: unable to verify the first certificate.*: the database's certificate is not signed by a CA the API trusts: set DB_SSL_ROOT_CERT/);
    const ok = await migrate({ DB_SSL_MODE: 'verify-full', DB_SSL_ROOT_CERT: ca.cert });
    expect(ok).toMatchObject({ code: 0, stderr: '' });
    expect(ok.stdout).toMatch(/^applied 001_users_posts on localhost:/);
  });

  it('a server without TLS: the API says so instead of a bare protocol error', async () => {
    const plain = await startEmbeddedPostgres({ baseDir: await mkdtemp(join(tmpdir(), 'tracebridge-pg-plain-')), port: await freePort(), database: 'plain', persistent: false });
    try {
      const config = loadConfig({ DATABASE_URL: plain.url, DB_SSL_MODE: 'require' });
      const db = createDb(config.databaseUrl, config.pool);
      await expect(pingDatabase(db, 10_000)).rejects.toThrow('The server does not support SSL connections: the database does not offer TLS: turn on ssl there, or set DB_SSL_MODE=disable');
      await db.destroy();
    } finally {
      await plain.stop();
    }
  });
});
