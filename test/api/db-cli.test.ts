import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { runNode } from '../support/process.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase({ migrate: false });
});
afterAll(() => database.drop());

async function cli(...args: string[]) {
  const run = runNode('api/src/db/cli.ts', args, { DATABASE_URL: database.url });
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

describe('database command (the migration Job and make targets use it)', () => {
  it('migrates, is idempotent, seeds idempotently and rolls back', async () => {
    const first = await cli('migrate');
    expect(first).toMatchObject({ code: 0 });
    expect(first.stdout).toMatch(/^applied 001_users_posts on 127\.0\.0\.1:\d+\/tb_/);
    const again = await cli('migrate');
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/is up to date/);

    expect((await cli('seed')).stdout).toMatch(/seeded 3 user\(s\) and 9 post\(s\)/);
    expect((await cli('seed')).stdout).toMatch(/seeded 0 user\(s\) and 0 post\(s\)/);
    expect(await database.db('posts').count({ n: '*' })).toEqual([{ n: '9' }]);

    expect((await cli('rollback')).stdout).toMatch(/reverted 1 migration/);
    expect(await database.db.schema.hasTable('users')).toBe(false);
    const output = JSON.stringify(await Promise.all([cli('migrate'), cli('seed')]));
    expect(output).not.toContain(decodeURIComponent(new URL(database.url).password));
  });

  it('explains its usage and fails on unknown commands and bad configuration', async () => {
    const unknown = await cli('explode');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "explode"');
    const noUrl = runNode('api/src/db/cli.ts', ['migrate'], {});
    expect(await noUrl.exited).toBe(1);
    expect(noUrl.stderr()).toContain('DATABASE_URL: is required');
  });
});
