import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Certificates for TLS tests, made with the real openssl: a CA, and leaf certificates it signs
 * for servers (with their DNS names and IPs) and clients (mTLS). P-256 keys, valid two days.
 */

const run = promisify(execFile);

export interface KeyPair {
  cert: string;
  key: string;
}

const openssl = (dir: string, args: string[]) => run('openssl', args, { cwd: dir });

/** A new self-signed CA in its own directory. */
export async function makeCa(name: string, dir?: string): Promise<KeyPair & { dir: string }> {
  const where = dir ?? (await mkdtemp(join(tmpdir(), 'tracebridge-tls-')));
  const pair = { cert: join(where, `${name}-ca.crt`), key: join(where, `${name}-ca.key`), dir: where };
  await openssl(where, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-keyout', pair.key, '-out', pair.cert, '-subj', `/CN=${name} test CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return pair;
}

/** A certificate signed by `ca`, for a server (names: its DNS names and IPs) or a client. */
export async function makeCert(
  ca: KeyPair & { dir: string },
  name: string,
  options: { dns?: string[]; ips?: string[]; usage: 'server' | 'client' },
): Promise<KeyPair> {
  const pair = { cert: join(ca.dir, `${name}.crt`), key: join(ca.dir, `${name}.key`) };
  const csr = join(ca.dir, `${name}.csr`);
  const ext = join(ca.dir, `${name}.ext`);
  const alt = [...(options.dns ?? []).map((d) => `DNS:${d}`), ...(options.ips ?? []).map((ip) => `IP:${ip}`)];
  await writeFile(
    ext,
    [
      'basicConstraints=CA:FALSE',
      `extendedKeyUsage=${options.usage === 'server' ? 'serverAuth' : 'clientAuth'}`,
      ...(alt.length > 0 ? [`subjectAltName=${alt.join(',')}`] : []),
    ].join('\n') + '\n',
  );
  await openssl(ca.dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', pair.key, '-out', csr, '-subj', `/CN=${name}`]);
  await openssl(ca.dir, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2', '-out', pair.cert, '-extfile', ext]);
  return pair;
}
