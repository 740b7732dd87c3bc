import { relative } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints one plain closing line, `tests: N passed, N failed`, that CI parses in any language
 * (vitest's own summary is formatted for people). Failed files and unhandled errors count as failures.
 * Just above it, one line per failure (file, test, first lines of the error), so that the last
 * lines of a long run's output, often all a CI page keeps, say what failed.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = unhandledErrors.length;
    let skipped = 0;
    const lines: string[] = unhandledErrors.map((e) => `unhandled error: ${firstLines(e)}`);
    for (const module of testModules) {
      // A file that failed without a failed test (an import error, a failing beforeAll/afterAll
      // hook whose tests were then skipped) is one failure.
      const tests = [...module.children.allTests()];
      if (module.state() === 'failed' && !tests.some((t) => t.result().state === 'failed')) {
        failed++;
        lines.push(`${relative(process.cwd(), module.moduleId)}: ${module.errors().map(firstLines).join(' | ') || 'failed'}`);
      }
      for (const test of tests) {
        const result = test.result();
        if (result.state === 'passed') passed++;
        else if (result.state === 'failed') {
          failed++;
          lines.push(`${relative(process.cwd(), test.module.moduleId)} > ${test.fullName}: ${result.errors.map(firstLines).join(' | ')}`);
        } else skipped++;
      }
    }
    if (lines.length > 0) process.stdout.write(`\nfailed:\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    process.stdout.write(`\ntests: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
  }
}

/** The start of an error's message, ANSI colours removed, on one line: enough to tell failures apart. */
function firstLines(error: unknown): string {
  const message = typeof error === 'object' && error !== null && 'message' in error ? String(error.message) : String(error);
  const plain = stripVTControlCharacters(message).replace(/\s+/g, ' ').trim();
  return plain.length > 600 ? `${plain.slice(0, 600)}…` : plain;
}
