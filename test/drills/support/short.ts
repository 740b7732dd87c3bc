import { expect, inject, it } from 'vitest';
import { DRILLS, type DrillName } from '../drills.ts';
import { failures } from './result.ts';

/**
 * One drill at its short length inside make test, with the same checks as make drills: the
 * test fails with the list of checks that did not hold, and prints the drill's figures.
 */
export function shortDrill(name: DrillName, timeoutMs: number): void {
  it(`${name}: every check holds (short length)`, async () => {
    const result = await DRILLS[name].run({ durationS: 0, adminDatabaseUrl: inject('adminDatabaseUrl') }, 'short');
    process.stdout.write(
      `${result.drill} (${result.length}, ${result.elapsedS} s): ${Object.entries(result.figures)
        .map(([k, v]) => `${k}: ${String(v)}`)
        .join('; ')}\n`,
    );
    expect(failures(result)).toEqual([]);
    expect(result.checks.length).toBeGreaterThan(0);
  }, timeoutMs);
}
