/**
 * Attribute names we set. Stable OpenTelemetry semantic conventions where one exists; the
 * seed's ORM names (db.relationship.*) and ours (tracebridge.*) where none does.
 * Seed → ours: db.system → db.system.name, db.result.count → db.response.returned_rows,
 * db.collection.name and db.operation.name unchanged.
 */
export const ATTR = {
  dbSystemName: 'db.system.name',
  dbNamespace: 'db.namespace',
  dbCollectionName: 'db.collection.name',
  dbOperationName: 'db.operation.name',
  dbReturnedRows: 'db.response.returned_rows',
  dbRelationshipName: 'db.relationship.name',
  dbRelationshipStrategy: 'db.relationship.strategy',
  dbStatementCount: 'tracebridge.db.statement_count',
  errorType: 'error.type',
  httpRoute: 'http.route',
  nPlusOneDetected: 'tracebridge.n_plus_one.detected',
  nPlusOneCount: 'tracebridge.n_plus_one.count',
  nPlusOneStatement: 'tracebridge.n_plus_one.statement',
} as const;
