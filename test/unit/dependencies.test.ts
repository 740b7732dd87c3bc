import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/process.ts';

interface Lock {
  packages: Record<string, { version?: string }>;
}

describe('dependencies', () => {
  it('hold exactly one copy of each @opentelemetry package (mixed copies break context and globals)', () => {
    const lock = JSON.parse(readFileSync(`${repoRoot}/package-lock.json`, 'utf8')) as Lock;
    const copies = new Map<string, string[]>();
    for (const [path, entry] of Object.entries(lock.packages)) {
      const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
      if (!name.startsWith('@opentelemetry/')) continue;
      copies.set(name, [...(copies.get(name) ?? []), `${path}@${entry.version ?? '?'}`]);
    }
    expect(copies.size).toBeGreaterThan(10);
    const duplicated = [...copies].filter(([, where]) => where.length > 1);
    expect(duplicated).toEqual([]);
  });
});
