/**
 * `npm run bench -- learning-speed`: the speed half of the learning benchmark alone, cheap enough to rerun on a
 * quiet machine. The first SPEED_STEPS steps of each recorded mini-t5-instruct run (learning-reference.ts: the same
 * data, batches, init and optimiser as learning-tasks), on 1 thread as the reference ran, without evaluation. Per
 * task: wall seconds per step (mean and median, the first step left out: it also builds the session), the process's
 * CPU seconds per step over the same steps (what a busy machine inflates least), and the speed-up of the mean over
 * the reference's recorded seconds per step (the target; stepSpeed says why the mean). Beside each task, where a
 * python3 with torch is at hand, PyTorch's own replay of the same steps timed right after Sprout's (torch-timing.ts):
 * the speed-up on one machine in one minute, which the machine's drift does not move. Writes
 * bench-results/learning-speed.json only.
 */
import { resolve } from 'node:path';
import { inLibrary } from '../library/run-records.js';
import { runTraining } from '../train/run.js';
import { learningConfig, LEARNING_TASKS, readInstructRuns, type InstructRun, type LearningTask } from './learning-reference.js';
import { LEARNING_TARGETS, stepSpeed } from './learning-summary.js';
import { cpuMs, median } from './measure.js';
import { timeTorchSteps, torchBaseline, type TorchTiming } from './torch-timing.js';
import { withTempHome } from './temp-home.js';

/** Steps timed per task, after the first. */
export const SPEED_STEPS = 100;

const round = (v: number) => Number(v.toFixed(5));

type SpeedRow = Awaited<ReturnType<typeof timeSteps>>;

async function timeSteps(shared: string, task: LearningTask, ref: InstructRun) {
  return withTempHome(`sprout-learning-speed-${task}-`, async (home) => {
    const steps = SPEED_STEPS + 1;
    const wall: number[] = [];
    let cpuStart = 0;
    const cpuNow = () => cpuMs() / 1000;
    let cpu = 0;
    const config = learningConfig(shared, task, ref, {
      steps,
      validation: undefined,
      evalSteps: undefined,
      checkpointEvery: steps,
      threads: 1,
    });
    const result = await runTraining(
      { config },
      {
        ...inLibrary(home),
        onProgress: (e) => {
          if (e.kind !== 'step') return;
          if (e.step === 1) cpuStart = cpuNow();
          else wall.push(ref.batch_size / e.examplesPerS);
          if (e.step === steps) cpu = cpuNow() - cpuStart;
        },
      },
    );
    if (result.steps !== steps)
      throw new Error(`the ${task} speed run ended at step ${result.steps}, not ${steps} (status ${result.status})`);
    const speed = stepSpeed(ref.train_seconds_per_step, wall);
    return {
      steps_timed: wall.length,
      threads: 1,
      seconds_per_step_mean: round(speed.mean),
      seconds_per_step_median: round(median(wall)),
      cpu_seconds_per_step: round(cpu / wall.length),
      reference_seconds_per_step: round(ref.train_seconds_per_step),
      speedup: speed.speedup,
      speed_target_met: speed.met,
    };
  });
}

/** PyTorch's timing beside Sprout's, and Sprout's speed-up over it, mean over mean as against the reference. */
function besideTorch(sprout: { seconds_per_step_mean: number }, torch: TorchTiming) {
  const mean = round(torch.seconds_per_step_mean);
  return {
    ...torch,
    seconds_per_step_mean: mean,
    seconds_per_step_median: round(torch.seconds_per_step_median),
    speedup: Number((mean / sprout.seconds_per_step_mean).toFixed(3)),
  };
}

const TORCH_MEASURED =
  "pytorch_here: scripts/torch_prompt_tuning.py --time (PyTorch, 1 thread), the same steps right after Sprout's; speedup = its mean s/step / Sprout's";

export async function benchLearningSpeed(o: { root: string }) {
  const shared = resolve(o.root, '../shared');
  const refs = readInstructRuns(shared);
  const baseline = torchBaseline(o.root);
  const python = 'python' in baseline ? baseline.python : undefined;
  if ('missing' in baseline) process.stderr.write(`learning-speed: PyTorch not timed: ${baseline.missing}\n`);
  const tasks = {} as Record<LearningTask, SpeedRow & { pytorch_here?: ReturnType<typeof besideTorch> }>;
  for (const task of LEARNING_TASKS) {
    const sprout = await timeSteps(shared, task, refs[task]);
    const torch = python ? besideTorch(sprout, timeTorchSteps(o.root, python, task, SPEED_STEPS)) : undefined;
    tasks[task] = { ...sprout, ...(torch ? { pytorch_here: torch } : {}) };
    const beside = torch ? `; PyTorch here ${torch.seconds_per_step_mean} s/step, ${torch.speedup}x` : '';
    const timing = `${sprout.seconds_per_step_mean} s/step (mean; median ${sprout.seconds_per_step_median})`;
    process.stderr.write(
      `learning-speed: ${task} ${timing}, ${sprout.cpu_seconds_per_step} CPU s/step, ${sprout.speedup}x the reference${beside}\n`,
    );
  }
  return {
    benchmark: 'learning-speed',
    model:
      'mini-t5-instruct (../shared/fixtures), CPU, 1 thread, lester-reference preset, bare input cut to 64 tokens + eos, no evaluation',
    target_speedup: LEARNING_TARGETS.speedup,
    all_targets_met: LEARNING_TASKS.every((t) => tasks[t].speed_target_met),
    pytorch_here: 'missing' in baseline ? `not measured: ${baseline.missing}` : TORCH_MEASURED,
    tasks,
  };
}
