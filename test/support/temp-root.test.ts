import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RUN_FOLDER_PREFIX } from './temp-root.js';

describe("the suite's temporary files live in one folder per run (temp-root.ts removes it at the end)", () => {
  it('os.tmpdir() in a test worker is that folder', () => {
    expect(basename(tmpdir()).startsWith(RUN_FOLDER_PREFIX)).toBe(true);
  });

  it('and so is the temporary folder of a process a test starts (CLI, Python)', () => {
    const child = spawnSync('python3', ['-c', 'import tempfile; print(tempfile.gettempdir())'], { encoding: 'utf8' });
    expect(child.status).toBe(0);
    expect(child.stdout.trim()).toBe(tmpdir());
  });
});
