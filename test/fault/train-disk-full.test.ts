/**
 * The disk fills up while a run is training: the run folder sits on a 256 KiB tmpfs that the test fills once the
 * run passes step 20. The next checkpoint save must fail with one clear line (exit 2, no stack trace), keep the
 * previous checkpoint whole, and after space is freed `--resume` must finish with the uninterrupted run's prompt.
 * Mounting needs root (CAP_SYS_ADMIN); elsewhere the test is skipped.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { canMount, fill, mountTmpfs, unmountAll } from './tmpfs.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { requireRun } from '../../main/library/runs.js';
import { CHECKPOINT_FILE, CONFIG_FILE, loadCheckpoint, PROMPT_TENSOR } from '../../main/train/run-store.js';
import { readTensorFile } from '../../main/train/tensor-file.js';
import { lastJson, sprout } from './spawn.js';
import { STEPS, trainArgs } from './train-args.js';

/**
 * On float32 weights: three runs in one test, and narrow weights build every session again after each evaluation.
 * The width plays no part in a checkpoint's save; train-sigkill.test.ts resumes on the default (bf16) weights.
 */
const args = [...trainArgs, '--weights', 'fp32'];
const promptBytes = (file: unknown) => Buffer.from((readTensorFile(String(file)).tensors.get(PROMPT_TENSOR)!.data as Float32Array).buffer);

afterAll(unmountAll);

describe('disk full during a checkpoint save', () => {
  it.skipIf(!canMount)(
    'fails with a clear error, keeps the previous checkpoint, and resumes to the same prompt once space is freed',
    async () => {
      const straight = await sprout(args, mkdtempSync(join(tmpdir(), 'sprout-fault-')));
      expect(straight.code, straight.stderr).toBe(0);
      const expected = lastJson(straight);

      const home = mkdtempSync(join(tmpdir(), 'sprout-fault-'));
      const runs = join(home, 'runs');
      mkdirSync(runs);
      expect(mountTmpfs(runs, '256k')).toBe(true);
      const filler = join(runs, 'filler');
      let filled = 0;
      const failed = await sprout(args, home, (line) => {
        if (!filled && /^step 20\//.test(line)) filled = fill(filler);
      });
      expect(filled).toBeGreaterThan(0);
      expect(failed.code, failed.stderr).toBe(2);
      const message = /^sprout: (.*)$/m.exec(failed.stderr)![1];
      const runId = /^run (\S+):/m.exec(failed.stderr)![1];
      const runFolder = join(runs, runId);
      expect(message).toMatch(
        new RegExp(
          `^The disk is full: the training checkpoint of step \\d+ could not be written to ${runFolder} \\(\\d+ KB free there, about \\d+ KB more needed\\)\\. The previous checkpoint is kept; free some space, then continue with \`sprout train --resume ${runId}\`\\.$`,
        ),
      );
      expect(failed.stderr).not.toMatch(/internal error|\n\s+at /);
      const failedAt = Number(/of step (\d+) /.exec(message)![1]);

      // The previous checkpoint is whole and nothing half-written is left beside it.
      const saved = loadCheckpoint(runFolder)!;
      expect(saved.step).toBeGreaterThanOrEqual(18);
      expect(saved.step).toBe(failedAt - 3);
      expect(readdirSync(runFolder).sort()).toEqual([CHECKPOINT_FILE, CONFIG_FILE]);
      const db = openLibrary(libraryPath(home));
      const run = requireRun(db, Number(runId));
      db.close();
      expect([run.status, run.error]).toEqual(['failed', message]);

      rmSync(filler);
      const resumed = await sprout(['train', '--resume', runId], home);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stderr).toContain(`run ${runId} resumed at step ${saved.step}:`);
      const result = lastJson(resumed);
      expect([result.status, result.steps]).toEqual(['completed', STEPS]);
      expect(promptBytes(result.prompt_file).equals(promptBytes(expected.prompt_file))).toBe(true);
      expect(promptBytes(result.task_embedding_file).equals(promptBytes(expected.task_embedding_file))).toBe(true);
    },
  );
});
