import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import {
  annotationChanges,
  defaultApiImage,
  parseChangelog,
  readChangelog,
  readChart,
  releaseProblems,
  sectionFor,
  type Release,
} from '../../.ci/release.ts';
import { AS_INSTALLED, chartDir, EXAMPLES, exampleValues, helmBinary, NAMESPACE, podSpecs, RELEASE, renderChart } from '../support/chart.ts';
import { KUBERNETES_VERSIONS } from '../support/manifests.ts';
import { repoRoot } from '../support/process.ts';
import { toolBinary } from '../support/tools.ts';

/**
 * Release engineering: chart-testing's `ct lint` (yamale on Chart.yaml, yamllint on Chart.yaml and
 * values.yaml, helm lint) passes with every example; the newest Helm 3 renders and lints every
 * example exactly as our Helm 4 does; Chart.yaml's Artifact Hub annotations, CHANGELOG.md and
 * UPGRADING.md agree with the chart; the release workflow publishes and signs what it should.
 */

const run = promisify(execFile);
const CT_CONFIG = join(repoRoot, '.config/ct/ct.yaml');

interface Outcome {
  ok: boolean;
  output: string;
}

/** ct lint as CI runs it: ct's directory (yamllint and yamale are linked there) and helm 4 first on PATH. */
async function ctLint(args: string[]): Promise<Outcome> {
  const ct = toolBinary('CT_BIN');
  const env = { ...process.env, PATH: [dirname(ct), dirname(helmBinary()), process.env.PATH].join(delimiter) };
  return run(ct, ['lint', '--config', CT_CONFIG, ...args], { cwd: repoRoot, env, maxBuffer: 16 * 1024 * 1024 }).then(
    ({ stdout, stderr }) => ({ ok: true, output: stdout + stderr }),
    (error: unknown) => {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string };
      return { ok: false, output: (stdout ?? '') + (stderr ?? '') };
    },
  );
}

/** A copy of the chart (symlinked files resolved) in a temporary directory, edited by `edit`. */
async function brokenChart(file: string, edit: (text: string) => string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tracebridge-ct-'));
  const copy = join(dir, 'tracebridge');
  await cp(chartDir, copy, { recursive: true, dereference: true });
  await writeFile(join(copy, file), edit(await readFile(join(copy, file), 'utf8')));
  return copy;
}

describe('ct lint (chart-testing)', () => {
  it('passes with the default values', async () => {
    const { ok, output } = await ctLint(['--helm-lint-extra-args', '--strict']);
    expect(output).toContain('All charts linted successfully');
    expect(output).toContain('Validation success!'); // yamale ran on Chart.yaml
    expect(ok).toBe(true);
  });

  it.each(EXAMPLES)('passes with examples/%s', async (example) => {
    const { ok, output } = await ctLint(['--helm-lint-extra-args', `--strict --values ${exampleValues(example)}`]);
    // ct's own verdict: helm lint's summary line, relayed by ct, is sometimes cut from its output.
    expect(output).toContain('All charts linted successfully');
    expect(ok).toBe(true);
  });

  it('fails on a yamllint violation in values.yaml, naming the line and the rule', async () => {
    const copy = await brokenChart('values.yaml', (text) => `${text}extra:   value \n`);
    const { ok, output } = await ctLint(['--chart-dirs', dirname(copy), '--charts', copy]);
    expect(output).toMatch(/values\.yaml\n\s+\d+:\d+\s+error\s+too many spaces after colon\s+\(colons\)/);
    expect(output).toMatch(/error\s+trailing spaces\s+\(trailing-spaces\)/);
    expect(ok).toBe(false);
  });

  it('fails when Chart.yaml breaks chart_schema.yaml (yamale)', async () => {
    // A key helm ignores, and yamale (strict) refuses.
    const copy = await brokenChart('Chart.yaml', (text) => `${text}maintainer: tracebridge\n`);
    const { ok, output } = await ctLint(['--chart-dirs', dirname(copy), '--charts', copy]);
    expect(output).toMatch(/Error validating data '.*\/Chart\.yaml' with schema '.*chart_schema\.yaml'\n\s+maintainer: Unexpected element/);
    expect(ok).toBe(false);
  });
});

