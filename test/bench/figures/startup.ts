import type { Bench } from '../environment.ts';
import { median, round } from '../stats.ts';

/**
 * Figure 7, startup: from spawning the process to the first 200 of /readyz (polled every
 * 10 ms), for the compiled API as the image runs it (traced), and, for reference, untraced and
 * from the TypeScript sources as `make dev` runs it.
 */
export async function startup(bench: Bench): Promise<void> {
  const variants = [
    { key: 'compiled-traced', label: 'compiled, traced (as the image)', env: bench.tracingEnv(1), source: false, target: '<= 1.5' },
    { key: 'compiled-off', label: 'compiled, tracing off', env: { OTEL_SDK_DISABLED: 'true' }, source: false, target: null },
    { key: 'source-traced', label: 'TypeScript sources, traced (as make dev)', env: bench.tracingEnv(1), source: true, target: null },
  ];
  const times: Record<string, number[]> = {};
  for (let i = 0; i < bench.options.startups; i++) {
    for (const v of variants) {
      bench.order.push({ figure: 'startup', endpoint: '/readyz', variant: v.key, round: i + 1, at: new Date().toISOString() });
      const server = await bench.startApi(`startup-${v.key}-${i + 1}`, v.env, { source: v.source, pollMs: 10 });
      if (server.readyMs !== undefined) (times[v.key] ??= []).push(server.readyMs / 1000);
      await server.stop();
    }
  }
  for (const v of variants) {
    const list = times[v.key] ?? [];
    bench.log(`  startup ${v.label}: ${list.map((t) => `${round(t)} s`).join(', ')}`);
    bench.record({ figure: 7, name: `startup · process start to /readyz 200 · ${v.label} (median)`, value: round(median(list)), unit: 's', target: v.target });
    bench.record({ figure: 7, name: `startup · process start to /readyz 200 · ${v.label} (max)`, value: round(Math.max(...list)), unit: 's', target: null });
  }
  bench.details.figure7 = Object.fromEntries(Object.entries(times).map(([k, list]) => [k, list.map((t) => round(t))]));
}
