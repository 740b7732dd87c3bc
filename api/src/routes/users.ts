import { createRoute } from '@hono/zod-openapi';
import { Post } from '../db/models/post.ts';
import { User } from '../db/models/user.ts';
import { withSpan } from '../spans.ts';
import { ApiError, ErrorCode, sqlState } from '../errors.ts';
import type { Db } from '../db/knex.ts';
import {
  IdParamSchema,
  PageQuerySchema,
  UserCreateSchema,
  UserSchema,
  UserWithPostsSchema,
  pageOf,
} from '../schemas.ts';
import { toPage } from './page.ts';
import { conflict, errorResponses, json, notFound } from './responses.ts';
import { newRouter } from './router.ts';
import { toPost, toUser } from './serialize.ts';

const createUser = createRoute({
  method: 'post',
  path: '/users',
  tags: ['users'],
  summary: 'Create a user',
  request: { body: { content: { 'application/json': { schema: UserCreateSchema } }, required: true } },
  responses: {
    201: json(UserWithPostsSchema, 'Created, with the initial posts if any.'),
    409: conflict,
    ...errorResponses,
  },
});

const listUsers = createRoute({
  method: 'get',
  path: '/users',
  tags: ['users'],
  summary: 'List users, oldest first',
  request: { query: PageQuerySchema },
  responses: { 200: json(pageOf(UserSchema, 'UserPage'), 'A page of users.'), ...errorResponses },
});

const getUser = createRoute({
  method: 'get',
  path: '/users/{id}',
  tags: ['users'],
  summary: "A user with their posts (posts loaded lazily: the seed's trace)",
  request: { params: IdParamSchema },
  responses: { 200: json(UserWithPostsSchema, 'The user.'), 404: notFound, ...errorResponses },
});

const deleteUser = createRoute({
  method: 'delete',
  path: '/users/{id}',
  tags: ['users'],
  summary: "Delete a user and, by cascade, the user's posts",
  request: { params: IdParamSchema },
  responses: { 204: { description: 'Deleted, with their posts.' }, 404: notFound, ...errorResponses },
});

const userNotFound = (id: number) => new ApiError(404, ErrorCode.notFound, `user ${id} not found`);

export function userRoutes(db: Db) {
  const app = newRouter();

  app.openapi(createUser, async (c) => {
    const { posts = [], ...fields } = c.req.valid('json');
    const row = { name: fields.name, email: fields.email, age: fields.age ?? null };
    try {
      // With initial posts, user and posts are one transaction: a duplicate email leaves nothing behind.
      const created =
        posts.length === 0
          ? { user: await User.query(db).insert(row).returning('*'), posts: [] as Post[] }
          : await withSpan('users.create_with_posts', { 'tracebridge.posts.count': posts.length }, () =>
              db.transaction(async (trx) => {
                const user = await User.query(trx).insert(row).returning('*');
                const rows = posts.map((p) => ({ ...p, author_id: user.id }));
                return { user, posts: await Post.query(trx).insert(rows).returning('*') };
              }),
            );
      c.header('Location', `/users/${created.user.id}`);
      return c.json({ ...toUser(created.user), posts: created.posts.map(toPost) }, 201);
    } catch (error) {
      if (sqlState(error) === '23505') {
        throw new ApiError(409, ErrorCode.conflict, 'a user with this email already exists', {
          details: [{ location: 'body', field: 'email', message: 'already registered' }],
        });
      }
      throw error;
    }
  });

  app.openapi(listUsers, async (c) => {
    const { limit, offset } = c.req.valid('query');
    const rows = await User.query(db).orderBy('id').limit(limit + 1).offset(offset);
    const page = toPage(rows, limit, offset);
    return c.json({ ...page, items: page.items.map(toUser) }, 200);
  });

  app.openapi(getUser, async (c) => {
    const { id } = c.req.valid('param');
    const user = await User.query(db).findById(id);
    if (!user) throw userNotFound(id);
    const posts = await user.$relatedQuery('posts', db).orderBy('id');
    return c.json({ ...toUser(user), posts: posts.map(toPost) }, 200);
  });

  app.openapi(deleteUser, async (c) => {
    const { id } = c.req.valid('param');
    const deleted = await User.query(db).deleteById(id);
    if (deleted === 0) throw userNotFound(id);
    return c.body(null, 204);
  });

  return app;
}
