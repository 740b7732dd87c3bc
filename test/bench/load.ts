import autocannon from 'autocannon';
import { coreBusy, coreTimes, cpuSeconds, cpuSnapshot, foreignCores } from './machine.ts';
import { median, percentile, ratio, round } from './stats.ts';

/**
 * HTTP load with autocannon (programmatic API), closed loop: a fixed number of connections,
 * each sending its next request when the previous answer arrives. Latencies are recorded from
 * autocannon's per-response event at sub-millisecond resolution (its own histogram keeps whole
 * milliseconds, too coarse for p50s of a few ms).
 */

export interface Endpoint {
  /** For reports, e.g. "GET /users/:id". */
  name: string;
  method: 'GET' | 'POST';
  /** The path of the next request (ids vary per request). */
  path: () => string;
  /** The JSON body of the next request. */
  body?: () => string;
}

export interface LoadSample {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  /** Responses other than 2xx, and connection errors/timeouts: both must be zero for a valid run. */
  non2xx: number;
  errors: number;
  /** Busy share (0..1) of each core during the run. */
  coreBusy: number[];
  /** CPU used meanwhile by processes outside the bench, in cores (0 on a quiet machine). */
  foreignCores: number;
  /**
   * CPU time (user + system) the server process spent per response, in ms: unlike req/s, not
   * changed by other processes competing for the core. NaN when the server's pid is unknown.
   */
  cpuMsPerRequest: number;
}

export interface LoadOptions {
  seconds: number;
  connections: number;
  /** The server process, for cpuMsPerRequest. */
  pid?: number;
}

/** Every run's foreignCores, for the report's summary of how quiet the machine was. */
export const foreignReadings: number[] = [];

export function runLoad(base: string, endpoint: Endpoint, options: LoadOptions): Promise<LoadSample> {
  const latencies: number[] = [];
  let non2xx = 0;
  const request: autocannon.Request = {
    method: endpoint.method,
    setupRequest: (req) => {
      req.path = endpoint.path();
      if (endpoint.body) req.body = endpoint.body();
      return req;
    },
  };
  if (endpoint.body) request.headers = { 'content-type': 'application/json' };
  return new Promise((resolve, reject) => {
    const cpuBefore = coreTimes();
    const snapshot = cpuSnapshot();
    const serverCpu = options.pid === undefined ? undefined : cpuSeconds(options.pid);
    const started = performance.now();
    const instance = autocannon(
      {
        url: base,
        connections: options.connections,
        duration: options.seconds,
        pipelining: 1,
        timeout: 10,
        // Per-second request samples are enough; autocannon's default samples every millisecond.
        sampleInt: 1000,
        requests: [request],
      },
      (error: unknown, result) => {
        if (error) {
          reject(error instanceof Error ? error : new Error(`autocannon: ${JSON.stringify(error)}`));
          return;
        }
        const seconds = (performance.now() - started) / 1000;
        const busy = coreBusy(cpuBefore, coreTimes());
        const foreign = foreignCores(snapshot, cpuSnapshot());
        foreignReadings.push(foreign);
        const serverCpuAfter = options.pid === undefined ? undefined : cpuSeconds(options.pid);
        const cpuMs = serverCpu === undefined || serverCpuAfter === undefined ? NaN : ((serverCpuAfter - serverCpu) * 1000) / Math.max(1, latencies.length);
        const sorted = Float64Array.from(latencies).sort();
        resolve({
          requests: latencies.length,
          seconds,
          rps: latencies.length / seconds,
          p50Ms: percentile(sorted, 50),
          p90Ms: percentile(sorted, 90),
          p99Ms: percentile(sorted, 99),
          non2xx,
          errors: result.errors + result.timeouts,
          coreBusy: busy,
          foreignCores: foreign,
          cpuMsPerRequest: cpuMs,
        });
      },
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      latencies.push(responseTime);
      if (statusCode < 200 || statusCode >= 300) non2xx++;
    });
  });
}

/** One thing to measure: a server (base URL) under one endpoint's load. */
export interface Cell {
  /** Short key, unique within a comparison, e.g. "off", "on100", "lazy100". */
  key: string;
  label: string;
  base: string;
  endpoint: Endpoint;
  /** The server's process id, for its CPU time per request. */
  pid?: number;
}