/**
 * One rendering as text, normalized only where Helm 3 and 4 may legitimately differ:
 * - Helm 4 keeps the blank lines a template leaves at the end of a document, Helm 3 trims them:
 *   trailing whitespace of each document is dropped;
 * - passwords the chart generates (randAlphaNum 32, base64) differ on every render, with any
 *   helm: each is replaced by a placeholder.
 * Documents stay in helm's order (the install order), which must match too.
 */
function normalizedDocuments(text: string): string[] {
  return text
    .split(/^---$/m)
    .map((doc) => doc.trimEnd())
    .filter((doc) => doc.trim() !== '')
    .map((doc) =>
      /^kind: Secret$/m.test(doc)
        ? doc.replace(/^(\s+[\w.-]+: )([A-Za-z0-9+/]{43}=)$/gm, (line, key: string, value: string) =>
            /^[A-Za-z0-9]{32}$/.test(Buffer.from(value, 'base64').toString()) ? `${key}<generated password>` : line,
          )
        : doc,
    );
}

async function template(helm: string, valuesFiles: string[]): Promise<string> {
  const args = ['template', RELEASE, chartDir, '--namespace', NAMESPACE, ...AS_INSTALLED, ...valuesFiles.flatMap((f) => ['--values', f])];
  return (await run(helm, args, { maxBuffer: 64 * 1024 * 1024 })).stdout;
}

