import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { PATH_ENV, type ImageSpec } from '../spec.ts';
import { Rootfs } from '../rootfs.ts';
import { imagesDir, repoRoot } from '../inputs.ts';

const SOURCE = join(repoRoot, 'cluster/images/pause/pause.c');
/** The pause protocol version it stands in for (the kubelet's default sandbox image is pause:3.10). */
const VERSION = '3.10';

/** pause.c, compiled once per source version: gcc -Os -static. */
export function pauseBinary(): string {
  const source = readFileSync(SOURCE);
  const digest = createHash('sha256').update(source).update(VERSION).digest('hex').slice(0, 16);
  const out = join(imagesDir(), '.build', `pause-${digest}`);
  if (!existsSync(out)) {
    mkdirSync(join(imagesDir(), '.build'), { recursive: true });
    process.stderr.write('[images] pause: gcc -Os -static pause.c\n');
    execFileSync('gcc', ['-Os', '-static', '-s', `-DVERSION="${VERSION}"`, '-o', `${out}.tmp`, SOURCE], { stdio: 'inherit' });
    renameSync(`${out}.tmp`, out);
  }
  return out;
}

/** The pod sandbox image: a static pause, as registry.k8s.io/pause (entrypoint /pause, 65535). */
export const pause: ImageSpec = {
  name: 'pause',
  summary: 'the pod sandbox (static pause, 65535)',
  tag: () => VERSION,
  contents: () => ({
    rootfs: new Rootfs().file('/pause', pauseBinary(), { mode: 0o755 }),
    config: { User: '65535:65535', Entrypoint: ['/pause'], Env: [PATH_ENV], WorkingDir: '/' },
  }),
};
