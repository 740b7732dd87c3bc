import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import type { EmbeddedDatabase } from '../../api/src/dev/embedded-postgres.ts';
import { freePort } from './ports.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser URL of the PostgreSQL server the suites use; each file creates its own database. */
    adminDatabaseUrl: string;
  }
}

/** The events async-exit-hook (through embedded-postgres) listens to. */
const HOOKED_EVENTS = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'] as const;

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
  // Imported here, not at the top: embedded-postgres registers async-exit-hook when it loads.
  const listeners = (event: string) => process.listeners(event as 'beforeExit') as ((...args: unknown[]) => void)[];
  const before = new Map(HOOKED_EVENTS.map((event) => [event, new Set(listeners(event))]));
  const { startEmbeddedPostgres } = await import('../../api/src/dev/embedded-postgres.ts');
  embedded = await startEmbeddedPostgres({
    baseDir,
    port: await freePort(),
    database: 'postgres',
    persistent: false,
  });
  // embedded-postgres registers async-exit-hook, whose beforeExit handler calls process.exit(0):
  // that would turn a failed run's exit code into 0. teardown() stops the server instead.
  for (const event of HOOKED_EVENTS) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  project.provide('adminDatabaseUrl', embedded.url);
}

export async function teardown(): Promise<void> {
  await embedded?.stop();
  if (baseDir) await rm(baseDir, { recursive: true, force: true });
}