describe('Helm 3 and Helm 4', () => {
  const cases: [string, string[]][] = [['the default values', []], ...EXAMPLES.map((e): [string, string[]] => [`examples/${e}`, [exampleValues(e)]])];

  it('are the versions we pin: the newest Helm 3 and our Helm 4', async () => {
    expect((await run(toolBinary('HELM3_BIN'), ['version', '--short'])).stdout).toMatch(/^v3\.\d+\.\d+/);
    expect((await run(helmBinary(), ['version', '--short'])).stdout).toMatch(/^v4\.\d+\.\d+/);
  });

  it.each(cases)('render %s identically', async (_name, valuesFiles) => {
    const [three, four] = await Promise.all([template(toolBinary('HELM3_BIN'), valuesFiles), template(helmBinary(), valuesFiles)]);
    const docs = normalizedDocuments(three);
    expect(docs.length).toBeGreaterThan(20);
    expect(normalizedDocuments(four)).toEqual(docs);
  });

  it.each(EXAMPLES)('helm lint --strict passes with Helm 3 for examples/%s', async (example) => {
    const { stdout } = await run(toolBinary('HELM3_BIN'), ['lint', '--strict', chartDir, '--values', exampleValues(example)]);
    expect(stdout).toContain('0 chart(s) failed');
    expect(stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
  });

  it('the comparison notices a difference', () => {
    const rendered = '---\n# Source: tracebridge/templates/a.yaml\nkind: ConfigMap\ndata:\n  a: "1"\n';
    expect(normalizedDocuments(rendered.replace('"1"', '"2"'))).not.toEqual(normalizedDocuments(rendered));
    expect(normalizedDocuments(`${rendered}\n\n`)).toEqual(normalizedDocuments(rendered));
  });
});

describe('Artifact Hub annotations (Chart.yaml)', () => {
  const chart = readChart();
  const annotation = (key: string): unknown => parse(chart.annotations[`artifacthub.io/${key}`] ?? 'null');
  let defaultImages: string[];
  beforeAll(async () => {
    const { objects } = await renderChart();
    const containers = podSpecs(objects).flatMap(({ spec }) => [...spec.containers, ...(spec.initContainers ?? [])]);
    defaultImages = [...new Set(containers.map((c) => c.image))].sort();
  });

  it('images lists exactly the images the default values run', () => {
    const images = annotation('images') as { name: string; image: string }[];
    const listed = images.map((i) => i.image).sort();
    // On failure, the message holds the list to paste (with names to fill in).
    expect(listed, `artifacthub.io/images should list:\n${stringify(defaultImages.map((image) => ({ name: '?', image })))}`).toEqual(defaultImages);
    expect(new Set(images.map((i) => i.name)).size).toBe(images.length);
    expect(listed).toContain(`${defaultApiImage()}:${chart.appVersion}`);
  });

  it('changes repeat CHANGELOG.md for the chart version, entry by entry', () => {
    const section = sectionFor(readChangelog(), chart.version);
    expect(section, `CHANGELOG.md has neither [${chart.version}] nor [Unreleased]`).toBeDefined();
    const expected = annotationChanges(section!);
    expect(expected.length).toBeGreaterThan(0);
    expect(annotation('changes'), `artifacthub.io/changes should be:\n${stringify(expected)}`).toEqual(expected);
  });

  it("license is the repository's", () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { license: string };
    expect(chart.annotations['artifacthub.io/license']).toBe(pkg.license);
    expect(readFileSync(join(repoRoot, 'LICENSE'), 'utf8')).toMatch(new RegExp(`^${pkg.license} License`));
  });

  it('links lead to the source and to files that exist in it', () => {
    const links = annotation('links') as { name: string; url: string }[];
    expect(links.map((l) => l.name)).toEqual(['source', 'changelog', 'upgrading']);
    const home = (parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { home: string }).home;
    for (const { url } of links) {
      expect(url.startsWith(home)).toBe(true);
      const path = url.slice(home.length).replace(/^\/blob\/main\//, '');
      if (path) expect(existsSync(join(repoRoot, path)), url).toBe(true);
    }
  });

  it('prerelease says whether the version is a SemVer prerelease', () => {
    expect(chart.annotations['artifacthub.io/prerelease']).toBe(String(chart.version.includes('-')));
  });

  it('kubeVersion starts at the oldest Kubernetes the examples are validated against', () => {
    const chartYaml = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { kubeVersion: string };
    expect(chartYaml.kubeVersion).toBe(`>=${KUBERNETES_VERSIONS[0]}.0-0`);
  });
});

describe('CHANGELOG.md and UPGRADING.md', () => {
  const changelog = readChangelog();
  const upgrading = readFileSync(join(chartDir, 'UPGRADING.md'), 'utf8');
  const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<string, unknown>;
  const isValuesKey = (path: string) =>
    path.split('.').reduce<unknown>((node, key) => (node && typeof node === 'object' && key in node ? (node as Record<string, unknown>)[key] : undefined), values) !== undefined;

  it('follow Keep a Changelog: [Unreleased] first, then dated versions, newest first', () => {
    expect(changelog.length).toBeGreaterThan(0);
    const released = changelog.filter((s) => s.name !== 'Unreleased');
    expect(changelog.findIndex((s) => s.name === 'Unreleased')).toBeLessThanOrEqual(0);
    for (const section of released) expect(section.date, `[${section.name}] has no date`).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    const versions = released.map((s) => s.name.split('.').map(Number));
    const sorted = [...versions].sort((a, b) => b[0]! - a[0]! || b[1]! - a[1]! || b[2]! - a[2]!);
    expect(versions).toEqual(sorted);
  });

  it('refuse a section name Keep a Changelog does not have', () => {
    expect(() => parseChangelog('## [Unreleased]\n\n### Improved\n\n- x\n')).toThrow(/"### Improved" is not a Keep a Changelog section/);
    expect(parseChangelog('## [1.2.3] - 2026-01-02\n\n### Fixed\n\n- a\n  b\n')).toEqual([
      { name: '1.2.3', date: '2026-01-02', changes: [{ kind: 'fixed', description: 'a b' }] },
    ]);
  });

  it('every version in CHANGELOG.md has upgrade notes', () => {
    for (const { name } of changelog) expect(upgrading, `UPGRADING.md has no "## [${name}]" section`).toMatch(new RegExp(`^## \\[${name.replaceAll('.', '\\.')}\\]`, 'm'));
  });

  it('every value a version changes, deprecates or removes is named in its upgrade notes', () => {
    for (const section of changelog) {
      const notes = upgrading.split(/^## /m).find((part) => part.startsWith(`[${section.name}]`)) ?? '';
      const keys = section.changes
        .filter((c) => c.kind !== 'added' && c.kind !== 'fixed')
        .flatMap((c) => [...c.description.matchAll(/`([\w.]+)`/g)].map((m) => m[1]!))
        .filter(isValuesKey);
      for (const key of keys) expect(notes, `UPGRADING.md [${section.name}] does not mention ${key}`).toContain(`\`${key}\``);
    }
    // What the check relies on: the unreleased api.image.repository change is found as a key.
    expect(isValuesKey('api.image.repository')).toBe(true);
  });
});

describe('the release gate (node .ci/release.ts check <tag> <owner>)', () => {
  const chart = readChart();
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  // This tree as it will be at its release: [Unreleased] renamed to the dated version.
  const released = parseChangelog(readFileSync(join(chartDir, 'CHANGELOG.md'), 'utf8').replace('## [Unreleased]', `## [${chart.version}] - 2026-11-29`));
  const release = (overrides: Partial<Release>): Release => ({
    tag: `v${chart.version}`,
    owner: 'tracebridge',
    chart,
    packageVersion: pkg.version,
    changelog: released,
    image: defaultApiImage(),
    ...overrides,
  });

  it('passes for the chart version with a dated CHANGELOG section', () => {
    expect(releaseProblems(release({}))).toEqual([]);
    expect(releaseProblems(release({ owner: 'TraceBridge' }))).toEqual([]);
  });

  it('names every mismatch', () => {
    expect(releaseProblems(release({ tag: 'v9.9.9' }))).toEqual([
      `charts/tracebridge/Chart.yaml version is ${chart.version}, the tag says 9.9.9`,
      `charts/tracebridge/Chart.yaml appVersion is ${chart.appVersion}, the tag says 9.9.9`,
      `package.json version is ${pkg.version}, the tag says 9.9.9`,
      'charts/tracebridge/CHANGELOG.md has no "## [9.9.9] - YYYY-MM-DD" section (rename [Unreleased] when releasing)',
    ]);
    expect(releaseProblems(release({ tag: '0.1' }))).toEqual(['tag 0.1 is not vMAJOR.MINOR.PATCH']);
    expect(releaseProblems(release({ changelog: readChangelog() }))).toEqual([
      `charts/tracebridge/CHANGELOG.md has no "## [${chart.version}] - YYYY-MM-DD" section (rename [Unreleased] when releasing)`,
    ]);
    expect(releaseProblems(release({ owner: 'a-fork' }))).toEqual([
      `charts/tracebridge/values.yaml api.image.repository is ${defaultApiImage()}, not under ghcr.io/a-fork/ where this workflow publishes`,
    ]);
    const stale = { ...chart, annotations: { ...chart.annotations, 'artifacthub.io/changes': '[]' } };
    expect(releaseProblems(release({ chart: stale }))).toEqual([
      `charts/tracebridge/Chart.yaml artifacthub.io/changes differs from CHANGELOG.md's [${chart.version}] section`,
    ]);
  });

  it('the CLI exits 1 with the problems on stderr', async () => {
    const result = await run(process.execPath, ['.ci/release.ts', 'check', 'v9.9.9', 'tracebridge'], { cwd: repoRoot }).then(
      () => 'passed',
      (error: unknown) => {
        const { code, stderr } = error as { code?: number; stderr?: string };
        return `${code}: ${stderr}`;
      },
    );
    expect(result).toMatch(/^1: release check: charts\/tracebridge\/Chart\.yaml version is .*, the tag says 9\.9\.9\n/);
  });
});

describe('the packaged chart (what the release pushes)', () => {
  let archive: string;
  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tracebridge-package-'));
    await run(helmBinary(), ['package', chartDir, '--destination', dir]);
    archive = join(dir, `tracebridge-${readChart().version}.tgz`);
  });

  it('holds the files the symlinks point at, the changelog and upgrade notes, and no examples', async () => {
    const files = (await run('tar', ['tzf', archive])).stdout.split('\n');
    for (const file of ['Chart.yaml', 'values.schema.json', 'CHANGELOG.md', 'UPGRADING.md', 'files/collector/base.yaml', 'files/jaeger.yaml', 'files/jaeger-storage/badger.yaml'])
      expect(files).toContain(`tracebridge/${file}`);
    expect(files.filter((f) => f.startsWith('tracebridge/examples/'))).toEqual([]);
  });

  it.each(EXAMPLES)('renders examples/%s exactly as the chart directory does', async (example) => {
    const fromArchive = (await run(helmBinary(), ['template', RELEASE, archive, '--namespace', NAMESPACE, ...AS_INSTALLED, '--values', exampleValues(example)], { maxBuffer: 64 * 1024 * 1024 })).stdout;
    expect(normalizedDocuments(fromArchive)).toEqual(normalizedDocuments(await template(helmBinary(), [exampleValues(example)])));
  });
});

