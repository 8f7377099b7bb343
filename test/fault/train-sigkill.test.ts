/**
 * Training killed with SIGKILL at a seeded random step (once or twice), then `--resume`d, must end with the very
 * prompt an uninterrupted run keeps: same float32 bits in prompt.safetensors, task-embedding.safetensors and the
 * library's prompt blob, the same per-step losses and evaluations recorded, and one prompt row, not two.
 * `npm test` runs 3 seeds; SPROUT_NIGHTLY=1 runs 20.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { runMetrics, requireRun } from '../../main/library/runs.js';
import { loadCheckpoint, PROMPT_TENSOR } from '../../main/train/run-store.js';
import { readTensorFile } from '../../main/train/tensor-file.js';
import { mulberry32 } from '../../main/random.js';
import { lastJson, sprout, type Exit } from './spawn.js';
import { STEPS, trainArgs } from './train-args.js';

const seeds = Array.from({ length: process.env.SPROUT_NIGHTLY === '1' ? 20 : 3 }, (_, i) => 1000 + i);

interface Outcome {
  prompt: Buffer;
  taskEmbedding: Buffer;
  blob: Buffer;
  metrics: unknown;
  status: string;
  prompts: number;
  summary: Record<string, unknown>;
}

const tensorBytes = (file: string) => Buffer.from((readTensorFile(file).tensors.get(PROMPT_TENSOR)!.data as Float32Array).buffer);

function outcome(home: string, run: Exit): Outcome {
  const summary = lastJson(run);
  const db = openLibrary(libraryPath(home));
  try {
    const runId = Number(summary.run_id);
    const { embedding } = db.prepare('SELECT embedding FROM prompts WHERE id = ?').get(summary.prompt_id) as { embedding: Buffer };
    return {
      prompt: tensorBytes(String(summary.prompt_file)),
      taskEmbedding: tensorBytes(String(summary.task_embedding_file)),
      blob: embedding,
      metrics: runMetrics(db, runId),
      status: requireRun(db, runId).status,
      prompts: (db.prepare('SELECT count(*) AS n FROM prompts').get() as { n: number }).n,
      summary,
    };
  } finally {
    db.close();
  }
}

/** Runs (or resumes) training and SIGKILLs it once a progress line reports step `at`. */
async function killAt(args: string[], home: string, at: number): Promise<Exit> {
  let sent = false;
  return sprout(args, home, (line, kill) => {
    const m = /^step (\d+)\//.exec(line);
    if (!sent && m && Number(m[1]) >= at) {
      sent = true;
      kill('SIGKILL');
    }
  });
}

describe('training survives SIGKILL at a random step', () => {
  let baseline: Outcome;

  beforeAll(async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-fault-'));
    const straight = await sprout(trainArgs, home);
    expect(straight.code, straight.stderr).toBe(0);
    baseline = outcome(home, straight);
    expect([baseline.summary.status, baseline.summary.steps, baseline.status, baseline.prompts]).toEqual(['completed', STEPS, 'done', 1]);
  });

  it.each(seeds)('seed %i: killed, resumed, the same prompt bit for bit', async (seed) => {
    const rng = mulberry32(seed);
    // One or two kills, each at a later step; the last one leaves >= 15 steps so that it lands before the end.
    const first = 1 + Math.floor(rng() * (STEPS - 20));
    const kills = rng() < 0.5 ? [first] : [first, first + 1 + Math.floor(rng() * (STEPS - 16 - first))];
    const home = mkdtempSync(join(tmpdir(), 'sprout-fault-'));
    let args = trainArgs;
    let runId = '';
    let savedStep = 0;
    for (const at of kills) {
      const killed = await killAt(args, home, at);
      expect(killed.signal, `seed ${seed}: kill at step ${at}\n${killed.stderr}`).toBe('SIGKILL');
      runId ||= /^run (\S+):/m.exec(killed.stderr)![1];
      savedStep = loadCheckpoint(join(home, 'runs', runId))?.step ?? 0;
      expect(savedStep).toBeLessThan(STEPS);
      args = ['train', '--resume', runId];
    }
    const resumed = await sprout(args, home);
    expect(resumed.code, resumed.stderr).toBe(0);
    // The resume really starts from the checkpoint (a restart from scratch would also end with the same prompt).
    if (savedStep > 0) expect(resumed.stderr).toContain(`run ${runId} resumed at step ${savedStep}:`);
    const got = outcome(home, resumed);
    expect([got.summary.status, got.summary.steps, got.status, got.prompts]).toEqual(['completed', STEPS, 'done', 1]);
    expect(got.prompt.equals(baseline.prompt)).toBe(true);
    expect(got.taskEmbedding.equals(baseline.taskEmbedding)).toBe(true);
    expect(got.blob.equals(baseline.blob)).toBe(true);
    expect(got.metrics).toEqual(baseline.metrics);
    expect([got.summary.first_loss, got.summary.last_loss, got.summary.best, got.summary.best_step]).toEqual([
      baseline.summary.first_loss,
      baseline.summary.last_loss,
      baseline.summary.best,
      baseline.summary.best_step,
    ]);
  });
});
