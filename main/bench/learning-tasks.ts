/**
 * `npm run bench -- learning-tasks` (part of the `learning` group): replays the Hugging Face prompt-tuning runs
 * recorded on ../shared/fixtures/mini-t5-instruct (SST-2; AG News topic on the held-out rows) with `sprout
 * train`'s engine on 1 CPU thread, as the reference ran, and compares dev rank accuracy by step and the time per
 * training step. Writes the `tasks` key of bench-results/learning.json, its section of learning.md, and
 * learning.png. A development benchmark: it reads ../shared.
 */
import { inLibrary } from '../library/run-records.js';
import { join, resolve } from 'node:path';
import { CONFIG_FILE, readJson, runDir } from '../train/run-store.js';
import { runTraining } from '../train/run.js';
import { learningConfig, LEARNING_TASKS, readInstructRuns, type InstructRun, type LearningTask } from './learning-reference.js';
import { learningFigure, learningMarkdown } from './learning-report.js';
import { LEARNING_SPREAD_REPLAYS, LEARNING_TARGETS, taskSummary, type TaskReplay, type TaskSummary } from './learning-summary.js';
import { perturbedConfig } from './agreement-spread.js';
import { mergeLearningMarkdown, mergeLearningResults } from './learning-results.js';
import { readTorchSpreads } from './learning-torch.js';
import { svgToPng } from './svg-png.js';
import { withTempHome } from './temp-home.js';
import { mean } from './measure.js';

/** Trains one recorded run with Sprout (to `steps`, default the reference's) and returns its curve and step times. */
export async function replayLearningRun(
  shared: string,
  task: LearningTask,
  ref: InstructRun,
  o: { steps?: number; threads?: number; log?: (line: string) => void; perturbSeed?: number } = {},
): Promise<TaskReplay> {
  return withTempHome(`sprout-learning-${task}-`, async (home) => {
    const steps = o.steps ?? ref.steps_done;
    const threads = o.threads ?? ref.threads;
    const log = o.log ?? (() => {});
    const stepSeconds: number[] = [];
    const curve: [number, number][] = [];
    const given = learningConfig(shared, task, ref, { steps, checkpointEvery: steps, threads });
    const result = await runTraining(
      { config: o.perturbSeed === undefined ? given : await perturbedConfig(home, given, task, o.perturbSeed) },
      {
        ...inLibrary(home),
        onProgress: (e) => {
          if (e.kind === 'step' && e.step > 1) stepSeconds.push(ref.batch_size / e.examplesPerS);
          if (e.kind === 'step' && e.step % 100 === 0)
            log(`${task} step ${e.step}/${e.steps} loss ${e.loss.toFixed(4)} (${mean(stepSeconds).toFixed(4)} s/step)`);
          if (e.kind === 'eval') {
            curve.push([e.step, e.metrics.rank?.accuracy ?? 0]);
            log(`${task} eval at step ${e.step}: rank accuracy ${(100 * (e.metrics.rank?.accuracy ?? 0)).toFixed(2)} %`);
          }
        },
      },
    );
    if (result.steps !== steps) throw new Error(`the ${task} replay ended at step ${result.steps}, not ${steps} (status ${result.status})`);
    const majority = result.baselines.majority;
    if (!majority) throw new Error(`the ${task} replay had no validation data`);
    const stored = readJson(join(runDir(home, String(result.run_id)), CONFIG_FILE), 'bad-run-file') as { init: { vocabIds: number[] }[] };
    return {
      curve,
      stepSeconds,
      majorityOfDev: { label: majority.label, accuracy: majority.rank_accuracy },
      vocabIds: stored.init[0].vocabIds,
      threads,
      notes: result.notes.filter((n) => !result.warnings.includes(n)),
    };
  });
}

export async function benchLearningTasks(o: { root: string; outDir: string }) {
  const shared = resolve(o.root, '../shared');
  const refs = readInstructRuns(shared);
  const torch = readTorchSpreads(o.outDir);
  const log = (line: string) => process.stderr.write(`learning-tasks: ${line}\n`);
  // The plain replays, whose step times are the ones reported, run first: timed after ten others in one process,
  // topic stepped 8 % slower than in a fresh process (learning-speed) minutes later.
  const plain = {} as Record<LearningTask, TaskReplay>;
  for (const task of LEARNING_TASKS) plain[task] = await replayLearningRun(shared, task, refs[task], { log });
  const tasks = {} as Record<LearningTask, TaskSummary>;
  for (const task of LEARNING_TASKS) {
    const perturbed: TaskReplay[] = [];
    for (let seed = 1; seed <= LEARNING_SPREAD_REPLAYS; seed++) {
      perturbed.push(await replayLearningRun(shared, task, refs[task], { perturbSeed: seed }));
      log(
        `${task}: perturbed replay ${seed}/${LEARNING_SPREAD_REPLAYS}: final rank accuracy ${(100 * perturbed.at(-1)!.curve.at(-1)![1]).toFixed(2)} %`,
      );
    }
    tasks[task] = taskSummary(refs[task], plain[task], perturbed, torch[task]);
  }
  mergeLearningResults(o.outDir, 'tasks', tasks);
  mergeLearningMarkdown(o.outDir, 'tasks', learningMarkdown(tasks));
  const figure = learningFigure(tasks);
  await svgToPng(figure.svg, figure.width, figure.height, join(o.outDir, 'learning.png'));
  return {
    benchmark: 'learning-tasks',
    model: 'mini-t5-instruct (../shared/fixtures), CPU, lester-reference preset, bare input cut to 64 tokens + eos',
    targets: LEARNING_TARGETS,
    all_targets_met: LEARNING_TASKS.every((t) => tasks[t].accuracy_target_met && tasks[t].speed_target_met),
    tasks,
  };
}
