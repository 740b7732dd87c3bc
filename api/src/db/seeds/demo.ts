import type { Knex } from 'knex';

const demoUsers = [
  { name: 'Alice', email: 'alice@example.com', age: 30 },
  { name: 'Bob', email: 'bob@example.com', age: 25 },
  { name: 'Carol', email: 'carol@example.com', age: 41 },
];

/** Idempotent demo data: three users with a few posts each; a second run changes nothing. */
export async function seedDemoData(db: Knex): Promise<{ users: number; posts: number }> {
  return db.transaction(async (trx) => {
    const inserted = await trx('users')
      .insert(demoUsers)
      .onConflict(trx.raw('(lower(email))'))
      .ignore()
      .returning<{ id: number; name: string }[]>(['id', 'name']);
    const posts = inserted.flatMap((user) =>
      [1, 2, 3].map((n) => ({
        title: `${user.name}'s post #${n}`,
        content: `Post ${n} by ${user.name}, seeded for the tracebridge demo.`,
        author_id: user.id,
      })),
    );
    if (posts.length > 0) await trx('posts').insert(posts);
    return { users: inserted.length, posts: posts.length };
  });
}
