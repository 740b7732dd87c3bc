import { SpanStatusCode, type Attributes, type Span } from '@opentelemetry/api';
import {
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import type { Knex } from 'knex';
import { errorTypeOf } from '../error-type.ts';
import type { BuilderInternals } from './types.ts';

type ConnectionConfig = { connectionString?: string; database?: string; host?: string; port?: number | string };

/** Where a Knex instance's statements go: db.namespace and server.*, never user or password. */
export interface Connection {
  /** db.system.name, db.namespace, server.address, server.port: shared by every span and record. */
  readonly attributes: Attributes;
  /** Duration-record attributes per db.operation.name (and error.type): built once each. */
  readonly records: Map<string, Attributes>;
}

/** Per connection config (shared by a Knex instance and its transactions): parsed once, not per query. */
const connections = new WeakMap<ConnectionConfig, Connection>();
const unknownConnection: Connection = { attributes: { [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL }, records: new Map() };

export function connectionOf(client: unknown): Connection {
  const config = (client as { config?: { connection?: ConnectionConfig } } | undefined)?.config?.connection;
  if (!config || typeof config !== 'object') return unknownConnection;
  let connection = connections.get(config);
  if (connection === undefined) {
    let url: URL | undefined;
    try {
      url = config.connectionString ? new URL(config.connectionString) : undefined;
    } catch {
      url = undefined;
    }
    const namespace = config.database ?? (url ? decodeURIComponent(url.pathname.slice(1)) || undefined : undefined);
    const address = config.host ?? (url?.hostname || undefined);
    const port = Number(config.port ?? (url?.port || 5432));
    const attributes: Attributes = { [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL };
    if (namespace) attributes[ATTR_DB_NAMESPACE] = namespace;
    if (address) attributes[ATTR_SERVER_ADDRESS] = address;
    if (Number.isInteger(port)) attributes[ATTR_SERVER_PORT] = port;
    connection = { attributes, records: new Map() };
    connections.set(config, connection);
  }
  return connection;
}

export const namespaceOf = (knex: Knex): string | undefined => connectionOf(knex.client).attributes[ATTR_DB_NAMESPACE] as string | undefined;

/** db.operation.name of a statement: its first keyword, as instrumentation-pg names it (SELECT, INSERT, BEGIN). */
export function statementOperation(sql: string): string {
  const text = sql.trimStart();
  const space = text.search(/\s/);
  const word = (space === -1 ? text : text.slice(0, space)).toUpperCase();
  return word.endsWith(';') ? word.slice(0, -1) : word;
}

/** The attributes of one db.client.operation.duration record, from a small per-connection cache. */
export function recordAttributes(connection: Connection, operation: string, errorType: string | undefined): Attributes {
  const key = errorType === undefined ? operation : `${operation} ${errorType}`;
  let attributes = connection.records.get(key);
  if (attributes === undefined) {
    // Bounded by the statement keywords and error types an application meets; reset if not.
    if (connection.records.size >= 256) connection.records.clear();
    attributes = { ...connection.attributes, [ATTR_DB_OPERATION_NAME]: operation };
    if (errorType !== undefined) attributes[ATTR_ERROR_TYPE] = errorType;
    connection.records.set(key, attributes);
  }
  return attributes;
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
  span.setAttribute(ATTR_ERROR_TYPE, type);
}

export const sqlOf = (query: string | { sql?: string } | undefined): string | undefined =>
  typeof query === 'string' ? query : query?.sql;
