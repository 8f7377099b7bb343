/**
 * The first steps of both recorded Hugging Face prompt-tuning runs on ../shared/fixtures/mini-t5-pretrained, loss by
 * loss: prompt_tuning_reference_steps.json holds the loss of each of the first 100 steps, re-run with the reference's
 * own code and environment (2 threads), which reproduces the recorded runs exactly. Sprout replays them with the
 * `lester-reference` preset on 2 threads; the losses are read back from the checkpoint with python3.
 *
 * Each run is checked up to the step float32 allows, measured: 8 Sprout replays whose initial prompt was moved by
 * at most 1e-7 (relative, seeded; `npm run bench -- agreement` does this for the whole runs) stayed within 1e-3 of
 * the recorded losses for their first 13, 15, 16, 13, 16, 13, 16, 15 steps on SST-2 and 6, 7, 7, 7, 7, 7, 8, 6 on
 * CoLA. Past the shortest of them, passing depends on the rounding of the machine that runs the test: differences of
 * 1e-7 grow about tenfold per step once the loss starts to move (Adafactor's normalised updates at lr 0.3). The
 * unperturbed replay happens to hold 16 steps on SST-2 and 7 on CoLA here. PyTorch behaves alike
 * (scripts/torch_prompt_tuning.py, Debian's PyTorch 1.13, 2026-12-06): replayed as recorded it gives the recorded
 * losses of both runs to their eight digits (within 6e-9) for 20 steps, on 1 thread and on 2, being the same
 * arithmetic; with the initial prompt moved by 1e-7 (four seeds) it holds 13, 14, 15 and 15 SST-2 steps and 7, 6, 7
 * and 7 CoLA steps within 1e-3. So steps 8–15 of CoLA can be held only by PyTorch's own float32 arithmetic, bit for
 * bit, not by another implementation of the same sums.
 */
import { inLibrary } from '../../main/library/run-records.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  readReferenceRuns,
  readReferenceSteps,
  referenceConfig,
  REFERENCE_TASKS,
  type ReferenceTask,
} from '../../main/bench/reference-runs.js';
import { runDir } from '../../main/train/run-store.js';
import { runTraining } from '../../main/train/run.js';
import { shared } from './fixtures.js';
import { pythonCheckpoint } from './python-checkpoint.js';

/** The last step each run is held to 1e-3 relative at: the shortest of the perturbed replays (see above). */
const CHECKED_STEPS: Record<ReferenceTask, number> = { sst2: 13, cola: 6 };
const TOLERANCE = 1e-3;

describe('the first steps of the recorded Hugging Face runs, loss by loss (mini-t5-pretrained, 2 threads)', () => {
  const refs = readReferenceRuns(shared);
  const recorded = readReferenceSteps(shared);
  for (const task of REFERENCE_TASKS) {
    const steps = CHECKED_STEPS[task];
    it(`${task}: steps 1–${steps} within ${TOLERANCE} relative of the reference's losses`, { timeout: 300_000 }, async () => {
      const home = mkdtempSync(join(tmpdir(), `sprout-steps-${task}-`));
      const result = await runTraining(
        { config: referenceConfig(shared, task, refs[task], { steps, checkpointEvery: steps, validation: undefined, threads: 2 }) },
        inLibrary(home),
      );
      expect([result.status, result.steps]).toEqual(['completed', steps]);
      const { losses } = pythonCheckpoint(join(runDir(home, String(result.run_id)), 'checkpoint.safetensors'));
      const reference = recorded[task].slice(0, steps);
      expect(reference.map(([step]) => step)).toEqual(Array.from({ length: steps }, (_, i) => i + 1));
      const relative = losses.map((loss, i) => Math.abs(loss / reference[i][1] - 1));
      expect(
        relative.map((r, i) => (r <= TOLERANCE ? 'ok' : `step ${i + 1}: ${losses[i]} vs ${reference[i][1]} (${r.toExponential(2)})`)),
      ).toEqual(relative.map(() => 'ok'));
    });
  }
});
