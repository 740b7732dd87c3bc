import { readFileSync } from 'node:fs';
import { owner, type CpuProfile } from './cpu-profile.ts';

/**
 * `node test/bench/profile-summary.ts FILE.cpuprofile [top]`: where a V8 CPU profile (from
 * `node test/bench/run.ts --cpu-prof DIR`) spent its busy (non-idle) time: self and inclusive
 * time by package (or by tracebridge module), and the top functions by self time. `make profile`
 * (test/bench/profile.ts) gives the per-request view of the same profiles, grouped by package.
 */

const [file, topText] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node test/bench/profile-summary.ts FILE.cpuprofile [top]\n');
  process.exit(2);
}
const top = Number(topText ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  if (byId.get(id)?.callFrame.functionName === '(idle)') return;
  self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);

const groups = new Map<string, number>();
const inclusive = new Map<string, number>();
const functions = new Map<string, number>();
for (const [id, time] of self) {
  const node = byId.get(id);
  if (!node) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const group = owner(url, functionName);
  groups.set(group, (groups.get(group) ?? 0) + time);
  const key = `${functionName || '(anonymous)'} ${group}:${lineNumber + 1}`;
  functions.set(key, (functions.get(key) ?? 0) + time);
  // Every owner with a frame on this sample's stack, once.
  const owners = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = byId.get(at)?.callFrame;
    if (frame && frame.url !== '') owners.add(owner(frame.url, frame.functionName));
  }
  for (const o of owners) inclusive.set(o, (inclusive.get(o) ?? 0) + time);
}
const pct = (t: number) => `${((100 * t) / total).toFixed(1).padStart(5)} %`;
const lines = [`${file}: ${(total / 1e6).toFixed(2)} s busy (idle excluded)`, '', 'self time by owner:'];
for (const [group, time] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(time)}  ${group}`);
lines.push('', 'inclusive time by owner (a frame of it on the stack):');
for (const [group, time] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(time)}  ${group}`);
lines.push('', 'top functions by self time:');
for (const [fn, time] of [...functions].sort((a, b) => b[1] - a[1]).slice(0, top)) lines.push(`  ${pct(time)}  ${fn}`);
process.stdout.write(`${lines.join('\n')}\n`);
