import { createRoute } from '@hono/zod-openapi';
import { Post } from '../db/models/post.ts';
import type { User } from '../db/models/user.ts';
import type { Db } from '../db/knex.ts';
import { ApiError, ErrorCode, sqlState } from '../errors.ts';
import {
  IdParamSchema,
  PostCreateSchema,
  PostListQuerySchema,
  PostSchema,
  PostWithAuthorSchema,
  pageOf,
} from '../schemas.ts';
import { toPage } from './page.ts';
import { errorResponses, json, notFound } from './responses.ts';
import { newRouter } from './router.ts';
import { toPost, toUser } from './serialize.ts';

const createPost = createRoute({
  method: 'post',
  path: '/posts',
  tags: ['posts'],
  summary: 'Create a post',
  request: { body: { content: { 'application/json': { schema: PostCreateSchema } }, required: true } },
  responses: { 201: json(PostSchema, 'Created.'), ...errorResponses },
});

const listPosts = createRoute({
  method: 'get',
  path: '/posts',
  tags: ['posts'],
  summary: 'List posts with their authors, lazily (N+1) or eagerly (one extra query)',
  request: { query: PostListQuerySchema },
  responses: { 200: json(pageOf(PostWithAuthorSchema, 'PostPage'), 'A page of posts.'), ...errorResponses },
});

const getPost = createRoute({
  method: 'get',
  path: '/posts/{id}',
  tags: ['posts'],
  summary: 'A post with its author',
  request: { params: IdParamSchema },
  responses: { 200: json(PostWithAuthorSchema, 'The post.'), 404: notFound, ...errorResponses },
});

const withAuthor = (post: Post & { author: User }) => ({ ...toPost(post), author: toUser(post.author) });

/**
 * The post and its author are read by two statements. The foreign key guarantees an author, but
 * a DELETE /users/:id between the two removes the author and, by cascade, the post: the post no
 * longer exists, so it is left out (a page) or not found (a single post), never a 500.
 */
// Boolean(): an eager load marks a missing author null, a lazy one undefined.
const hasAuthor = (post: Post): post is Post & { author: User } => Boolean(post.author);

export function postRoutes(db: Db) {
  const app = newRouter();

  app.openapi(createPost, async (c) => {
    const body = c.req.valid('json');
    try {
      const post = await Post.query(db).insert(body).returning('*');
      c.header('Location', `/posts/${post.id}`);
      return c.json(toPost(post), 201);
    } catch (error) {
      if (sqlState(error) === '23503') {
        throw new ApiError(422, ErrorCode.validationFailed, 'invalid body: author_id', {
          details: [{ location: 'body', field: 'author_id', message: `no user with id ${body.author_id}` }],
        });
      }
      throw error;
    }
  });

  app.openapi(listPosts, async (c) => {
    const { limit, offset, eager } = c.req.valid('query');
    const query = Post.query(db).orderBy('id').limit(limit + 1).offset(offset);
    const rows = eager ? await query.withGraphFetched('author') : await query;
    if (!eager) {
      // Deliberately one query per post, one after another: the N+1 pattern the telemetry
      // is built to detect. Use ?eager=true for the fix.
      for (const post of rows.slice(0, limit)) post.author = await post.$relatedQuery('author', db);
    }
    const page = toPage(rows, limit, offset);
    return c.json({ ...page, items: page.items.filter(hasAuthor).map(withAuthor) }, 200);
  });

  app.openapi(getPost, async (c) => {
    const { id } = c.req.valid('param');
    const post = await Post.query(db).findById(id);
    if (!post) throw new ApiError(404, ErrorCode.notFound, `post ${id} not found`);
    post.author = await post.$relatedQuery('author', db);
    if (!hasAuthor(post)) throw new ApiError(404, ErrorCode.notFound, `post ${id} not found`);
    return c.json(withAuthor(post), 200);
  });

  return app;
}