export interface Run {
  variant: string;
  endpoint: string;
  round: number;
  sample: LoadSample;
}

/** One entry per load run, in the order the runs happened (warm-ups included). */
export interface OrderEntry {
  figure: string;
  endpoint: string;
  variant: string;
  /** 0 for the warm-up, 1..rounds for measured rounds. */
  round: number;
  at: string;
}

export interface InterleaveOptions extends LoadOptions {
  figure: string;
  rounds: number;
  warmupSeconds: number;
  order: OrderEntry[];
  /** Pause between runs, so one variant's export backlog does not run into the next. */
  pauseMs: number;
  log: (line: string) => void;
}

/**
 * A warm-up of every cell, then `rounds` rounds of A B C ... A B C: every variant measured in
 * the same conditions, drift shared between them.
 */
export async function interleave(cells: readonly Cell[], options: InterleaveOptions): Promise<Run[]> {
  const runs: Run[] = [];
  const record = (cell: Cell, round: number) =>
    options.order.push({ figure: options.figure, endpoint: cell.endpoint.name, variant: cell.key, round, at: new Date().toISOString() });
  for (const cell of cells) {
    record(cell, 0);
    const warm = await loadAnswered(cell, { seconds: options.warmupSeconds, connections: options.connections }, 'warm-up', options.log);
    assertClean(warm, cell, 'warm-up', options.log);
    await pause(options.pauseMs);
  }
  for (let n = 1; n <= options.rounds; n++) {
    for (const cell of cells) {
      await waitForQuiet(options.log);
      record(cell, n);
      const sample = await loadAnswered(cell, { seconds: options.seconds, connections: options.connections }, `round ${n}`, options.log);
      assertClean(sample, cell, `round ${n}`, options.log);
      runs.push({ variant: cell.key, endpoint: cell.endpoint.name, round: n, sample });
      options.log(
        `  ${cell.endpoint.name.padEnd(24)} ${cell.label.padEnd(24)} round ${n}: ${round1(sample.rps)} req/s, ` +
          `p50 ${round(sample.p50Ms)} ms, p99 ${round(sample.p99Ms)} ms, cores ${sample.coreBusy.map((b) => `${Math.round(b * 100)}%`).join('/')}` +
          (Number.isNaN(sample.cpuMsPerRequest) ? '' : `, server CPU ${round(sample.cpuMsPerRequest * 1000)} µs/req`) +
          (sample.foreignCores > 0.05 ? `, other processes ${Math.round(sample.foreignCores * 100)}% of a core` : ''),
      );
      await pause(options.pauseMs);
    }
  }
  return runs;
}

const round1 = (v: number) => Math.round(v * 10) / 10;

/** Milliseconds the whole run may spend waiting for other processes to calm down. */
let quietBudgetMs = 60_000;

export function setQuietBudget(ms: number): void {
  quietBudgetMs = ms;
}

/**
 * Waits (within a run-wide budget) until processes outside the bench use less than 15 % of a
 * core, so a measured run does not start in the middle of someone else's burst.
 */
export async function waitForQuiet(log: (line: string) => void): Promise<void> {
  if (quietBudgetMs <= 0) return;
  const started = performance.now();
  for (;;) {
    const before = cpuSnapshot();
    await pause(500);
    const foreign = foreignCores(before, cpuSnapshot());
    const waited = performance.now() - started;
    if (foreign < 0.15 || waited >= quietBudgetMs) {
      quietBudgetMs = Math.max(0, quietBudgetMs - waited);
      if (waited > 1000) log(`  (waited ${Math.round(waited / 1000)} s for other processes to go quiet)`);
      return;
    }
  }
}
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A run that got no answer at all and no error (the server starved of CPU for the whole of a
 * short run, as smoke runs next to other suites can be) is run again, at most twice, and
 * logged; a server that really stopped answering still fails the bench.
 */
