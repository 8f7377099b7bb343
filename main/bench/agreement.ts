/**
 * `npm run bench -- agreement`: replays both recorded Hugging Face prompt-tuning runs (SST-2 and CoLA on
 * ../shared/fixtures/mini-t5-pretrained) in full with `sprout train`'s engine and the `lester-reference` preset,
 * and compares them point by point (agreement-compare.ts). Writes bench-results/agreement.md (tables) and
 * agreement.png (training loss per 50 steps and the evaluations, Sprout against the reference); the JSON is
 * written by the bench runner. A development benchmark: it reads ../shared.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadCheckpoint, runDir } from '../train/run-store.js';
import { runTraining } from '../train/run.js';
import { compareRun, TARGETS, type RunComparison } from './agreement-compare.js';
import { agreementFigure, agreementMarkdown } from './agreement-report.js';
import { readReferenceRuns, referenceConfig, REFERENCE_TASKS, type ReferenceRun, type ReferenceTask } from './reference-runs.js';
import { svgToPng } from './svg-png.js';

export interface AgreementOptions {
  root: string;
  outDir: string;
}

export interface ReplayResult {
  comparison: RunComparison;
  /** What the run reported about its data (cut inputs, skipped rows); none for the reference recipe. */
  notes: string[];
}

/** Trains one reference run with Sprout (to `steps`, default the reference's) and compares it. */
export async function replayReference(shared: string, task: ReferenceTask, ref: ReferenceRun, steps = ref.steps_done, log = (_: string) => {}): Promise<ReplayResult> {
  const home = mkdtempSync(join(tmpdir(), `sprout-agreement-${task}-`));
  let stepSeconds = 0;
  let notes: string[] = [];
  const result = await runTraining(
    { config: referenceConfig(shared, task, ref, { steps, checkpointEvery: steps }) },
    {
      dataDir: home,
      onProgress: (e) => {
        if (e.kind === 'started') notes = e.notes;
        if (e.kind === 'step') {
          // The first step also creates the training session: timed apart, as the reference timed steps only.
          if (e.step > 1) stepSeconds += ref.batch_size / e.examplesPerS;
          if (e.step % 50 === 0) log(`${task} step ${e.step}/${e.steps} loss ${e.loss.toFixed(4)} (${(stepSeconds / (e.step - 1)).toFixed(3)} s/step)`);
        }
        if (e.kind === 'eval') log(`${task} eval at step ${e.step}: rank ${(100 * (e.metrics.rank?.accuracy ?? 0)).toFixed(2)}%, exact ${(100 * e.metrics.exactMatch).toFixed(2)}%`);
      },
    },
  );
  const state = loadCheckpoint(runDir(home, String(result.run_id)));
  if (!state || state.step !== steps) throw new Error(`the ${task} replay ended at step ${state?.step ?? 0}, not ${steps} (status ${result.status})`);
  const comparison = compareRun(ref, { losses: state.losses, evals: state.evals, finalPrompt: state.prompts[0].data, secondsPerStep: steps > 1 ? stepSeconds / (steps - 1) : 0 });
  return { comparison, notes };
}

export async function benchAgreement(o: AgreementOptions) {
  const shared = resolve(o.root, '../shared');
  const refs = readReferenceRuns(shared);
  const log = (line: string) => process.stderr.write(`agreement: ${line}\n`);
  const replays = {} as Record<ReferenceTask, ReplayResult>;
  for (const task of REFERENCE_TASKS) replays[task] = await replayReference(shared, task, refs[task], refs[task].steps_done, log);
  writeFileSync(join(o.outDir, 'agreement.md'), agreementMarkdown(refs, replays));
  const figure = agreementFigure(refs, replays);
  await svgToPng(figure.svg, figure.width, figure.height, join(o.outDir, 'agreement.png'));
  const summary = (t: ReferenceTask) => {
    const c = replays[t].comparison;
    return {
      ...c,
      data_notes: replays[t].notes,
      loss_points_within_target: `${c.loss.filter((p) => p.ok).length}/${c.loss.length}`,
      evals_within_target: `${c.evals.filter((e) => e.ok).length}/${c.evals.length}`,
      max_abs_loss_rel_diff_to_500: maxAbs(c.loss.filter((p) => p.step <= TARGETS.lossEarlyUntil).map((p) => p.rel_diff)),
      max_abs_loss_rel_diff_after_500: maxAbs(c.loss.filter((p) => p.step > TARGETS.lossEarlyUntil).map((p) => p.rel_diff)),
    };
  };
  return {
    benchmark: 'agreement',
    model: 'mini-t5-pretrained (../shared/fixtures), CPU, lester-reference preset',
    targets: TARGETS,
    all_targets_met: REFERENCE_TASKS.every((t) => replays[t].comparison.ok),
    sst2: summary('sst2'),
    cola: summary('cola'),
  };
}

const maxAbs = (values: number[]) => (values.length ? Math.max(...values.map(Math.abs)) : null);
