import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../api/src/dev/embedded-postgres.ts';
import { freePort } from './ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the PostgreSQL server the suites use; each file creates its own database. */
    adminDatabaseUrl: string;
  }
}

let embedded: EmbeddedDatabase | undefined;
let baseDir: string | undefined;

/**
 * One real PostgreSQL for the whole run: TEST_DATABASE_URL when given (a superuser URL),
 * otherwise an embedded server in a throwaway directory.
 */
export async function setup(project: TestProject): Promise<void> {
  const given = process.env.TEST_DATABASE_URL;
  if (given) {
    project.provide('adminDatabaseUrl', given);
    return;
  }
  baseDir = await mkdtemp(join(tmpdir(), 'tracebridge-test-pg-'));
  embedded = await startEmbeddedPostgres({
    baseDir,
    port: await freePort(),
    database: 'postgres',
    persistent: false,
  });
  project.provide('adminDatabaseUrl', embedded.url);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  if (baseDir) await rm(baseDir, { recursive: true, force: true });
}
