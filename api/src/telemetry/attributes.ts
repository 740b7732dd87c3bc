/**
 * Attribute names we set that the stable OpenTelemetry semantic conventions do not define
 * (those come from @opentelemetry/semantic-conventions): the seed's ORM names
 * (db.relationship.*), db.response.returned_rows (semconv, still experimental) and ours
 * (tracebridge.*). Seed → ours: db.system → db.system.name, db.result.count →
 * db.response.returned_rows; db.collection.name and db.operation.name unchanged.
 */
export const ATTR = {
  dbReturnedRows: 'db.response.returned_rows',
  dbRelationshipName: 'db.relationship.name',
  dbRelationshipStrategy: 'db.relationship.strategy',
  dbStatementCount: 'tracebridge.db.statement_count',
  nPlusOneDetected: 'tracebridge.n_plus_one.detected',
  nPlusOneCount: 'tracebridge.n_plus_one.count',
  nPlusOneStatement: 'tracebridge.n_plus_one.statement',
} as const;
