import { context, createContextKey, SpanKind, trace, ValueType, type Attributes, type Histogram } from '@opentelemetry/api';
import { InstrumentationBase } from '@opentelemetry/instrumentation';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_TEXT,
  METRIC_DB_CLIENT_OPERATION_DURATION,
} from '@opentelemetry/semantic-conventions';
import knex from 'knex';
import { createRequire } from 'node:module';
import { Model, QueryBuilder } from 'objection';
import semver from 'semver';
import { ATTR } from '../attributes.ts';
import { errorTypeOf } from '../error-type.ts';
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
import { connectionOf, failSpan, operationOf, recordAttributes, relationOf, rowsOf, sqlOf, statementOperation } from './utils.ts';

/** The SQL as the server receives it: Knex's `?` placeholders numbered `$1`, `$2` for PostgreSQL. */
const positioned = (builder: BuilderInternals, sql: string): string =>
  (builder.knex().client as { positionBindings(sql: string): string }).positionBindings(sql);

/** instrumentation-pg's boundaries for db.client.operation.duration (s), so dashboards read both alike. */
const OPERATION_BUCKETS_S = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10];

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

export type Versions = Record<keyof typeof SUPPORTED, string | undefined>;

/** Why these versions cannot be patched, or undefined when they can. */
export function unsupportedVersions(versions: Versions): string | undefined {
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
 *   Knex Client#query      → the statement's parameterized SQL (db.query.text of the ORM span,
 *                            the N+1 shape) and its db.client.operation.duration record
 *
 * One span per ORM query, carrying its SQL: no driver span under it (README, Telemetry: the
 * measured cost of the second span). Only a recording parent gets spans and attributes. Inside an unsampled request a query costs
 * one context read and, for N+1 detection (a metric and a log line, which are not sampled), a
 * statement shape looked up in a memo. Outside any span (migrations, startup) nothing is done.
 */
export class ObjectionInstrumentation extends InstrumentationBase<ObjectionInstrumentationConfig> {
  /** `declare`, and no #private members: the base constructor runs enable() before initializers. */
  declare private lazyRelations: WeakMap<object, string> | undefined;
  declare private operationDuration: Histogram;

  constructor(config: ObjectionInstrumentationConfig = {}) {
    super('tracebridge-orm', SCOPE_VERSION, config);
  }

  protected override init(): [] {
    return [];
  }

  protected override _updateMetricInstruments(): void {
    this.operationDuration = this.meter.createHistogram(METRIC_DB_CLIENT_OPERATION_DURATION, {
      description: 'Duration of database client operations.',
      unit: 's',
      valueType: ValueType.DOUBLE,
      advice: { explicitBucketBoundaries: OPERATION_BUCKETS_S },
    });
  }

  /** The installed objection and knex (a method, so a test can pretend others are installed). */
  protected installedVersions(): Versions {
    return { objection: installedVersion('objection'), knex: installedVersion('knex') };
  }

  override enable(): void {
    if (this._enabled) return;
    const problem = unsupportedVersions(this.installedVersions());
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
      ...connectionOf(builder.knex().client).attributes,
      [ATTR_DB_COLLECTION_NAME]: builder.modelClass().tableName,
      [ATTR_DB_OPERATION_NAME]: relation ? 'find' : operation,
    };
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
        // Parameterized (`$1`): Knex hands the driver values separately, and they never reach a span.
        if (record.sql !== undefined) span.setAttribute(ATTR_DB_QUERY_TEXT, positioned(builder, record.sql));
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

  /**
   * Every statement, in a request or not: its SQL for the ORM span or the N+1 shape, and its
   * db.client.operation.duration record, with attributes from a per-connection cache.
   */
  private wrapClientQuery(original: ClientQuery): ClientQuery {
    const record = (client: unknown, sql: string | undefined, startMs: number, error: unknown) => {
      const attributes = recordAttributes(connectionOf(client), sql === undefined ? 'unknown' : statementOperation(sql), error === undefined ? undefined : errorTypeOf(error));
      this.operationDuration.record((performance.now() - startMs) / 1000, attributes);
    };
    return function query(this: unknown, connection, statement) {
      const sql = sqlOf(statement);
      const active = context.active();
      const query = active.getValue(QUERY) as QueryRecord | undefined;
      if (query) query.sql ??= sql;
      else {
        const request = currentRequest();
        if (request && request.pendingSql === undefined) request.pendingSql = sql;
      }
      const startMs = performance.now();
      const result = original.call(this, connection, statement);
      result.then(
        () => record(this, sql, startMs, undefined),
        (error: unknown) => record(this, sql, startMs, error ?? 'Error'),
      );
      return result;
    };
  }

  private wrapTransaction(original: ClientTransaction): ClientTransaction {
    const startSession = (attributes: Attributes) => this.tracer.startSpan('db.session', { kind: SpanKind.INTERNAL, attributes });
    return function transaction(this: unknown, container, config, outerTx) {
      // Knex passes a function in both forms: the caller's callback, or (for `await db.transaction()`)
      // its own resolve; the latter is spanned until commit or rollback too, counting no statements.
      if (typeof container !== 'function' || !trace.getActiveSpan()?.isRecording()) return original.call(this, container, config, outerTx);
      const attributes: Attributes = { ...connectionOf(this).attributes };
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
