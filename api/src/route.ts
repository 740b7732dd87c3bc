import type { Context } from 'hono';
import { routePath } from 'hono/route';

/**
 * The route template that answered (`/users/:id`), or undefined when no route matched
 * (only catch-all middleware did). Low-cardinality: safe for logs, span names and metric labels.
 */
export function matchedRoute(c: Context): string | undefined {
  const path = routePath(c, -1);
  return path === '/*' || path === '*' ? undefined : path;
}
