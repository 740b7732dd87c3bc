import { endpoints, type Bench } from '../environment.ts';
import { runLoad, type LoadSample } from '../load.ts';
import { rssBytes } from '../machine.ts';
import { median, round } from '../stats.ts';
import { exportCounts } from './overhead.ts';

const MB = 1024 * 1024;

/** Runs load while sampling the process's RSS every 250 ms. */
async function loadWithRss(bench: Bench, base: string, pid: number, seconds: number): Promise<{ sample: LoadSample; rss: number[] }> {
  const rss: number[] = [];
  const timer = setInterval(() => {
    const value = rssBytes(pid);
    if (value !== undefined) rss.push(value);
  }, 250);
  try {
    const sample = await runLoad(base, endpoints.getUser, { seconds, connections: bench.options.connections });
    return { sample, rss };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Figure 6, memory: the traced API's (100 %) RSS under steady load on GET /users/:id, then
 * while the collector is down for the outage (load continuing), then after it is back.
 */
export async function memory(bench: Bench): Promise<void> {
  const api = await bench.startApi('api-memory', bench.tracingEnv(1));
  try {
    await new Promise((r) => setTimeout(r, 1000));
    const idleRss = rssBytes(api.proc.pid) ?? 0;
    bench.log(`figure 6: warm-up ${bench.options.warmup} s, steady load ${bench.options.steady} s`);
    bench.order.push({ figure: 'memory', endpoint: endpoints.getUser.name, variant: 'warm-up', round: 0, at: new Date().toISOString() });
    await runLoad(api.base, endpoints.getUser, { seconds: bench.options.warmup, connections: bench.options.connections });
    bench.order.push({ figure: 'memory', endpoint: endpoints.getUser.name, variant: 'steady', round: 1, at: new Date().toISOString() });
    const steady = await loadWithRss(bench, api.base, api.proc.pid, bench.options.steady);
    const steadyRss = median(steady.rss.slice(Math.floor(steady.rss.length / 2)));
    const before = await exportCounts(api.metricsUrl);

    bench.log(`figure 6: collector down for ${bench.options.outage} s under load`);
    await bench.collector.stop();
    bench.order.push({ figure: 'memory', endpoint: endpoints.getUser.name, variant: 'collector down', round: 1, at: new Date().toISOString() });
    let outage: { sample: LoadSample; rss: number[] };
    try {
      outage = await loadWithRss(bench, api.base, api.proc.pid, bench.options.outage);
    } finally {
      await bench.collector.start();
    }
    const during = await exportCounts(api.metricsUrl);
    const restartedAt = performance.now();
    const recoverySeconds = bench.options.smoke ? 3 : 45;
    bench.log(`figure 6: collector back, ${recoverySeconds} s more load, watching the API's exported spans`);
    bench.order.push({ figure: 'memory', endpoint: endpoints.getUser.name, variant: 'collector back', round: 1, at: new Date().toISOString() });
    // When does delivery resume? The API's exported-spans counter, polled every 500 ms.
    let resumedAfterS: number | undefined;
    const watch = setInterval(() => {
      void exportCounts(api.metricsUrl).then((now) => {
        if (resumedAfterS === undefined && now.exported > during.exported) resumedAfterS = (performance.now() - restartedAt) / 1000;
      });
    }, 500);
    let recovery: { sample: LoadSample; rss: number[] };
    try {
      recovery = await loadWithRss(bench, api.base, api.proc.pid, recoverySeconds);
    } finally {
      clearInterval(watch);
    }
    const after = await exportCounts(api.metricsUrl);

    const peak = Math.max(...outage.rss);
    bench.record({ figure: 6, name: 'memory · API RSS idle after start, before any request (tracing 100 %)', value: round(idleRss / MB), unit: 'MB', target: null });
    bench.record({ figure: 6, name: 'memory · API RSS at steady load (tracing 100 %)', value: round(steadyRss / MB), unit: 'MB', target: '<= 150' });
    bench.record({ figure: 6, name: `memory · RSS growth during a ${bench.options.outage} s collector outage (peak - steady)`, value: round((peak - steadyRss) / MB), unit: 'MB', target: '<= 30' });
    bench.record({ figure: 6, name: 'memory · peak RSS during the outage', value: round(peak / MB), unit: 'MB', target: null });
    const last = recovery.rss.at(-1);
    if (last !== undefined) bench.record({ figure: 6, name: 'memory · RSS after the collector came back', value: round(last / MB), unit: 'MB', target: null });
    bench.record({ figure: 6, name: 'memory · req/s during the outage / steady', value: round(outage.sample.rps / steady.sample.rps), unit: '×', target: null });
    bench.record({ figure: 6, name: 'memory · spans dropped during the outage (bounded buffer, counted)', value: during.dropped - before.dropped, unit: 'spans', target: null });
    bench.record({ figure: 6, name: `memory · spans exported in the ${recoverySeconds} s after the collector came back`, value: after.exported - during.exported, unit: 'spans', target: null });
    bench.record({ figure: 6, name: `memory · spans dropped in the ${recoverySeconds} s after the collector came back`, value: after.dropped - during.dropped, unit: 'spans', target: null });
    if (resumedAfterS !== undefined) {
      bench.record({ figure: 6, name: 'memory · delivery resumed after the collector came back', value: round(resumedAfterS), unit: 's', target: null });
    } else {
      bench.log(`figure 6: the API exported nothing in the ${recoverySeconds} s after the collector came back`);
    }
    bench.details.figure6 = {
      idleRssMB: round(idleRss / MB),
      steady: { rps: round(steady.sample.rps, 4), rssMB: steady.rss.map((b) => round(b / MB)) },
      outage: { seconds: bench.options.outage, rps: round(outage.sample.rps, 4), rssMB: outage.rss.map((b) => round(b / MB)) },
      recovery: { seconds: recoverySeconds, resumedAfterS: resumedAfterS ?? null, rps: round(recovery.sample.rps, 4), rssMB: recovery.rss.map((b) => round(b / MB)) },
      exportCounts: { before, during, after },
    };
  } finally {
    await api.stop();
  }
}
