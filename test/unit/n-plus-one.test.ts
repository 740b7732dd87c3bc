import { describe, expect, it } from 'vitest';
import { NPlusOneDetector, normalizeSql, type Statement } from '../../api/src/telemetry/n-plus-one.ts';

const shape = 'select "users".* from "users" where "users"."id" in (?)';

/** n statements of one shape under one parent, each starting after the previous ended. */
function sequential(n: number, parentSpanId = 'server', sql = shape, startAt = 0): Statement[] {
  return Array.from({ length: n }, (_, i) => ({ parentSpanId, shape: sql, startMs: startAt + i * 2, endMs: startAt + i * 2 + 1 }));
}

describe('normalizeSql', () => {
  it.each([
    ['select * from "users" where "id" in (?, ?, ?)', 'select * from "users" where "id" in (?)'],
    ['select * from "users" where "id" in ($1, $2)', 'select * from "users" where "id" in (?)'],
    ["select * from t where name = 'O''Brien' and n = 42", 'select * from t where name = ? and n = ?'],
    ['select   *\n  from t\twhere id = $1', 'select * from t where id = ?'],
    ['select * from "t2" limit ?', 'select * from "t2" limit ?'],
  ])('%s → %s', (sql, expected) => {
    expect(normalizeSql(sql)).toBe(expected);
  });
});

describe('NPlusOneDetector', () => {
  it('flags a run once, when it reaches the threshold, and reports its final length', () => {
    const detector = new NPlusOneDetector(5);
    const results = sequential(7).map((s) => detector.record(s));
    expect(results.slice(0, 4)).toEqual([undefined, undefined, undefined, undefined]);
    expect(results[4]).toEqual({ shape, count: 5 });
    expect(results.slice(5)).toEqual([undefined, undefined]);
    expect(detector.detections()).toEqual([{ shape, count: 7 }]);
  });

  it('does not flag below the threshold', () => {
    const detector = new NPlusOneDetector(5);
    for (const s of sequential(4)) detector.record(s);
    expect(detector.detections()).toEqual([]);
  });

  it('does not flag single-row lookups of different shapes (the eager and by-id paths)', () => {
    const detector = new NPlusOneDetector(2);
    detector.record({ parentSpanId: 'server', shape: 'select posts', startMs: 0, endMs: 1 });
    detector.record({ parentSpanId: 'find', shape: 'select users in (?)', startMs: 1, endMs: 2 });
    expect(detector.detections()).toEqual([]);
  });

  it('a different shape in between breaks the run', () => {
    const detector = new NPlusOneDetector(3);
    const [a, b] = sequential(2);
    detector.record(a!);
    detector.record(b!);
    detector.record({ parentSpanId: 'server', shape: 'other', startMs: 10, endMs: 11 });
    for (const s of sequential(2, 'server', shape, 20)) detector.record(s);
    expect(detector.detections()).toEqual([]);
  });

  it('runs are per parent span: repeats under different parents do not add up', () => {
    const detector = new NPlusOneDetector(3);
    for (const [i, parent] of ['a', 'b', 'c', 'd'].entries()) {
      detector.record({ parentSpanId: parent, shape, startMs: i * 2, endMs: i * 2 + 1 });
    }
    expect(detector.detections()).toEqual([]);
  });

  it('concurrent queries (overlapping in time) are not a sequential run', () => {
    const detector = new NPlusOneDetector(3);
    for (let i = 0; i < 6; i++) detector.record({ parentSpanId: 'server', shape, startMs: 0, endMs: 10 + i });
    expect(detector.detections()).toEqual([]);
  });

  it('reports several shapes, worst first', () => {
    const detector = new NPlusOneDetector(2);
    for (const s of sequential(2, 'server', 'a')) detector.record(s);
    for (const s of sequential(4, 'server', 'b', 100)) detector.record(s);
    expect(detector.detections()).toEqual([
      { shape: 'b', count: 4 },
      { shape: 'a', count: 2 },
    ]);
  });
});
