import { Writable } from 'node:stream';
import { createApp } from '../../api/src/app.ts';
import type { Config } from '../../api/src/config.ts';
import { createDb, type Db } from '../../api/src/db/knex.ts';
import { newLifecycle, type Lifecycle } from '../../api/src/lifecycle.ts';
import { createLogger } from '../../api/src/logger.ts';
import { testConfig } from './config.ts';

export type LogLine = Record<string, unknown> & { level: string; msg: string };

/** A logger whose JSON lines are kept for assertions. */
export function capturedLogger() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as LogLine);
      done();
    },
  });
  return { logger: createLogger('info', { service: 'test' }, stream), lines };
}

export interface TestApp {
  request(path: string, init?: RequestInit): Promise<Response>;
  json(path: string, body: unknown, method?: string): Promise<Response>;
  db: Db;
  config: Config;
  lifecycle: Lifecycle;
  logs: LogLine[];
  close(): Promise<void>;
}

/** The real app (real routes, real Knex pool) in-process, on the given database. */
export function testApp(databaseUrl: string, env: Record<string, string> = {}): TestApp {
  const config = testConfig({ DATABASE_URL: databaseUrl, ...env });
  const { logger, lines } = capturedLogger();
  const db = createDb(config.databaseUrl, config.pool, { logger });
  const lifecycle = newLifecycle();
  const app = createApp({ db, config, logger, lifecycle, tracingEnabled: false });
  const request = async (path: string, init?: RequestInit) => app.request(path, init);
  return {
    request,
    json: (path, body, method = 'POST') =>
      request(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    db,
    config,
    lifecycle,
    logs: lines,
    close: () => db.destroy(),
  };
}

/** Reads a contract error body and returns it for assertions. */
export async function errorOf(response: Response) {
  const body = (await response.json()) as { error: { code: string; message: string; details: unknown } };
  return body.error;
}
