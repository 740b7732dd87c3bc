import {
  context,
  createContextKey,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from '@opentelemetry/api';
import type { Knex } from 'knex';
import { Model, QueryBuilder } from 'objection';
import { ATTR } from './attributes.ts';
import { normalizeSql, type Detection } from './n-plus-one.ts';
import { currentRequest, type RequestTelemetry } from './request-state.ts';

/**
 * ORM spans for Objection: everything the telemetry knows about Objection lives here, so a
 * different ORM means a different version of this one module. Like the contrib
 * instrumentations, it wraps the library's prototypes once:
 *   QueryBuilder#execute      → db.query.{find,insert,update,delete} or db.relationship.load
 *   Model#$relatedQuery       → marks the builder as a lazy relationship load
 *   inTransaction()           → db.session.commit / db.session.rollback
 * The pg driver span of each statement nests under its ORM span: two spans per statement.
 */

export interface OrmTracingOptions {
  enabled: boolean;
  /** Called the first time a request's N+1 run reaches the threshold. */
  onNPlusOne?: (detection: Detection, request: RequestTelemetry) => void;
}

interface QueryRecord {
  /** The first statement the query ran, parameterized: its shape for N+1 detection. */
  sql: string | undefined;
}

interface SessionRecord {
  statements: number;
}

/** The Objection internals this module relies on (present in objection 3.x, not in its typings). */
interface BuilderInternals {
  modelClass(): { tableName: string };
  isInsert(): boolean;
  isUpdate(): boolean;
  isDelete(): boolean;
  isRelate(): boolean;
  isUnrelate(): boolean;
  knex(): Knex;
  parentQuery(): unknown;
  findOperation(selector: (op: { relation?: { name: string } }) => boolean): { relation?: { name: string } } | undefined;
}

const QUERY = createContextKey('tracebridge.orm.query');
const SESSION = createContextKey('tracebridge.orm.session');
const tracer = trace.getTracer('tracebridge-orm');
const lazyRelations = new WeakMap<object, string>();
const observedKnex = new WeakSet<object>();

let options: OrmTracingOptions = { enabled: false };
let patched = false;

type ConnectionConfig = { connectionString?: string; database?: string };
/** Per connection config (shared by a Knex instance and its transactions): parsed once, not per query. */
const namespaces = new WeakMap<ConnectionConfig, string | undefined>();

const namespaceOf = (knex: Knex): string | undefined => {
  const connection = (knex.client as { config?: { connection?: ConnectionConfig } }).config?.connection;
  if (!connection) return undefined;
  if (!namespaces.has(connection)) {
    const fromUrl = connection.connectionString
      ? decodeURIComponent(new URL(connection.connectionString).pathname.slice(1))
      : undefined;
    namespaces.set(connection, connection.database ?? (fromUrl || undefined));
  }
  return namespaces.get(connection);
};

const operationOf = (b: BuilderInternals): string =>
  b.isInsert() ? 'insert' : b.isUpdate() || b.isRelate() || b.isUnrelate() ? 'update' : b.isDelete() ? 'delete' : 'find';

function relationOf(builder: BuilderInternals): { name: string; strategy: 'lazy' | 'eager' } | undefined {
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

const rowsOf = (result: unknown): number =>
  Array.isArray(result) ? result.length : typeof result === 'number' ? result : result == null ? 0 : 1;

/**
 * error.type: the SQLSTATE for database errors (low-cardinality, what semconv recommends for
 * db spans), otherwise the exception's class. Objection wraps driver errors as nativeError.
 */
export function errorTypeOf(error: unknown): string {
  const native = (error as { nativeError?: unknown } | null)?.nativeError;
  const e = native instanceof Error ? native : error;
  if (!(e instanceof Error)) return 'Error';
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : e.constructor.name || e.name;
}

function failSpan(span: Span, error: unknown): void {
  const type = errorTypeOf(error);
  // The exception's type only: driver messages can quote row values ("Key (email)=(...)").
  span.recordException({ name: type, message: type });
  span.setStatus({ code: SpanStatusCode.ERROR, message: type });
  span.setAttribute(ATTR.errorType, type);
}

type Execute = (this: unknown) => Promise<unknown>;

function tracedExecute(original: Execute): Execute {
  return function execute(this: unknown) {
    if (!options.enabled) return original.call(this);
    const parent = trace.getActiveSpan();
    // An unsampled request records no spans: only the statement shape is tracked, so N+1
    // detection (a metric and a log line, both unsampled) still sees every request.
    if (parent !== undefined && !parent.isRecording()) return untracedExecute(this, original, parent.spanContext().spanId);
    const builder = this as BuilderInternals;
    const relation = relationOf(builder);
    const knex = builder.knex();
    const table = builder.modelClass().tableName;
    const operation = operationOf(builder);
    const attributes: Attributes = {
      [ATTR.dbSystemName]: 'postgresql',
      [ATTR.dbCollectionName]: table,
      [ATTR.dbOperationName]: relation ? 'find' : operation,
    };
    const namespace = namespaceOf(knex);
    if (namespace) attributes[ATTR.dbNamespace] = namespace;
    if (relation) {
      attributes[ATTR.dbRelationshipName] = relation.name;
      attributes[ATTR.dbRelationshipStrategy] = relation.strategy;
    }
    const session = context.active().getValue(SESSION) as SessionRecord | undefined;
    if (session) session.statements++;

    const parentSpanId = parent?.spanContext().spanId ?? 'none';
    const record: QueryRecord = { sql: undefined };
    const name = relation ? 'db.relationship.load' : `db.query.${operation}`;
    const startMs = performance.now();
    const ctx: Context = context.active().setValue(QUERY, record);
    return tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, ctx, async (span) => {
      try {
        const result = await original.call(this);
        span.setAttribute(ATTR.dbReturnedRows, rowsOf(result));
        return result;
      } catch (error) {
        failSpan(span, error);
        throw error;
      } finally {
        span.end();
        detectNPlusOne(parentSpanId, record.sql ?? name, startMs);
      }
    });
  };
}

async function untracedExecute(builder: unknown, original: Execute, parentSpanId: string): Promise<unknown> {
  const record: QueryRecord = { sql: undefined };
  const startMs = performance.now();
  try {
    return await context.with(context.active().setValue(QUERY, record), () => original.call(builder));
  } finally {
    detectNPlusOne(parentSpanId, record.sql ?? 'unknown', startMs);
  }
}

function detectNPlusOne(parentSpanId: string, sql: string, startMs: number): void {
  const request = currentRequest();
  if (!request) return;
  const detection = request.detector.record({ parentSpanId, shape: normalizeSql(sql), startMs, endMs: performance.now() });
  if (detection) options.onNPlusOne?.(detection, request);
}

/**
 * Attached once per Knex instance by createDb(). Knex reports each statement's parameterized SQL (never its values) with the 'query' event,
 * in the async context of the ORM query that issued it: that is how an ORM span learns its
 * statement shape without building the query twice. Transactions re-emit on the root instance.
 */
export function observeStatements(knex: Knex): void {
  const root = knex.isTransaction ? undefined : knex;
  if (!root || observedKnex.has(root)) return;
  observedKnex.add(root);
  root.on('query', (data: { sql?: string }) => {
    const record = context.active().getValue(QUERY) as QueryRecord | undefined;
    if (!record) return;
    record.sql ??= data.sql;
  });
}

/** Installs the ORM instrumentation (once) and applies options (every call). */
export function instrumentObjection(next: OrmTracingOptions): void {
  options = next;
  if (patched) return;
  patched = true;
  const proto = QueryBuilder.prototype as unknown as { execute: Execute };
  proto.execute = tracedExecute(proto.execute);

  type RelatedQuery = (this: Model, relationName: string, trx?: unknown) => object;
  const modelProto = Model.prototype as unknown as { $relatedQuery: RelatedQuery };
  const relatedQuery = modelProto.$relatedQuery;
  modelProto.$relatedQuery = function $relatedQuery(this: Model, relationName: string, trx?: unknown) {
    const builder = relatedQuery.call(this, relationName, trx);
    lazyRelations.set(builder, relationName);
    return builder;
  };
}

/**
 * Runs fn in a database transaction traced as one span, renamed at the end to
 * db.session.commit or db.session.rollback, with the number of ORM statements it ran.
 */
export async function inTransaction<T>(db: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  if (!options.enabled) return db.transaction(fn);
  const session: SessionRecord = { statements: 0 };
  const attributes: Attributes = { [ATTR.dbSystemName]: 'postgresql' };
  const namespace = namespaceOf(db);
  if (namespace) attributes[ATTR.dbNamespace] = namespace;
  const ctx = context.active().setValue(SESSION, session);
  return tracer.startActiveSpan('db.session', { kind: SpanKind.INTERNAL, attributes }, ctx, async (span) => {
    try {
      const result = await db.transaction(fn);
      span.updateName('db.session.commit');
      return result;
    } catch (error) {
      span.updateName('db.session.rollback');
      failSpan(span, error);
      throw error;
    } finally {
      span.setAttribute(ATTR.dbStatementCount, session.statements);
      span.end();
    }
  });
}