async function loadAnswered(
  cell: Cell,
  load: { seconds: number; connections: number },
  what: string,
  log?: (line: string) => void,
): Promise<LoadSample> {
  let sample = await runLoad(cell.base, cell.endpoint, { ...load, pid: cell.pid });
  for (let retry = 1; retry <= 2 && sample.requests === 0 && sample.errors === 0; retry++) {
    log?.(`  ! ${cell.endpoint.name} on ${cell.label} (${what}): no response in ${load.seconds} s, running it again (${retry}/2)`);
    sample = await runLoad(cell.base, cell.endpoint, { ...load, pid: cell.pid });
  }
  return sample;
}

/**
 * A run is valid when it answered, and at most one response in a thousand was an error (a
 * non-2xx answer or a connection error): those are kept in latest.json and logged; more fail
 * the bench.
 */
function assertClean(sample: LoadSample, cell: Cell, what: string, log?: (line: string) => void): void {
  const failed = sample.non2xx + sample.errors;
  if (failed > 0 && failed <= sample.requests / 1000) {
    log?.(`  ! ${cell.endpoint.name} on ${cell.label} (${what}): ${sample.non2xx} non-2xx and ${sample.errors} errors in ${sample.requests} responses (tolerated: at most 1 in 1000)`);
    return;
  }
  if (failed > 0 || sample.requests === 0) {
    throw new Error(
      `${cell.endpoint.name} on ${cell.label} (${what}): ${sample.requests} responses, ${sample.non2xx} non-2xx, ${sample.errors} errors`,
    );
  }
}

export interface VariantSummary {
  variant: string;
  rps: number;
  /** Median server CPU time per request, ms (NaN when unknown). */
  cpuMsPerRequest: number;
  /** Non-2xx responses and connection errors over the measured rounds. */
  failed: number;
  p50Ms: number;
  p99Ms: number;
  rounds: number;
  /** Median busy share of each core over the rounds. */
  coreBusy: number[];
}

export function summarize(runs: readonly Run[], variant: string): VariantSummary {
  const mine = runs.filter((r) => r.variant === variant);
  const cores = mine[0]?.sample.coreBusy.length ?? 0;
  return {
    variant,
    rps: median(mine.map((r) => r.sample.rps)),
    cpuMsPerRequest: median(mine.map((r) => r.sample.cpuMsPerRequest)),
    failed: mine.reduce((sum, r) => sum + r.sample.non2xx + r.sample.errors, 0),
    p50Ms: median(mine.map((r) => r.sample.p50Ms)),
    p99Ms: median(mine.map((r) => r.sample.p99Ms)),
    rounds: mine.length,
    coreBusy: Array.from({ length: cores }, (_, i) => median(mine.map((r) => r.sample.coreBusy[i] ?? 0))),
  };
}

export interface PairRatios {
  /** Per round: a's value / b's value, for the runs of the same round (adjacent in time). */
  rps: number[];
  p50: number[];
  p99: number[];
  /** Server CPU time per request, a/b. */
  cpu: number[];
  /** Medians of the per-round ratios: the headline figures. */
  medianRps: number;
  medianP50: number;
  medianP99: number;
  medianCpu: number;
}

/** Ratios a/b per round, and their medians. */
export function pairRatios(runs: readonly Run[], a: string, b: string): PairRatios {
  const rounds = [...new Set(runs.map((r) => r.round))].sort((x, y) => x - y);
  const rps: number[] = [];
  const p50: number[] = [];
  const p99: number[] = [];
  const cpu: number[] = [];
  for (const round of rounds) {
    const ra = runs.find((r) => r.round === round && r.variant === a)?.sample;
    const rb = runs.find((r) => r.round === round && r.variant === b)?.sample;
    if (!ra || !rb) continue;
    rps.push(ratio(ra.rps, rb.rps));
    p50.push(ratio(ra.p50Ms, rb.p50Ms));
    p99.push(ratio(ra.p99Ms, rb.p99Ms));
    cpu.push(ratio(ra.cpuMsPerRequest, rb.cpuMsPerRequest));
  }
  return { rps, p50, p99, cpu, medianRps: median(rps), medianP50: median(p50), medianP99: median(p99), medianCpu: median(cpu) };
}
