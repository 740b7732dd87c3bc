import { pathToFileURL } from 'node:url';
import { ConfigError, describeDatabase, loadConfig } from '../config.ts';
import { createDb } from './knex.ts';
import { withTlsHint } from './tls.ts';
import { migrateLatest, migrateRollbackAll } from './migrations/index.ts';
import { seedDemoData } from './seeds/demo.ts';

const usage = 'usage: cli <migrate|rollback|seed>\n  migrate   apply pending migrations\n  rollback  revert every migration\n  seed      insert the demo users and posts (idempotent)';

/** Runs one database command; meant as the migration command of the container image and Job. */
export async function runDbCommand(command: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const config = loadConfig(env);
  const db = createDb(config.databaseUrl, config.pool, { applicationName: 'tracebridge-migrations' });
  const where = describeDatabase(config.databaseUrl);
  try {
    switch (command) {
      case 'migrate': {
        const applied = await migrateLatest(db);
        return applied.length > 0 ? `applied ${applied.join(', ')} on ${where}` : `${where} is up to date`;
      }
      case 'rollback': {
        const reverted = await migrateRollbackAll(db);
        return `reverted ${reverted.length} migration(s) on ${where}`;
      }
      case 'seed': {
        const { users, posts } = await seedDemoData(db);
        return `seeded ${users} user(s) and ${posts} post(s) on ${where}`;
      }
      default:
        throw new UsageError(command === undefined ? usage : `unknown command "${command}"\n${usage}`);
    }
  } finally {
    await db.destroy();
  }
}

class UsageError extends Error {}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  runDbCommand(process.argv[2]).then(
    (message) => process.stdout.write(`${message}\n`),
    (failure: unknown) => {
      const error = withTlsHint(failure);
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${error instanceof ConfigError || error instanceof UsageError ? '' : 'failed: '}${message}\n`);
      process.exit(error instanceof UsageError ? 2 : 1);
    },
  );
}
