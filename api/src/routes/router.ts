import { OpenAPIHono } from '@hono/zod-openapi';
import { validationError } from '../errors.ts';

/** An OpenAPIHono whose validation failures become the contract's 422. */
export function newRouter(): OpenAPIHono {
  return new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) throw validationError(result.target, result.error);
    },
  });
}
