/**
 * error.type: the SQLSTATE for database errors (low-cardinality, what semconv recommends for
 * db spans), a Node error code (ECONNREFUSED), otherwise the exception's class. Objection wraps
 * driver errors as nativeError.
 */
export function errorTypeOf(error: unknown): string {
  const native = (error as { nativeError?: unknown } | null)?.nativeError;
  const e = native instanceof Error ? native : error;
  if (!(e instanceof Error)) return 'Error';
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : e.constructor.name || e.name;
}
