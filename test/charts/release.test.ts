import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { chartDir, EXAMPLES, exampleValues, helmBinary, NAMESPACE, RELEASE } from '../support/chart.ts';
import { repoRoot } from '../support/process.ts';
import { toolBinary } from '../support/tools.ts';

/**
 * Release engineering: chart-testing's `ct lint` (yamale on Chart.yaml, yamllint on Chart.yaml and
 * values.yaml, helm lint) passes with every example, and the newest Helm 3 renders and lints
 * every example exactly as our Helm 4 does.
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
    (error: { stdout?: string; stderr?: string }) => ({ ok: false, output: (error.stdout ?? '') + (error.stderr ?? '') }),
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
    expect(output).toContain('1 chart(s) linted, 0 chart(s) failed');
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
  const args = ['template', RELEASE, chartDir, '--namespace', NAMESPACE, ...valuesFiles.flatMap((f) => ['--values', f])];
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
