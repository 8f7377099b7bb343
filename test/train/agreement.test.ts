/**
 * The first 100 steps of the recorded Hugging Face SST-2 prompt-tuning run, replayed with `sprout train --preset
 * lester-reference` on the data as distributed. The checkpoint is read back with python3 (struct, json, numpy)
 * and the data files are counted with python3's csv module, not with Sprout's readers.
 *
 * Step 0 is compared exactly. After it, float32 summation order alone (micro-batches, the graph's own rounding)
 * moves the run: the loss sits near 10 for at least 15 steps, then falls, and when it falls depends on differences
 * of 1e-6 (README "Same result as Hugging Face"; `npm run bench -- agreement` reports the bench's 2 % targets).
 * Twelve replays of these 100 steps on 2026-12-06 (the builds 13d1a9d and 4b40fab, which differ in the loss's
 * rounding only, each without micro-batches and with micro-batches of 2, 4, 8, 16 and 24 rows) fell between step 18
 * and step 50: 50-step means of 7.42–10.05 at step 50 (reference 8.14) and 4.57–5.66 at step 100 (reference 4.75),
 * one run of each build near 10.0 at step 50. An earlier sample of eight (7.30–8.14 at step 50) had held the points to
 * 15 %, which 4b40fab's plain replay (10.04) missed by its draw alone. So the step-50 mean is held between 80 % of
 * the reference and the plateau's 10.5 (it passes that only if the loss rises), and the step-100 mean, where a run
 * that never learns stays near 10, within 30 % of the reference.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compareRun } from '../../main/bench/agreement-compare.js';
import { readReferenceRuns } from '../../main/bench/reference-runs.js';
import { loadCheckpoint, runDir } from '../../main/train/run-store.js';
import { lastJson, sprout } from '../fault/spawn.js';
import { miniModel, shared } from './fixtures.js';
import { pythonCheckpoint } from './python-checkpoint.js';

const STEPS = 100;
const reference = JSON.parse(readFileSync(join(miniModel, 'prompt_tuning_reference.json'), 'utf8')).sst2 as {
  n_train: number;
  n_dev: number;
  train_loss: [number, number][];
  evals: {
    step: number;
    rank_acc: number;
    greedy_exact_match: number;
    greedy_valid_label_frac: number;
    rank_mcc: number;
    greedy_mcc_invalid_as_wrong: number;
    greedy_first5: number[][];
  }[];
};

function python(script: string, ...args: string[]): string {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout;
}

/** Data rows of a GLUE TSV (header skipped), counted by python's csv module with quoting off. */
const countRows = (file: string) =>
  Number(
    python(
      'import csv,sys\nrows=list(csv.reader(open(sys.argv[1],newline="",encoding="utf-8"),delimiter="\\t",quoting=csv.QUOTE_NONE))\nprint(len(rows)-1)',
      file,
    ),
  );

