/** What every drill returns: its figures, and the checks computed from them (the same in make test and make drills). */

export type Figure = string | number | boolean;

export interface Check {
  /** The contract, as one sentence. */
  claim: string;
  ok: boolean;
  /** The figures the verdict was taken from. */
  detail: string;
}

export interface DrillResult {
  /** Short name, the row of the table. */
  drill: string;
  /** The length asked for (seconds of load, or the drill's own unit in `length`). */
  length: string;
  figures: Record<string, Figure>;
  checks: Check[];
  elapsedS: number;
}

export interface DrillOptions {
  /** Seconds of load (the drill scales its phases from it). */
  durationS: number;
  /** Superuser URL of a PostgreSQL server; each drill creates its own database on it. */
  adminDatabaseUrl: string;
  /** Progress lines (the runner prints them; tests keep quiet). */
  log?: (line: string) => void;
}

export function check(claim: string, ok: boolean, detail: string): Check {
  return { claim, ok, detail };
}

/** The checks that failed, as text: tests assert this is empty, and a failure names what broke. */
export function failures(result: DrillResult): string[] {
  return result.checks.filter((c) => !c.ok).map((c) => `${result.drill}: ${c.claim} (${c.detail})`);
}

export const round = (value: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
};

/** Registers a cleanup step; the steps run in reverse order when the drill ends, failed or not. */
export type Defer = (step: () => unknown) => void;

/** Runs body, then its deferred cleanups (even when it throws), and fills in elapsedS. */
export async function timedDrill(
  drill: string,
  length: string,
  body: (figures: Record<string, Figure>, checks: Check[], defer: Defer) => Promise<void>,
): Promise<DrillResult> {
  const start = performance.now();
  const figures: Record<string, Figure> = {};
  const checks: Check[] = [];
  const steps: (() => unknown)[] = [];
  try {
    await body(figures, checks, (step) => steps.push(step));
  } finally {
    for (const step of steps.reverse()) {
      try {
        await step();
      } catch (error) {
        process.stderr.write(`${drill}: cleanup failed: ${String(error)}\n`);
      }
    }
  }
  return { drill, length, figures, checks, elapsedS: round((performance.now() - start) / 1000) };
}
