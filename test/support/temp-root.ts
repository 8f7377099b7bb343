/**
 * vitest globalSetup: everything the suite writes through os.tmpdir() goes under one folder of this run, removed
 * when the run ends. Tests make their homes, datasets, hubs and labelled files with mkdtemp, and most leave them:
 * one `npm test` left about 2.5 GB in /tmp (int8 weight caches, Chromium profiles, some 500 folders), and a day
 * of runs filled a developer's disk. TMPDIR is what tmpdir() reads, in the test workers (started after this runs) and
 * in every process they start (the CLI, Python, Chromium). SPROUT_KEEP_TEST_TMP=1 keeps the folder, to look at
 * what a failing test wrote; its path is printed then.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The prefix of a run's folder, which test/support/temp-root.test.ts looks for. */
export const RUN_FOLDER_PREFIX = 'sprout-test-run-';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), RUN_FOLDER_PREFIX));
  process.env.TMPDIR = root;
  return () => {
    if (process.env.SPROUT_KEEP_TEST_TMP === '1') process.stdout.write(`\nThe suite's temporary files are kept in ${root}\n`);
    else rmSync(root, { recursive: true, force: true });
  };
}
