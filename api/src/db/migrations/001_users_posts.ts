import type { Knex } from 'knex';

// Deleting a user deletes their posts (ON DELETE CASCADE): a post without an author has no
// meaning in this service, and the cascade keeps DELETE /users/:id a single statement.
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('users', (t) => {
    t.increments('id').primary();
    t.string('name', 200).notNullable();
    t.string('email', 254).notNullable();
    t.integer('age').nullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // Emails are unique regardless of case: Alice@Example.com and alice@example.com are one person.
  await knex.raw('CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email))');
  await knex.schema.createTable('posts', (t) => {
    t.increments('id').primary();
    t.string('title', 300).notNullable();
    t.text('content').notNullable();
    t.integer('author_id').notNullable().references('users.id').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['author_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('posts');
  await knex.schema.dropTable('users');
}
