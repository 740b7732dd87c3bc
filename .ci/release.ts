/**
 * The chart's release metadata and the gate the release workflow runs before publishing:
 *
 *   node .ci/release.ts check v0.1.0 <repository owner>
 *
 * passes only when the tag is vX.Y.Z of Chart.yaml's version and appVersion and of
 * package.json's version, CHANGELOG.md has a dated section for it whose entries Chart.yaml's
 * artifacthub.io/changes repeats, and the chart's default api.image.repository is on GHCR under
 * the owner (the only place the workflow's token can push). It then prints `version=` and
 * `image=` lines for $GITHUB_OUTPUT: values.yaml names the image, the workflow publishes it
 * there. Otherwise it names every mismatch and exits 1. The parsing is shared with
 * test/charts/release.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parse } from 'yaml';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));

export interface ChartYaml {
  version: string;
  appVersion: string;
  annotations: Record<string, string>;
}

/** Artifact Hub's change kinds are Keep a Changelog's section names, lower-cased. */
const KINDS = ['added', 'changed', 'deprecated', 'removed', 'fixed', 'security'] as const;
export type ChangeKind = (typeof KINDS)[number];
export interface Change {
  kind: ChangeKind;
  description: string;
}
export interface ChangelogSection {
  /** "Unreleased" or a version. */
  name: string;
  /** YYYY-MM-DD for a released version. */
  date?: string;
  changes: Change[];
}

/** A Keep a Changelog file's `## [name] - date` sections and their `### Kind` bullet lists. */
export function parseChangelog(text: string): ChangelogSection[] {
  const sections: ChangelogSection[] = [];
  let kind: ChangeKind | undefined;
  for (const line of text.split('\n')) {
    const heading = /^## \[(?<name>[^\]]+)\](?: - (?<date>\d{4}-\d{2}-\d{2}))?\s*$/.exec(line)?.groups;
    if (heading?.name) {
      sections.push({ name: heading.name, ...(heading.date ? { date: heading.date } : {}), changes: [] });
      kind = undefined;
      continue;
    }
    const section = sections.at(-1);
    const sub = /^### (?<title>\w+)\s*$/.exec(line)?.groups?.title;
    if (sub && section) {
      const name = sub.toLowerCase();
      if (!(KINDS as readonly string[]).includes(name)) throw new Error(`CHANGELOG.md [${section.name}]: "### ${sub}" is not a Keep a Changelog section (${KINDS.join(', ')})`);
      kind = name as ChangeKind;
      continue;
    }
    const bullet = /^- (?<text>.+)$/.exec(line)?.groups?.text;
    const last = section?.changes.at(-1);
    if (bullet && section && kind) section.changes.push({ kind, description: bullet.trim() });
    else if (/^ {2,}\S/.test(line) && kind && last) last.description += ` ${line.trim()}`;
  }
  return sections;
}

/** The section a chart version's changes come from: its own, or [Unreleased] until it has one. */
export function sectionFor(sections: readonly ChangelogSection[], version: string): ChangelogSection | undefined {
  return sections.find((s) => s.name === version) ?? sections.find((s) => s.name === 'Unreleased');
}

/** Artifact Hub shows descriptions as plain text: the Markdown code spans lose their backticks. */
export const annotationChanges = (section: ChangelogSection): Change[] =>
  section.changes.map((c) => ({ kind: c.kind, description: c.description.replaceAll('`', '') }));

export const chartDir = join(repoRoot, 'charts/tracebridge');
export const readChart = (): ChartYaml => parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as ChartYaml;
export const readChangelog = (): ChangelogSection[] => parseChangelog(readFileSync(join(chartDir, 'CHANGELOG.md'), 'utf8'));
/** The API image the chart runs by default (without a tag: the chart's appVersion is the tag). */
export const defaultApiImage = (): string =>
  (parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as { api: { image: { repository: string } } }).api.image.repository;

export interface Release {
  tag: string;
  /** github.repository_owner: GHCR wants it lower-case. */
  owner: string;
  chart: ChartYaml;
  packageVersion: string;
  changelog: readonly ChangelogSection[];
  image: string;
}

/** Every reason `tag` must not be released from this tree; empty when it may. */
export function releaseProblems({ tag, owner, chart, packageVersion, changelog, image }: Release): string[] {
  const registry = `ghcr.io/${owner.toLowerCase()}/`;
  const version = /^v(\d+\.\d+\.\d+)$/.exec(tag)?.[1];
  if (!version) return [`tag ${tag} is not vMAJOR.MINOR.PATCH`];
  const problems: string[] = [];
  if (!image.startsWith(registry)) problems.push(`charts/tracebridge/values.yaml api.image.repository is ${image}, not under ${registry} where this workflow publishes`);
  if (chart.version !== version) problems.push(`charts/tracebridge/Chart.yaml version is ${chart.version}, the tag says ${version}`);
  if (chart.appVersion !== version) problems.push(`charts/tracebridge/Chart.yaml appVersion is ${chart.appVersion}, the tag says ${version}`);
  if (packageVersion !== version) problems.push(`package.json version is ${packageVersion}, the tag says ${version}`);
  const section = changelog.find((s) => s.name === version);
  if (!section?.date) problems.push(`charts/tracebridge/CHANGELOG.md has no "## [${version}] - YYYY-MM-DD" section (rename [Unreleased] when releasing)`);
  else {
    const annotated = parse(chart.annotations['artifacthub.io/changes'] ?? '[]') as Change[];
    if (JSON.stringify(annotated) !== JSON.stringify(annotationChanges(section)))
      problems.push(`charts/tracebridge/Chart.yaml artifacthub.io/changes differs from CHANGELOG.md's [${version}] section`);
  }
  return problems;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [command, tag, owner] = process.argv.slice(2);
  if (command !== 'check' || !tag || !owner) {
    process.stderr.write('usage: node .ci/release.ts check <tag> <repository owner>\n');
    process.exit(2);
  }
  const packageVersion = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  const image = defaultApiImage();
  const problems = releaseProblems({ tag, owner, chart: readChart(), packageVersion, changelog: readChangelog(), image });
  if (problems.length > 0) {
    for (const problem of problems) process.stderr.write(`release check: ${problem}\n`);
    process.exit(1);
  }
  process.stdout.write(`version=${tag.slice(1)}\nimage=${image}\n`);
}
