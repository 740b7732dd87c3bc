import type { InstrumentationConfig } from '@opentelemetry/instrumentation';
import type { Knex } from 'knex';
import type { Detection } from '../n-plus-one.ts';
import type { RequestTelemetry } from '../request-state.ts';

export interface ObjectionInstrumentationConfig extends InstrumentationConfig {
  /** Called the first time a request's N+1 run reaches the threshold (sampled or not). */
  onNPlusOne?: (detection: Detection, request: RequestTelemetry) => void;
}

/** The Objection QueryBuilder internals this instrumentation reads (objection 3.x, not in its typings). */
export interface BuilderInternals {
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

/** What the ORM span of the query in flight learns from Knex: its first statement, parameterized. */
export interface QueryRecord {
  sql: string | undefined;
}

export interface SessionRecord {
  statements: number;
}

export type Execute = (this: unknown) => Promise<unknown>;
export type RelatedQuery = (this: object, relationName: string, trx?: unknown) => object;
/** Knex's Client#query(connection, query): one statement. */
export type ClientQuery = (this: unknown, connection: unknown, query: string | { sql?: string }) => Promise<unknown>;
/** Knex's Client#transaction(container, config, outerTx): returns the (thenable) Transaction. */
export type ClientTransaction = (this: unknown, container: unknown, config: unknown, outerTx: unknown) => PromiseLike<unknown>;
