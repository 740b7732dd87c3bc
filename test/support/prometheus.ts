/** One sample line of the Prometheus text exposition format. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** `# TYPE` and `# UNIT` comments by metric family name. */
export interface Family {
  type?: string;
  unit?: string;
}

function parseValue(text: string | undefined, line: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  const value = Number(text);
  if (text === undefined || text === '' || Number.isNaN(value)) throw new Error(`bad sample value in: ${line}`);
  return value;
}

function parseLine(line: string): Sample {
  const nameEnd = line.search(/[{ ]/);
  if (nameEnd <= 0) throw new Error(`bad sample line: ${line}`);
  const name = line.slice(0, nameEnd);
  const labels: Record<string, string> = {};
  let i = nameEnd;
  if (line[i] === '{') {
    i++;
    while (line[i] !== '}') {
      const eq = line.indexOf('="', i);
      if (eq < 0) throw new Error(`bad label in: ${line}`);
      const key = line.slice(i, eq);
      i = eq + 2;
      let value = '';
      for (;;) {
        const c = line[i];
        if (c === undefined) throw new Error(`unterminated label value in: ${line}`);
        i++;
        if (c === '"') break;
        if (c === '\\') {
          const escaped = line[i++];
          value += escaped === 'n' ? '\n' : (escaped ?? '');
        } else {
          value += c;
        }
      }
      labels[key] = value;
      if (line[i] === ',') i++;
      else if (line[i] !== '}') throw new Error(`bad label separator in: ${line}`);
    }
    i++;
  }
  // An optional timestamp may follow the value.
  const value = parseValue(line.slice(i).trim().split(/\s+/)[0], line);
  return { name, labels, value };
}

/** The samples of a scrape, in order; comments and blank lines are skipped. */
export function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    samples.push(parseLine(line));
  }
  return samples;
}

/** The `# TYPE` and `# UNIT` metadata of a scrape. */
export function parseFamilies(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const match = /^# (TYPE|UNIT) (\S+) (.*)$/.exec(line);
    if (!match) continue;
    const [, kind, name, rest] = match as unknown as [string, string, string, string];
    const family = families.get(name) ?? {};
    if (kind === 'TYPE') family.type = rest;
    else family.unit = rest;
    families.set(name, family);
  }
  return families;
}

/**
 * The value of the one sample named `name` whose labels include `labels`; undefined when there is
 * none (a counter or histogram that never recorded is absent from a scrape).
 */
export function sampleValue(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const matches = samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  if (matches.length > 1) throw new Error(`${matches.length} samples match ${name} ${JSON.stringify(labels)}`);
  return matches[0]?.value;
}
