/**
 * Runs after vitest's own reporter and repeats, as the last lines of the output, which tests failed (file, full
 * name, first line of the error) and which files could not run — so the tail of a CI log names the failure — then
 * one plain `Tests: N passed, N failed, N skipped` line that CI reads whatever the runner.
 */
import type { Reporter, TestModule } from 'vitest/node';

export default class FailureSummary implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<{ message?: string }>): void {
    const lines: string[] = [];
    const count = { passed: 0, skipped: 0 };
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed' || state === 'skipped') count[state]++;
      }
      const file = module.relativeModuleId;
      for (const error of module.errors()) lines.push(`FAILED ${file}: ${firstLine(error.message)}`);
      for (const test of module.children.allTests('failed')) {
        lines.push(`FAILED ${file} > ${test.fullName}: ${firstLine(test.result().errors?.[0]?.message)}`);
      }
    }
    for (const error of unhandled) lines.push(`UNHANDLED ERROR: ${firstLine(error.message)}`);
    if (lines.length > 0) process.stdout.write(`\n${lines.length} failure(s):\n${lines.join('\n')}\n`);
    // A file that could not run and an unhandled error count as failures too: each is a line above.
    process.stdout.write(`\nTests: ${count.passed} passed, ${lines.length} failed, ${count.skipped} skipped\n`);
  }
}

function firstLine(message: string | undefined): string {
  return (message ?? '(no message)').split('\n')[0].slice(0, 300);
}