describe('replaying the Hugging Face SST-2 prompt-tuning run (../shared/fixtures/mini-t5-pretrained)', () => {
  it(
    `follows it for ${STEPS} steps: step 0 exactly, the loss means and step ${STEPS} within float32's divergence`,
    { timeout: 600_000 },
    async () => {
      const data = join(shared, 'data/sst2');
      const home = mkdtempSync(join(tmpdir(), 'sprout-agreement-'));
      const run = await sprout(
        [
          'train',
          '--preset',
          'lester-reference',
          '--model',
          miniModel,
          '--device',
          'cpu',
          '--threads',
          '2',
          '--data',
          join(data, 'train.tsv'),
          '--validation',
          join(data, 'dev.tsv'),
          '--text-column',
          'sentence',
          '--label-column',
          'label',
          '--verbalizer',
          '0=negative,1=positive',
          '--steps',
          String(STEPS),
        ],
        home,
      );
      expect(run.code, run.stderr).toBe(0);
      const result = lastJson(run) as { run_id: number; status: string; steps: number; notes: string[]; warnings: string[] };
      // No data notes (nothing cut, no row dropped); the judgement's warnings about the prompt are the only notes.
      expect([result.status, result.steps, result.notes.filter((n) => !result.warnings.includes(n))]).toEqual(['completed', STEPS, []]);

      // Every row of both files is an example, as in the reference run.
      expect([countRows(join(data, 'train.tsv')), countRows(join(data, 'dev.tsv'))]).toEqual([reference.n_train, reference.n_dev]);
      expect(run.stderr).toContain(`${reference.n_train} training, ${reference.n_dev} validation and 0 test examples`);

      const checkpoint = pythonCheckpoint(join(runDir(home, String(result.run_id)), 'checkpoint.safetensors'));
      expect(checkpoint.losses).toHaveLength(STEPS);
      expect(checkpoint.evals.map((e) => e.step)).toEqual([0, STEPS]);

      // Step 0: the initial prompt (label-word rows + numpy-drawn vocabulary rows) gives the reference's numbers exactly.
      const [ref0, ref100] = reference.evals;
      const at0 = checkpoint.evals[0].metrics;
      expect([at0.rank?.accuracy, at0.exactMatch, at0.validLabelShare, at0.rank?.mcc, at0.greedy?.mcc]).toEqual([
        ref0.rank_acc,
        ref0.greedy_exact_match,
        ref0.greedy_valid_label_frac,
        ref0.rank_mcc,
        ref0.greedy_mcc_invalid_as_wrong,
      ]);
      expect(at0.firstOutputs).toEqual(ref0.greedy_first5);

      // Loss means of steps 1–50 and 51–100 (bounds: see the top).
      const means = new Map(
        reference.train_loss
          .filter(([step]) => step <= STEPS)
          .map(([step, refMean]) => [step, { refMean, mean: checkpoint.losses.slice(step - 50, step).reduce((s, v) => s + v, 0) / 50 }]),
      );
      const at50 = means.get(50)!;
      expect(at50.mean, `loss mean at step 50: ${at50.mean} vs ${at50.refMean}`).toBeGreaterThan(0.8 * at50.refMean);
      expect(at50.mean, `loss mean at step 50: ${at50.mean} vs ${at50.refMean}`).toBeLessThan(10.5);
      const last = means.get(STEPS)!;
      expect(Math.abs(last.mean / last.refMean - 1), `loss mean at step ${STEPS}: ${last.mean} vs ${last.refMean}`).toBeLessThan(0.3);

      // Step 100: like the reference, the prompt has not yet taught the model to say a label word, and rank
      // classification still says the majority class for (nearly) every row: the reference's 50.23% is 6 rows from
      // the majority's 50.92%, so rank accuracy gets 1.5 points. Whether the greedy outputs already stop at eos
      // depends on when the loss fell, which float32 summation order moves (README "Same result as Hugging Face").
      const at100 = checkpoint.evals[1].metrics;
      expect(Math.abs(at100.exactMatch - ref100.greedy_exact_match)).toBeLessThanOrEqual(0.005);
      expect(Math.abs(at100.validLabelShare! - ref100.greedy_valid_label_frac)).toBeLessThanOrEqual(0.005);
      expect(Math.abs(at100.rank!.accuracy - ref100.rank_acc)).toBeLessThanOrEqual(0.015);

      // The benchmark's comparison, given Sprout's own reading of the same checkpoint, finds the same numbers.
      const state = loadCheckpoint(runDir(home, String(result.run_id)))!;
      const comparison = compareRun(readReferenceRuns(shared).sst2, {
        losses: state.losses,
        evals: state.evals,
        finalPrompt: state.prompts[0].data,
        secondsPerStep: 0,
      });
      expect(comparison.loss.map((p) => p.step)).toEqual([50, 100]);
      comparison.loss.forEach((p, i) =>
        expect(p.sprout).toBeCloseTo(checkpoint.losses.slice(i * 50, i * 50 + 50).reduce((s, v) => s + v, 0) / 50, 4),
      );
      expect(comparison.evals.map((e) => [e.step, e.first5.same])).toEqual([
        [0, true],
        [STEPS, JSON.stringify(at100.firstOutputs) === JSON.stringify(ref100.greedy_first5)],
      ]);
      expect(comparison.final_prompt_rel_l2).toBeNull();
    },
  );
});
