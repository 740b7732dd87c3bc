import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { pgTypes, timestamptzToIso } from '../../api/src/db/timestamps.ts';

/** What clients got before timestamptz was read as a string: pg's Date, written by toISOString. */
const viaDate = (text: string) => (pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ) as (t: string) => Date)(text).toISOString();

describe('timestamptz as ISO strings', () => {
  it('writes what pg’s Date and toISOString wrote, for every millisecond fraction of a UTC session’s text', () => {
    const mismatches: string[] = [];
    for (let micro = 0; micro < 1_000_000; micro += 7) {
      for (const digits of [1, 2, 3, 4, 5, 6]) {
        const text = `2026-11-29 13:20:01.${String(micro).padStart(6, '0').slice(0, digits)}+00`;
        if (timestamptzToIso(text) !== viaDate(text)) mismatches.push(text);
      }
    }
    expect(mismatches.slice(0, 5)).toEqual([]);
  });

  it.each([
    ['2026-01-01 00:00:00+00', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01 00:00:00.5+00', '2026-01-01T00:00:00.500Z'],
    ['2026-01-01 00:00:00.999999+00', '2026-01-01T00:00:00.999Z'],
    // Sessions in other time zones, years below 100 and BC years take pg's parser.
    ['2026-01-01 05:30:00.25+05:30', '2026-01-01T00:00:00.250Z'],
    ['2025-12-31 16:00:00-08', '2026-01-01T00:00:00.000Z'],
    ['0050-06-01 00:00:00+00', '0050-06-01T00:00:00.000Z'],
    ['0001-01-01 00:00:00+00 BC', '0000-01-01T00:00:00.000Z'],
  ])('%s → %s', (text, iso) => {
    expect(timestamptzToIso(text)).toBe(iso);
    expect(viaDate(text)).toBe(iso);
  });

  it('applies to timestamptz only: other types keep pg’s parsers', () => {
    expect(pgTypes.getTypeParser(pg.types.builtins.TIMESTAMPTZ, 'text')).toBe(timestamptzToIso);
    expect(pgTypes.getTypeParser(pg.types.builtins.INT4, 'text')).toBe(pg.types.getTypeParser(pg.types.builtins.INT4));
    expect(pgTypes.getTypeParser(pg.types.builtins.TIMESTAMP, 'text')).toBe(pg.types.getTypeParser(pg.types.builtins.TIMESTAMP));
    // pg's global parsers are left as they were.
    expect(pg.types.getTypeParser(pg.types.builtins.TIMESTAMPTZ)).not.toBe(timestamptzToIso);
  });
});
