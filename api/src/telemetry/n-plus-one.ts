/**
 * N+1 detection, after Sentry's performance detector and Bullet: within one request, the same
 * statement shape repeated N times in a row under one parent span, each query starting after
 * the previous one ended. Concurrent fan-out (Promise.all) is not flagged: it costs latency
 * differently and is usually deliberate. Pure logic: no OpenTelemetry here.
 */

/** Literal values and IN-list lengths vary between calls of one call site; the shape must not. */
export function normalizeSql(sql: string): string {
  return sql
    .replace(/'(?:[^']|'')*'/g, '?')
    .replace(/\$\d+/g, '?')
    .replace(/\b\d+(?:\.\d+)?\b/g, '?')
    .replace(/\(\s*\?(?:\s*,\s*\?)*\s*\)/g, '(?)')
    .replace(/\s+/g, ' ')
    .trim();
}

const SHAPE_MEMO_SIZE = 1_000;
const shapes = new Map<string, string>();

/**
 * normalizeSql, memoized: an application issues a bounded set of parameterized statements, so
 * after warm-up a statement's shape is one map lookup instead of five regular expressions. A
 * statement with literal values inlined can defeat the memo, so it is bounded (and then reset).
 */
export function shapeOf(sql: string): string {
  let shape = shapes.get(sql);
  if (shape === undefined) {
    if (shapes.size >= SHAPE_MEMO_SIZE) shapes.clear();
    shape = normalizeSql(sql);
    shapes.set(sql, shape);
  }
  return shape;
}

export interface Statement {
  /** The span the ORM query ran under (normally the request's SERVER span). */
  parentSpanId: string;
  shape: string;
  startMs: number;
  endMs: number;
}

export interface Detection {
  shape: string;
  /** Length of the longest sequential run of this shape. */
  count: number;
}

interface Run {
  shape: string;
  count: number;
  lastEndMs: number;
}

export class NPlusOneDetector {
  readonly threshold: number;
  private readonly runs = new Map<string, Run>();
  private readonly detected = new Map<string, number>();

  constructor(threshold: number) {
    this.threshold = threshold;
  }

  /** Records a finished statement; returns a Detection the first time a run reaches the threshold. */
  record(statement: Statement): Detection | undefined {
    const run = this.runs.get(statement.parentSpanId);
    if (run && run.shape === statement.shape && statement.startMs >= run.lastEndMs) {
      run.count++;
      run.lastEndMs = statement.endMs;
    } else {
      this.runs.set(statement.parentSpanId, { shape: statement.shape, count: 1, lastEndMs: statement.endMs });
      return undefined;
    }
    if (run.count < this.threshold) return undefined;
    const before = this.detected.get(run.shape);
    this.detected.set(run.shape, Math.max(before ?? 0, run.count));
    return before === undefined ? { shape: run.shape, count: run.count } : undefined;
  }

  /** Every shape flagged in this request with its longest run, worst first. */
  detections(): Detection[] {
    return [...this.detected].map(([shape, count]) => ({ shape, count })).sort((a, b) => b.count - a.count);
  }
}
