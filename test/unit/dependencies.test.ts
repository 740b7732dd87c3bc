import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
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

/** Relative imports of every .ts file under api/src/<dir>, resolved to paths under api/src. */
function importsUnder(dir: string): { file: string; target: string }[] {
  const root = `${repoRoot}/api/src`;
  const found: { file: string; target: string }[] = [];
  for (const entry of readdirSync(`${root}/${dir}`, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    for (const match of readFileSync(path, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/g)) {
      found.push({ file: relative(root, path), target: relative(root, resolve(dirname(path), match[1]!)) });
    }
  }
  return found;
}

describe('layers: config → telemetry → db → routes → app → server', () => {
  const layers = ['telemetry', 'db', 'routes'] as const;
  const later: Record<(typeof layers)[number], string[]> = {
    telemetry: ['db', 'routes', 'app.ts', 'server.ts'],
    db: ['telemetry', 'routes', 'app.ts', 'server.ts'],
    routes: ['telemetry', 'app.ts', 'server.ts'],
  };
  for (const layer of layers) {
    it(`${layer} imports none of ${later[layer].join(', ')}`, () => {
      const imports = importsUnder(layer);
      expect(imports.length).toBeGreaterThan(0);
      const backwards = imports.filter(({ target }) => later[layer].some((l) => target === l || target.startsWith(`${l}/`)));
      expect(backwards).toEqual([]);
    });
  }
});
