import { context, createContextKey, SpanKind, trace, type Attributes } from '@opentelemetry/api';
import { InstrumentationBase } from '@opentelemetry/instrumentation';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_NAMESPACE,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_SYSTEM_NAME,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import knex, { type Knex } from 'knex';
import { createRequire } from 'node:module';
import { Model, QueryBuilder } from 'objection';
import semver from 'semver';
import { ATTR } from '../attributes.ts';
import { shapeOf } from '../n-plus-one.ts';
import { currentRequest, detectorOf, type RequestTelemetry } from '../request-state.ts';
import { SCOPE_VERSION } from '../scope.ts';
import type {
  BuilderInternals,
  ClientQuery,
  ClientTransaction,
  Execute,
  ObjectionInstrumentationConfig,
  QueryRecord,
  RelatedQuery,
  SessionRecord,
} from './types.ts';
import { failSpan, namespaceOf, operationOf, relationOf, rowsOf, sqlOf } from './utils.ts';

/**
 * The versions whose internals (QueryBuilder#execute, #findOperation, #parentQuery,
 * Model#$relatedQuery; Knex Client#query and #transaction) the suites exercise. Outside them the
 * instrumentation refuses to patch and says why: a renamed internal would break queries, not spans.
 */
export const SUPPORTED = { objection: '>=3.1.0 <4', knex: '>=3.0.0 <4' } as const;

/** Knex's PostgreSQL client (no `exports` map in knex 3, so its file is reachable): it overrides Client#transaction. */
const postgresClient = (): { prototype: object } =>
  createRequire(import.meta.url)('knex/lib/dialects/postgres/index.js') as { prototype: object };

const QUERY = createContextKey('tracebridge.orm.query');
const SESSION = createContextKey('tracebridge.orm.session');

const installedVersion = (name: string): string | undefined => {
  try {
    return (createRequire(import.meta.url)(`${name}/package.json`) as { version?: string }).version;
  } catch {
    return undefined;
  }
};

/** Why the installed versions cannot be patched, or undefined when they can. */
export function unsupportedVersions(versions: Record<keyof typeof SUPPORTED, string | undefined> = {
  objection: installedVersion('objection'),
  knex: installedVersion('knex'),
}): string | undefined {
  const problems = (Object.keys(SUPPORTED) as (keyof typeof SUPPORTED)[])
    .filter((name) => !semver.satisfies(versions[name] ?? '0.0.0', SUPPORTED[name]))
    .map((name) => `${name} ${versions[name] ?? '(not found)'} is outside the tested range ${SUPPORTED[name]}`);
  return problems.length === 0 ? undefined : problems.join('; ');
}

/**
 * ORM spans for Objection, in the contrib style (enable() patches, disable() restores):
 *   QueryBuilder#execute   → db.query.{find,insert,update,delete} or db.relationship.load
 *   Model#$relatedQuery    → marks the builder as a lazy relationship load
 *   Knex pg Client#transaction → db.session.commit / db.session.rollback (db.transaction(),
 *                             Model.transaction() and objection's transaction() all land here)
 *   Knex Client#query      → the statement's parameterized SQL, for the ORM span and N+1 shapes
 *
 * Only a recording parent gets spans and attributes. Inside an unsampled request a query costs
 * one context read and, for N+1 detection (a metric and a log line, which are not sampled), a
 * statement shape looked up in a memo. Outside any span (migrations, startup) nothing is done.
 */
export class ObjectionInstrumentation extends InstrumentationBase<ObjectionInstrumentationConfig> {
  /** `declare`, and no #private members: the base constructor runs enable() before initializers. */
  declare private lazyRelations: WeakMap<object, string> | undefined;

  constructor(config: ObjectionInstrumentationConfig = {}) {
    super('tracebridge-orm', SCOPE_VERSION, config);
  }

  protected override init(): [] {
    return [];
  }

  override enable(): void {
    if (this._enabled) return;
    const problem = unsupportedVersions();
    if (problem) {
      this._diag.error(`not patching Objection: ${problem}`);
      return;
    }
    super.enable();
    this.lazyRelations = new WeakMap();
    this._wrap(QueryBuilder.prototype, 'execute', (original) => this.wrapExecute(original));
    this._wrap(Model.prototype as unknown as { $relatedQuery: RelatedQuery }, '$relatedQuery', (original) => this.wrapRelatedQuery(original));
    this._wrap(knex.Client.prototype, 'query', (original) => this.wrapClientQuery(original));
    this._wrap(postgresClient().prototype as { transaction: ClientTransaction }, 'transaction', (original) => this.wrapTransaction(original));
  }

  override disable(): void {
    if (!this._enabled) return;
    super.disable();
    this._unwrap(QueryBuilder.prototype, 'execute');
    this._unwrap(Model.prototype as unknown as { $relatedQuery: RelatedQuery }, '$relatedQuery');
    this._unwrap(knex.Client.prototype, 'query');
    this._unwrap(postgresClient().prototype as { transaction: ClientTransaction }, 'transaction');
  }

