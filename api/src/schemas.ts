import { z } from '@hono/zod-openapi';

/** Request and response shapes: the single source for validation and the OpenAPI document. */

const MAX_INT4 = 2_147_483_647;

// Postgres text cannot hold NUL; rejecting it here turns a would-be 500 into a 422. Refinements
// do not reach the OpenAPI document, so the same rules are stated there as patterns: clients
// (and fuzzers) see what is accepted.
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !s.includes('\u0000'), 'must not contain NUL characters')
    .openapi({ pattern: '^[^\\u0000]*$' });

const requiredText = (max: number) =>
  text(max)
    .refine((s) => s.trim().length > 0, 'must not be empty or blank')
    .openapi({ minLength: 1, pattern: '^[^\\u0000]*[^\\s\\u0000][^\\u0000]*$' });

/**
 * An integer in a path or query string: decimal digits only. Number() alone would also take
 * "0x10", "1e3", " 1" or "Infinity" (a 404 for a malformed id, not the contract's 422).
 */
const decimal = (min: number, max: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, 'must be a decimal integer')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const IdParamSchema = z.object({
  id: decimal(1, MAX_INT4).openapi({
    param: { name: 'id', in: 'path' },
    type: 'integer',
    minimum: 1,
    maximum: MAX_INT4,
    example: 1,
  }),
});

export const PageQuerySchema = z.object({
  limit: decimal(1, 100)
    .default(20)
    .openapi({
      param: { name: 'limit', in: 'query' },
      type: 'integer',
      minimum: 1,
      maximum: 100,
      default: 20,
      description: 'Page size (1-100).',
    }),
  offset: decimal(0, MAX_INT4)
    .default(0)
    .openapi({
      param: { name: 'offset', in: 'query' },
      type: 'integer',
      minimum: 0,
      maximum: MAX_INT4,
      default: 0,
      description: 'Rows to skip.',
    }),
});

export const PostListQuerySchema = PageQuerySchema.extend({
  eager: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true')
    .openapi({
      param: { name: 'eager', in: 'query' },
      description: 'true: authors loaded in one extra query; false: one query per post (N+1, on purpose).',
    }),
});

const NewPostSchema = z.strictObject({ title: requiredText(300), content: text(100_000) });

export const UserCreateSchema = z
  .strictObject({
    name: requiredText(200).openapi({ example: 'Alice' }),
    email: z.email().max(254).openapi({ example: 'alice@example.com' }),
    age: z.number().int().min(0).max(150).nullable().optional().openapi({ example: 30 }),
    posts: z
      .array(NewPostSchema)
      .max(20)
      .optional()
      .openapi({ description: 'Initial posts, created with the user in one transaction (all or nothing).' }),
  })
  .openapi('UserCreate');

export const UserSchema = z
  .object({
    id: z.number().int(),
    name: z.string(),
    email: z.string(),
    age: z.number().int().nullable(),
    created_at: z.iso.datetime({ offset: true }),
  })
  .openapi('User');

export const PostCreateSchema = z
  .strictObject({
    title: requiredText(300).openapi({ example: 'My First Post' }),
    content: text(100_000).openapi({ example: 'Hello, World!' }),
    author_id: z.number().int().min(1).max(MAX_INT4).openapi({ example: 1 }),
  })
  .openapi('PostCreate');

export const PostSchema = z
  .object({
    id: z.number().int(),
    title: z.string(),
    content: z.string(),
    author_id: z.number().int(),
    created_at: z.iso.datetime({ offset: true }),
  })
  .openapi('Post');

export const UserWithPostsSchema = UserSchema.extend({ posts: z.array(PostSchema) }).openapi('UserWithPosts');
export const PostWithAuthorSchema = PostSchema.extend({ author: UserSchema }).openapi('PostWithAuthor');

export function pageOf<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      limit: z.number().int(),
      offset: z.number().int(),
      next_offset: z.number().int().nullable().openapi({ description: 'Offset of the next page; null on the last.' }),
    })
    .openapi(name);
}
