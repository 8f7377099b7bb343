/**
 * `npm run bench -- agreement`: replays both recorded Hugging Face prompt-tuning runs (SST-2 and CoLA on
 * ../shared/fixtures/mini-t5-pretrained) in full with `sprout train`'s engine and the `lester-reference` preset,
 * and compares them point by point (agreement-compare.ts); then replays each run 8 more times from an initial prompt
 * moved by 1e-7 (agreement-spread.ts) and says at each 50-step point whether the reference lies inside their spread.
 * Writes bench-results/agreement.md (tables) and agreement.png (training loss per 50 steps with the spread, and
 * the evaluations, Sprout against the reference); the JSON is written by the bench runner. A development
 * benchmark: it reads ../shared.
 */
import { inLibrary } from '../library/run-records.js';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadCheckpoint, runDir } from '../train/run-store.js';
import { runTraining } from '../train/run.js';
import { compareRun, TARGETS, type RunComparison } from './agreement-compare.js';
import { agreementFigure, agreementMarkdown } from './agreement-report.js';
import { perturbedReplay, SPREAD, spreadPoints, stepsWithin, type Spread } from './agreement-spread.js';
import {
  readReferenceRuns,
  readReferenceSteps,
  referenceConfig,
  REFERENCE_TASKS,
  type ReferenceRun,
  type ReferenceTask,
} from './reference-runs.js';
import { svgToPng } from './svg-png.js';
import { withTempHome } from './temp-home.js';

export interface AgreementOptions {
  root: string;
  outDir: string;
}

export interface ReplayResult {
  comparison: RunComparison;
  /** What the run reported about its data (cut inputs, skipped rows); none for the reference recipe. */
  notes: string[];
  /** Every step's training loss. */
  losses: number[];
}

/** Trains one reference run with Sprout (to `steps`, default the reference's) and compares it. */
export async function replayReference(
  shared: string,
  task: ReferenceTask,
  ref: ReferenceRun,
  steps = ref.steps_done,
  log = (_: string) => {},
): Promise<ReplayResult> {
  return withTempHome(`sprout-agreement-${task}-`, async (home) => {
    let stepSeconds = 0;
    let notes: string[] = [];
    const result = await runTraining(
      { config: referenceConfig(shared, task, ref, { steps, checkpointEvery: steps }) },
      {
        ...inLibrary(home),
        onProgress: (e) => {
          if (e.kind === 'started') notes = e.notes;
          if (e.kind === 'step') {
            // The first step also creates the training session: timed apart, as the reference timed steps only.
            if (e.step > 1) stepSeconds += ref.batch_size / e.examplesPerS;
            if (e.step % 50 === 0)
              log(`${task} step ${e.step}/${e.steps} loss ${e.loss.toFixed(4)} (${(stepSeconds / (e.step - 1)).toFixed(3)} s/step)`);
          }
          if (e.kind === 'eval')
            log(
              `${task} eval at step ${e.step}: rank ${(100 * (e.metrics.rank?.accuracy ?? 0)).toFixed(2)}%, exact ${(100 * e.metrics.exactMatch).toFixed(2)}%`,
            );
        },
      },
    );
    const state = loadCheckpoint(runDir(home, String(result.run_id)));
    if (!state || state.step !== steps)
      throw new Error(`the ${task} replay ended at step ${state?.step ?? 0}, not ${steps} (status ${result.status})`);
    const comparison = compareRun(ref, {
      losses: state.losses,
      evals: state.evals,
      finalPrompt: state.prompts[0].data,
      secondsPerStep: steps > 1 ? stepSeconds / (steps - 1) : 0,
    });
    return { comparison, notes, losses: state.losses };
  });
}

async function measureSpread(
  shared: string,
  task: ReferenceTask,
  ref: ReferenceRun,
  replay: ReplayResult,
  recorded: [number, number][],
  log: (line: string) => void,
): Promise<Spread> {
  const perturbed: number[][] = [];
  for (let seed = 1; seed <= SPREAD.replays; seed++) {
    perturbed.push(await perturbedReplay(shared, task, ref, seed));
    log(`${task}: perturbed replay ${seed}/${SPREAD.replays} done`);
  }
  return {
    points: spreadPoints(ref, perturbed),
    stepsWithinTolerance: {
      replay: stepsWithin(replay.losses, recorded),
      perturbed: perturbed.map((losses) => stepsWithin(losses, recorded)),
    },
  };
}

export async function benchAgreement(o: AgreementOptions) {
  const shared = resolve(o.root, '../shared');
  const refs = readReferenceRuns(shared);
  const log = (line: string) => process.stderr.write(`agreement: ${line}\n`);
  const recorded = readReferenceSteps(shared);
  const replays = {} as Record<ReferenceTask, ReplayResult>;
  const spreads = {} as Record<ReferenceTask, Spread>;
  for (const task of REFERENCE_TASKS) {
    replays[task] = await replayReference(shared, task, refs[task], refs[task].steps_done, log);
    spreads[task] = await measureSpread(shared, task, refs[task], replays[task], recorded[task], log);
  }
  writeFileSync(join(o.outDir, 'agreement.md'), agreementMarkdown(refs, replays, spreads));
  const figure = agreementFigure(refs, replays, spreads);
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
      spread: {
        replays: SPREAD.replays,
        relative_noise: SPREAD.relativeNoise,
        reference_inside: `${spreads[t].points.filter((p) => p.inside).length}/${spreads[t].points.length}`,
        points: spreads[t].points,
        first_steps_within_tolerance: {
          tolerance: SPREAD.stepTolerance,
          replay: spreads[t].stepsWithinTolerance.replay,
          perturbed: spreads[t].stepsWithinTolerance.perturbed,
        },
      },
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
