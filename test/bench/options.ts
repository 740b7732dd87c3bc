import { parseArgs } from 'node:util';

/** The runner's command line: `node test/bench/run.ts [--smoke] [--duration 5] ...`. */

export interface BenchOptions {
  smoke: boolean;
  /** Seconds per measured load run. */
  duration: number;
  /** Seconds of the warm-up run of each variant, before the measured rounds. */
  warmup: number;
  /** Measured rounds per comparison (A B A B ...). */
  rounds: number;
  /** Concurrent connections of the HTTP load generator. */
  connections: number;
  /** Seconds of steady load before the outage (figure 6). */
  steady: number;
  /** Seconds the collector is down under load (figure 6). */
  outage: number;
  /** Seconds per offered rate step of the collector benchmark (figure 5; figure 8 adds the gateway's decision wait). */
  collectorStep: number;
  /** Starts measured per startup variant (figure 7). */
  startups: number;
  /** Figures to run (1-8). */
  figures: number[];
  /** Where latest.md and latest.json go. */
  out: string;
  /** When set, every tracebridge API (and ceiling) process writes a V8 CPU profile (--cpu-prof) into this directory. */
  cpuProf: string;
}

export const USAGE = `usage: node test/bench/run.ts [options]
  --smoke              tiny lengths (the harness check make test runs); results go to a temp dir unless --out
  --duration S         seconds per measured run (default 5)
  --warmup S           seconds of warm-up per variant (default 4)
  --rounds N           interleaved rounds per comparison (default 3)
  --connections N      HTTP connections of the load generator (default 10)
  --steady S           seconds of steady load before the collector outage (default 20)
  --outage S           seconds the collector is down under load (default 60)
  --collector-step S   seconds per offered-rate step of the collector benchmarks (default 5; a gateway step
                       of figure 8 is the chart's decisionWait plus this, measured over its last S seconds)
  --startups N         starts per startup variant (default 5)
  --figures 1,2,...    only these figures (default all: 1-8)
  --out DIR            results directory (default test/bench/results)
  --cpu-prof DIR       every tracebridge API (and ceiling) process writes V8 CPU profiles into DIR/<name>/
                       (summarize the main thread's, the largest, with node test/bench/profile-summary.ts FILE;
                       make profile gives self time per request by package)
environment: OTELCOL_BIN, JAEGER_BIN, HELM_BIN (built with collector/build-tools.sh when unset),
  BENCH_PYTHON (the peer's venv python; test/bench/peer/setup.sh when unset),
  BENCH_ADMIN_DATABASE_URL (use this PostgreSQL superuser URL instead of starting one)`;

export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      smoke: { type: 'boolean', default: false },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      rounds: { type: 'string' },
      connections: { type: 'string' },
      steady: { type: 'string' },
      outage: { type: 'string' },
      'collector-step': { type: 'string' },
      startups: { type: 'string' },
      figures: { type: 'string' },
      out: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const smoke = values.smoke;
  const num = (name: string, text: string | undefined, fallback: number, min: number): number => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`--${name}: expected a number >= ${min}, got "${text}"`);
    return value;
  };
  const figures = values.figures
    ? values.figures.split(',').map((f) => num('figures', f.trim(), 0, 1))
    : [1, 2, 3, 4, 5, 6, 7, 8];
  if (figures.some((f) => f > 8 || !Number.isInteger(f))) throw new Error(`--figures: expected numbers 1-8, got "${values.figures ?? ''}"`);
  return {
    smoke,
    duration: num('duration', values.duration, smoke ? 1 : 5, 0.5),
    warmup: num('warmup', values.warmup, smoke ? 0.5 : 4, 0.5),
    rounds: Math.round(num('rounds', values.rounds, smoke ? 2 : 3, 1)),
    connections: Math.round(num('connections', values.connections, 10, 1)),
    steady: num('steady', values.steady, smoke ? 2 : 20, 1),
    outage: num('outage', values.outage, smoke ? 3 : 60, 1),
    collectorStep: num('collector-step', values['collector-step'], smoke ? 1 : 5, 0.5),
    startups: Math.round(num('startups', values.startups, smoke ? 1 : 5, 1)),
    figures,
    out: values.out ?? (smoke ? '' : 'test/bench/results'),
    cpuProf: values['cpu-prof'] ?? '',
  };
}
