import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { Config } from '../config.ts';

/**
 * node-postgres' `ssl` for an sslmode, with libpq's meaning: `require` encrypts without checking
 * the certificate (unless a root certificate is given: then, as in libpq, it checks the chain
 * like verify-ca), `verify-ca` checks the chain only, `verify-full` the chain and the host name.
 * A root certificate replaces Node's bundled CAs, which lack the managed databases' own
 * (Amazon RDS, Cloud SQL, Azure): read once, when the pool is made, so a wrong path fails at
 * startup rather than at the first query.
 */
export function pgTls(ssl: Config['pool']['ssl']): false | ConnectionOptions {
  if (ssl.mode === 'disable') return false;
  const ca = ssl.rootCertPath === undefined ? undefined : readRootCert(ssl.rootCertPath);
  const mode = ssl.mode === 'require' && ca !== undefined ? 'verify-ca' : ssl.mode;
  switch (mode) {
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      // The chain is verified; the name is not (the certificate may name another host).
      return { rejectUnauthorized: true, ca, checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true, ca };
  }
}

function readRootCert(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`DB_SSL_ROOT_CERT ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { cause: error });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new Error(`DB_SSL_ROOT_CERT ${path}: not a PEM certificate bundle`);
  return pem;
}

/** Node's codes for a certificate chain it cannot verify. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
]);

/**
 * What to change when a connection failed on TLS, or undefined for any other failure: Node's
 * messages ("unable to verify the first certificate") name neither the variable nor the fix.
 */
export function tlsHint(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : '';
  if (typeof code === 'string' && UNTRUSTED.has(code)) {
    return "the database's certificate is not signed by a CA the API trusts: set DB_SSL_ROOT_CERT to its CA bundle (chart: externalDatabase.tls.ca)";
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return "the database's certificate does not name the host of DATABASE_URL: connect by a name it carries, or set DB_SSL_MODE=verify-ca";
  }
  if (message.includes('The server does not support SSL connections')) {
    return 'the database does not offer TLS: turn on ssl there, or set DB_SSL_MODE=disable';
  }
  return undefined;
}

/** The error with tlsHint's advice appended to its message, when there is any. */
export function withTlsHint(error: unknown): unknown {
  const hint = tlsHint(error);
  return hint === undefined ? error : new Error(`${(error as Error).message}: ${hint}`, { cause: error });
}
