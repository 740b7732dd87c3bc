import pg from 'pg';

/**
 * timestamptz columns arrive as the ISO strings the API answers with (`2026-01-01T00:00:00.000Z`),
 * not as Dates that the routes turn back into strings. Scoped to our pool (pg's `types` option),
 * not pg's global parsers.
 */

const TIMESTAMPTZ: number = pg.types.builtins.TIMESTAMPTZ;
/** pg's parser of an oid (its TypeId enum widened: oids come from the wire as numbers). */
const pgParser = pg.types.getTypeParser.bind(pg.types) as (oid: number, format?: 'text' | 'binary') => unknown;
const parseDate = pgParser(TIMESTAMPTZ) as (text: string) => Date | number;

/** PostgreSQL's text form in a UTC session: `2026-01-01 12:34:56.789012+00`. */
const UTC_TEXT = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?\+00$/;

/**
 * The text of a timestamptz as `Date#toISOString()` writes the Date pg would have made of it
 * (milliseconds, truncated as pg's parser does). Other time zones, BC years and infinity go
 * through pg's own parser, so the output is the same for every input.
 */
export function timestamptzToIso(text: string): string {
  const match = UTC_TEXT.exec(text);
  if (!match) return new Date(parseDate(text)).toISOString();
  const fraction = match[3];
  const ms = fraction === undefined ? 0 : Math.trunc(1000 * parseFloat(`.${fraction}`));
  return `${match[1]}T${match[2]}.${ms < 10 ? '00' : ms < 100 ? '0' : ''}${ms}Z`;
}

/** pg's `types` option: timestamptz as ISO strings, everything else as pg parses it. */
export const pgTypes = {
  getTypeParser: (oid: number, format?: string): unknown =>
    oid === TIMESTAMPTZ && format !== 'binary' ? timestamptzToIso : pgParser(oid, format === 'binary' ? 'binary' : 'text'),
};
