import { SpanStatusCode, type Span } from '@opentelemetry/api';
import type { Knex } from 'knex';
import { ATTR } from '../attributes.ts';
import { errorTypeOf } from '../error-type.ts';
import type { BuilderInternals } from './types.ts';

type ConnectionConfig = { connectionString?: string; database?: string };
/** Per connection config (shared by a Knex instance and its transactions): parsed once, not per query. */
const namespaces = new WeakMap<ConnectionConfig, string | undefined>();

export function namespaceOf(knex: Knex): string | undefined {
  const connection = (knex.client as { config?: { connection?: ConnectionConfig } }).config?.connection;
  if (!connection) return undefined;
  if (!namespaces.has(connection)) {
    const fromUrl = connection.connectionString
      ? decodeURIComponent(new URL(connection.connectionString).pathname.slice(1))
      : undefined;
    namespaces.set(connection, connection.database ?? (fromUrl || undefined));
  }
  return namespaces.get(connection);
}

export const operationOf = (b: BuilderInternals): string =>
  b.isInsert() ? 'insert' : b.isUpdate() || b.isRelate() || b.isUnrelate() ? 'update' : b.isDelete() ? 'delete' : 'find';

export function relationOf(
  builder: BuilderInternals,
  lazyRelations: WeakMap<object, string>,
): { name: string; strategy: 'lazy' | 'eager' } | undefined {
  const lazy = lazyRelations.get(builder);
  if (lazy !== undefined) return { name: lazy, strategy: 'lazy' };
  // Graph fetching (withGraphFetched) runs child queries of the parent query with a relation
  // find operation already attached.
  if (builder.parentQuery()) {
    const op = builder.findOperation((o) => o.relation !== undefined);
    if (op?.relation) return { name: op.relation.name, strategy: 'eager' };
  }
  return undefined;
}

export const rowsOf = (result: unknown): number =>
  Array.isArray(result) ? result.length : typeof result === 'number' ? result : result == null ? 0 : 1;

export function failSpan(span: Span, error: unknown): void {
  const type = errorTypeOf(error);
  // The exception's type only: driver messages can quote row values ("Key (email)=(...)").
  span.recordException({ name: type, message: type });
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
  span.setAttribute(ATTR.errorType, type);
}

export const sqlOf = (query: string | { sql?: string } | undefined): string | undefined =>
  typeof query === 'string' ? query : query?.sql;
