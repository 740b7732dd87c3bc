import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { z } from 'zod';
import { exposed, PATH_ENV, type ImageSpec } from '../spec.ts';
import { Rootfs } from '../rootfs.ts';
import { imagesDir, pinnedNode, repoRoot } from '../inputs.ts';

/** api/image.json: what the API image holds, for api/Dockerfile and this builder alike. */
export const ApiImage = z.object({
  base: z.object({ dockerfile: z.string(), entrypoint: z.array(z.string()).length(1) }),
  workdir: z.string().startsWith('/'),
  user: z.object({ uid: z.number().int(), gid: z.number().int(), name: z.string(), home: z.string() }),
  env: z.record(z.string(), z.string()),
  ports: z.array(z.number().int()),
  cmd: z.array(z.string()),
  copy: z.array(z.object({ stage: z.enum(['deps', 'build']), source: z.string(), target: z.string() })),
});
export type ApiImage = z.infer<typeof ApiImage>;

export const apiImage = (): ApiImage => ApiImage.parse(JSON.parse(readFileSync(join(repoRoot, 'api/image.json'), 'utf8')));

const LOCK_FILES = ['package.json', 'package-lock.json', '.npmrc'];

/**
 * The Dockerfile's deps stage: npm ci --omit=dev --ignore-scripts in a staging directory,
 * redone only when package.json, package-lock.json or .npmrc change.
 */
function productionDependencies(): string {
  const stage = join(imagesDir(), '.staging', 'api-deps');
  const hash = createHash('sha256');
  for (const file of LOCK_FILES) hash.update(readFileSync(join(repoRoot, file)));
  const stamp = hash.digest('hex');
  const stampFile = join(stage, '.inputs');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp) return stage;
  process.stderr.write('[images] api: npm ci --omit=dev --ignore-scripts (production dependencies)\n');
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  for (const file of LOCK_FILES) copyFileSync(join(repoRoot, file), join(stage, file));
  execFileSync('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: stage, stdio: ['ignore', process.stderr, 'inherit'] });
  writeFileSync(stampFile, stamp);
  return stage;
}

/** Where each stage's output is here: deps → the staging directory, build → the repository (make build). */
function stageRoot(stage: 'deps' | 'build'): string {
  if (stage === 'deps') return productionDependencies();
  if (!existsSync(join(repoRoot, 'api/dist/server.js'))) throw new Error('api/dist is missing: run make build (make cluster-images does)');
  return repoRoot;
}

/**
 * The API as api/Dockerfile builds it, on the pinned Node instead of distroless: node at the
 * distroless path as entrypoint (PID 1), its glibc/libstdc++ closure from this Debian host,
 * /etc/passwd with nonroot, /tmp.
 */
export const api: ImageSpec = {
  name: 'api',
  summary: 'the API (Node, production dependencies, api/dist), UID 65532',
  tag: () => (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version,
  contents() {
    const image = apiImage();
    const node = pinnedNode();
    const [entrypoint] = image.base.entrypoint as [string];
    const rootfs = new Rootfs().file(entrypoint, node.binary, { mode: 0o755 }).libraryClosure([node.binary]).users(image.user).tmp();
    rootfs.dir(image.workdir);
    for (const { stage, source, target } of image.copy) {
      const from = join(stageRoot(stage), source);
      const to = posix.join(image.workdir, target);
      if (statSync(from).isDirectory()) rootfs.tree(to, from, (rel) => !rel.endsWith('.tsbuildinfo'));
      else rootfs.file(to, from);
    }
    return {
      rootfs,
      config: {
        User: `${image.user.uid}:${image.user.gid}`,
        Entrypoint: image.base.entrypoint,
        Cmd: image.cmd,
        Env: [PATH_ENV, ...Object.entries(image.env).map(([k, v]) => `${k}=${v}`)],
        WorkingDir: image.workdir,
        ExposedPorts: exposed(...image.ports),
      },
    };
  },
};