  private wrapExecute(original: Execute): Execute {
    const untraced = (builder: unknown, request: RequestTelemetry, parentSpanId: string) =>
      this.untracedExecute(builder, original, request, parentSpanId);
    const traced = (builder: BuilderInternals, parentSpanId: string) => this.tracedExecute(builder, original, parentSpanId);
    return function execute(this: unknown) {
      const parent = trace.getActiveSpan();
      if (parent === undefined) return original.call(this);
      if (!parent.isRecording()) {
        const request = currentRequest();
        return request ? untraced(this, request, parent.spanContext().spanId) : original.call(this);
      }
      return traced(this as BuilderInternals, parent.spanContext().spanId);
    };
  }

  private tracedExecute(builder: BuilderInternals, original: Execute, parentSpanId: string): Promise<unknown> {
    const relation = this.lazyRelations ? relationOf(builder, this.lazyRelations) : undefined;
    const operation = operationOf(builder);
    const attributes: Attributes = {
      [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL,
      [ATTR_DB_COLLECTION_NAME]: builder.modelClass().tableName,
      [ATTR_DB_OPERATION_NAME]: relation ? 'find' : operation,
    };
    const namespace = namespaceOf(builder.knex());
    if (namespace) attributes[ATTR_DB_NAMESPACE] = namespace;
    if (relation) {
      attributes[ATTR.dbRelationshipName] = relation.name;
      attributes[ATTR.dbRelationshipStrategy] = relation.strategy;
    }
    const active = context.active();
    const session = active.getValue(SESSION) as SessionRecord | undefined;
    if (session) session.statements++;

    const record: QueryRecord = { sql: undefined };
    const name = relation ? 'db.relationship.load' : `db.query.${operation}`;
    const startMs = performance.now();
    return this.tracer.startActiveSpan(name, { kind: SpanKind.INTERNAL, attributes }, active.setValue(QUERY, record), async (span) => {
      try {
        const result = await original.call(builder);
        span.setAttribute(ATTR.dbReturnedRows, rowsOf(result));
        return result;
      } catch (error) {
        failSpan(span, error);
        throw error;
      } finally {
        span.end();
        const request = currentRequest();
        if (request) this.detect(request, parentSpanId, record.sql ?? name, startMs);
      }
    });
  }

  /**
   * A query of an unsampled request: no span, no attributes, no context switch. Its statement
   * shape still feeds N+1 detection: Client#query leaves the SQL on the request state. Two
   * queries of one request running at once may swap shapes, which detection ignores anyway (it
   * only counts queries that ran one after another).
   */
  private untracedExecute(builder: unknown, original: Execute, request: RequestTelemetry, parentSpanId: string): Promise<unknown> {
    request.pendingSql = undefined;
    const startMs = performance.now();
    const done = (): void => {
      const sql = request.pendingSql;
      request.pendingSql = undefined;
      if (sql !== undefined) this.detect(request, parentSpanId, sql, startMs);
    };
    return original.call(builder).then(
      (result) => {
        done();
        return result;
      },
      (error: unknown) => {
        done();
        throw error;
      },
    );
  }

  private detect(request: RequestTelemetry, parentSpanId: string, sql: string, startMs: number): void {
    const detection = detectorOf(request).record({ parentSpanId, shape: shapeOf(sql), startMs, endMs: performance.now() });
    if (detection) this.getConfig().onNPlusOne?.(detection, request);
  }

  private wrapRelatedQuery(original: RelatedQuery): RelatedQuery {
    const mark = (builder: object, relationName: string) => this.lazyRelations?.set(builder, relationName);
    return function $relatedQuery(this: object, relationName: string, trx?: unknown) {
      const builder = original.call(this, relationName, trx);
      mark(builder, relationName);
      return builder;
    };
  }

  private wrapClientQuery(original: ClientQuery): ClientQuery {
    return function query(this: unknown, connection, statement) {
      const active = context.active();
      const record = active.getValue(QUERY) as QueryRecord | undefined;
      if (record) record.sql ??= sqlOf(statement);
      else {
        const request = currentRequest();
        if (request && request.pendingSql === undefined) request.pendingSql = sqlOf(statement);
      }
      return original.call(this, connection, statement);
    };
  }

  private wrapTransaction(original: ClientTransaction): ClientTransaction {
    const startSession = (attributes: Attributes) => this.tracer.startSpan('db.session', { kind: SpanKind.INTERNAL, attributes });
    return function transaction(this: unknown, container, config, outerTx) {
      // Knex passes a function in both forms: the caller's callback, or (for `await db.transaction()`)
      // its own resolve; the latter is spanned until commit or rollback too, counting no statements.
      if (typeof container !== 'function' || !trace.getActiveSpan()?.isRecording()) return original.call(this, container, config, outerTx);
      const attributes: Attributes = { [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL };
      const namespace = namespaceOf({ client: this } as unknown as Knex);
      if (namespace) attributes[ATTR_DB_NAMESPACE] = namespace;
      const session: SessionRecord = { statements: 0 };
      const span = startSession(attributes);
      const ctx = trace.setSpan(context.active(), span).setValue(SESSION, session);
      const trx = context.with(ctx, () => original.call(this, container, config, outerTx));
      const end = (): void => {
        span.setAttribute(ATTR.dbStatementCount, session.statements);
        span.end();
      };
      trx.then(
        () => {
          span.updateName('db.session.commit');
          end();
        },
        (error: unknown) => {
          span.updateName('db.session.rollback');
          failSpan(span, error);
          end();
        },
      );
      return trx;
    };
  }
}
