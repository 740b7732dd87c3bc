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
