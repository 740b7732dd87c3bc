/**
 * Offset pagination without a COUNT query: fetch one row more than asked to learn whether
 * another page exists (keeps GET /posts?eager=true at exactly two statements).
 */
export function toPage<T>(rows: T[], limit: number, offset: number) {
  const hasMore = rows.length > limit;
  return { items: hasMore ? rows.slice(0, limit) : rows, limit, offset, next_offset: hasMore ? offset + limit : null };
}