describe('the release workflow (.github/workflows/release.yaml)', () => {
  const file = join(repoRoot, '.github/workflows/release.yaml');
  const text = readFileSync(file, 'utf8');
  interface Step {
    uses?: string;
    run?: string;
    with?: Record<string, string | boolean>;
    env?: Record<string, string>;
  }
  interface Job {
    needs?: string | string[];
    permissions: Record<string, string>;
    steps: Step[];
  }
  const workflow = parse(text) as { on: { push: { tags: string[] } }; permissions: Record<string, string>; jobs: Record<string, Job> };
  const steps = (job: string) => workflow.jobs[job]!.steps;
  const action = (job: string, name: string) => steps(job).find((s) => s.uses?.startsWith(`${name}@`));

  it('passes actionlint', async () => {
    await expect(run(toolBinary('ACTIONLINT_BIN'), ['-no-color', file], { cwd: repoRoot })).resolves.toBeDefined();
  });

  it('runs on version tags only, with no permissions unless a job asks', () => {
    expect(workflow.on).toEqual({ push: { tags: ['v[0-9]+.[0-9]+.[0-9]+'] } });
    expect(workflow.permissions).toEqual({});
  });

  it('pins every action by commit SHA, naming its release', () => {
    const uses = [...text.matchAll(/^\s*(?:- )?uses: (\S+)(.*)$/gm)];
    expect(uses.length).toBeGreaterThan(8);
    for (const [line, ref, comment] of uses) {
      expect(ref, line).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/);
      expect(comment, line).toMatch(/^ # v\d+\.\d+\.\d+$/);
    }
  });

  it('checks the tag against the chart first, with the gate tested above', () => {
    const check = steps('check').map((s) => s.run ?? '').join('\n');
    expect(check).toContain('node .ci/release.ts check "$TAG" "$owner" >>"$GITHUB_OUTPUT"');
    expect(workflow.jobs.check!.permissions).toEqual({ contents: 'read' });
    expect(action('check', 'actions/setup-node')?.with?.['node-version']).toBe(/^NODE_VERSION := (\S+)$/m.exec(readFileSync(join(repoRoot, 'Makefile'), 'utf8'))?.[1]);
  });

  it('builds api/Dockerfile for amd64 and arm64, pushes it where values.yaml points, with provenance and SBOM', () => {
    const build = action('image', 'docker/build-push-action')?.with;
    expect(build).toMatchObject({
      file: 'api/Dockerfile',
      platforms: 'linux/amd64,linux/arm64',
      push: true,
      provenance: 'mode=max',
      sbom: true,
      tags: '${{ needs.check.outputs.image }}:${{ needs.check.outputs.version }}',
    });
    expect(action('image', 'docker/login-action')?.with?.registry).toBe('ghcr.io');
  });

  it('packages the chart and pushes it to oci://ghcr.io/<owner>/charts after the image', () => {
    const push = steps('chart').map((s) => s.run ?? '').join('\n');
    expect(push).toContain('helm package charts/tracebridge --destination dist');
    expect(push).toContain('helm push "dist/tracebridge-$VERSION.tgz" "oci://ghcr.io/$OWNER/charts"');
    expect(workflow.jobs.chart!.needs).toEqual(['check', 'image']);
    const helmVersion = /^HELM_VERSION=(\S+)$/m.exec(readFileSync(join(repoRoot, 'collector/build-tools.sh'), 'utf8'))?.[1];
    expect(action('chart', 'azure/setup-helm')?.with?.version).toBe(`v${helmVersion}`);
  });

  it('signs the image and the chart by digest with cosign keyless; only those jobs get an OIDC token', () => {
    const signs = Object.entries(workflow.jobs).filter(([, job]) => job.steps.some((s) => s.run?.includes('cosign sign')));
    expect(signs.map(([name]) => name)).toEqual(['image', 'chart']);
    expect(steps('image').find((s) => s.run?.includes('cosign sign'))?.run).toBe('cosign sign --yes "$IMAGE@$DIGEST"');
    expect(steps('chart').find((s) => s.run?.includes('cosign sign'))?.run).toContain('cosign sign --yes "ghcr.io/$OWNER/charts/tracebridge@$DIGEST"');
    for (const [name, job] of Object.entries(workflow.jobs)) {
      const signing = signs.some(([n]) => n === name);
      expect(job.permissions, name).toEqual(signing ? { contents: 'read', packages: 'write', 'id-token': 'write' } : { contents: 'read' });
      if (signing) expect(action(name, 'sigstore/cosign-installer'), name).toBeDefined();
    }
    // No key: keyless signing needs none, and a --key would turn it off.
    expect(text).not.toMatch(/--key\b|COSIGN_PRIVATE_KEY/);
  });
});
