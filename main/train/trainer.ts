/**
 * The training loop, one for every run: a single task is a mixture of one. Examples-proportional mixing: every
 * task's training examples go into one pool and the seeded DataOrder over the pool draws each batch, so a task fills
 * batches in proportion to its size. Each step (train-step.ts) trains one prompt shared by all tasks, or a prompt per
 * task in mixed batches; then the early task-embedding snapshot, evaluation with early stopping and each prompt's
 * best kept (eval-round.ts), checkpoints, pause and cancel. Deterministic given its state: a run resumed from a
 * checkpoint repeats the uninterrupted run's numbers exactly on the same device and threads.
 */
import type { PromptModel, SoftPrompt } from '../runtime/types.js';
import { taskEmbeddingStep, type RunSettings } from './config.js';
import { evaluationRound, latestEval, restoredZeroShot, zeroShotRound, type Evaluator, type LoopTask } from './eval-round.js';
import type { TrainingEvent, TrainingHooks } from './events.js';
import type { PromptOptimizer } from './optim/index.js';
import { DataOrder } from './order.js';
import { saveCheckpoint } from './run-store.js';
import { optimizerStep, type Stepper } from './train-step.js';
import type { TrainerState } from './trainer-state.js';

export type { LoopTask } from './eval-round.js';

export interface TrainerSetup {
  model: PromptModel;
  config: RunSettings;
  /** One per prompt: one shared by every task, or one per task. */
  optimizers: PromptOptimizer[];
  tasks: LoopTask[];
  state: TrainerState;
  runDir: string;
}

export type LoopStatus = 'completed' | 'early-stopped' | 'cancelled';

/** Mean of the first (or last) 10% of the values, at least one value. */
export function tenPercentMean(values: ArrayLike<number>, which: 'first' | 'last'): number | null {
  if (values.length === 0) return null;
  const n = Math.max(1, Math.round(values.length / 10));
  const start = which === 'first' ? 0 : values.length - n;
  let s = 0;
  for (let i = start; i < start + n; i++) s += values[i];
  return s / n;
}

/** The state of a run before its first step: `prompts` are the initial prompts, one per optimiser. */
export function initialState(
  config: RunSettings,
  prompts: Float32Array[],
  optimizers: PromptOptimizer[],
  tasks: Pick<LoopTask, 'train'>[],
): TrainerState {
  return {
    step: 0,
    order: new DataOrder(
      pool(tasks).map((e) => e.input.length),
      config.batchSize,
      config.seed,
      config.bucketing,
    ).state(),
    losses: [],
    prompts: prompts.map((data, k) => ({ data, optimizer: optimizers[k].state(), best: null, taskEmbedding: null })),
    evals: [],
    zeroShot: tasks.map(() => null),
    sinceImprovement: 0,
    pendingEval: false,
    microBatchSize: config.microBatchSize ?? config.batchSize,
    examplesSeen: 0,
    trainSeconds: 0,
    lossScale: null,
  };
}

/** The tasks' training examples in task order: what the data order draws batches from. */
function pool(tasks: Pick<LoopTask, 'train'>[]) {
  return tasks.flatMap((t) => t.train);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/** What the loop's parts share for one run. */
interface Loop {
  setup: TrainerSetup;
  hooks: TrainingHooks;
  emit: (e: TrainingEvent) => void;
  order: DataOrder;
  stepper: Stepper;
  evaluator: Evaluator;
  /** The pooled training examples the order indexes. */
  examples: LoopTask['train'];
  /** Per pooled example, the prompt it trains; null with one prompt. */
  promptIndex: number[] | null;
  /** Seconds of the latest steps after the first of this session, which also builds the sessions and warms up. */
  stepTimes: number[];
  warmedUp: boolean;
}

/** The time estimate is the median of this many latest step times: a rebuild after an evaluation does not swing it. */
const ESTIMATE_WINDOW = 25;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** A warmed-up step's typical time; null until a step after the first has run (the first one is 3–4× slower). */
function timeStep(loop: Loop, seconds: number): number | null {
  if (!loop.warmedUp) {
    loop.warmedUp = true;
    return null;
  }
  loop.stepTimes.push(seconds);
  if (loop.stepTimes.length > ESTIMATE_WINDOW) loop.stepTimes.shift();
  return median(loop.stepTimes);
}

function startLoop(setup: TrainerSetup, hooks: TrainingHooks): Loop {
  const { model, config, optimizers, tasks, state } = setup;
  const emit = hooks.onProgress ?? (() => undefined);
  const prompts: SoftPrompt[] = state.prompts.map((p) => ({ length: config.promptLength, data: p.data }));
  const examples = pool(tasks);
  return {
    setup,
    hooks,
    emit,
    order: new DataOrder(
      examples.map((e) => e.input.length),
      config.batchSize,
      config.seed,
      config.bucketing,
      state.order,
    ),
    stepper: { model, config, prompts, optimizers, state, notice: (message) => emit({ kind: 'notice', step: state.step, message }) },
    evaluator: { model, config, tasks, prompts, state, emit, signal: hooks.signal },
    examples,
    promptIndex: prompts.length === 1 ? null : tasks.flatMap((t, k) => t.train.map(() => k)),
    stepTimes: [],
    warmedUp: false,
  };
}

function checkpoint(loop: Loop): void {
  const { state, optimizers, model, runDir } = loop.setup;
  state.prompts.forEach((p, k) => (p.optimizer = optimizers[k].state()));
  state.order = loop.order.state();
  loop.emit({ kind: 'checkpoint', step: state.step, file: saveCheckpoint(runDir, state, model.config.dModel) });
}

/** Waits while the run is paused; false when it was cancelled meanwhile. */
async function holdWhilePaused(loop: Loop): Promise<boolean> {
  const { pause, signal } = loop.hooks;
  if (!pause?.()) return true;
  const step = loop.setup.state.step;
  loop.emit({ kind: 'paused', step });
  while (pause() && !signal?.aborted) await sleep(100, signal);
  if (signal?.aborted) return false;
  loop.emit({ kind: 'resumed', step });
  return true;
}

/** Evaluations before the first step (or the one a cancel interrupted); true when they stop the run. */
async function evaluateFirst(loop: Loop): Promise<boolean> {
  const { state, config } = loop.setup;
  const again = state.pendingEval || (state.step === 0 && config.evalAtStart && state.evals.length === 0);
  if (again && (await evaluationRound(loop.evaluator))) return true;
  if (state.step === 0) await zeroShotRound(loop.evaluator);
  else restoredZeroShot(loop.evaluator);
  return false;
}

function evalDue(config: RunSettings, step: number): boolean {
  return (config.evalSteps ? config.evalSteps.includes(step) : step % config.evalEvery === 0) || step === config.steps;
}

/** One step with its bookkeeping, evaluation and checkpoint; true when early stopping ends the run. */
async function step(loop: Loop): Promise<boolean> {
  const { config, state } = loop.setup;
  const t0 = performance.now();
  const batch = loop.order.next();
  const { loss, gradNorm, lr } = await optimizerStep(loop.stepper, {
    examples: batch.map((i) => loop.examples[i]),
    promptIndex: loop.promptIndex && batch.map((i) => loop.promptIndex![i]),
  });
  const lossScale = state.lossScale && { scale: state.lossScale.scale, skipped: [...state.lossScale.skipped] };
  state.step++;
  state.examplesSeen += batch.length;
  state.losses.push(Math.fround(loss));
  const seconds = (performance.now() - t0) / 1000;
  state.trainSeconds += seconds;
  const stepS = timeStep(loop, seconds);
  if (state.step === taskEmbeddingStep(config))
    for (const p of state.prompts) p.taskEmbedding = { step: state.step, prompt: p.data.slice() };
  const etaS = stepS === null ? null : stepS * (config.steps - state.step);
  loop.emit({
    kind: 'step',
    step: state.step,
    steps: config.steps,
    loss,
    lr,
    gradNorm,
    examplesPerS: batch.length / seconds,
    stepS,
    etaS,
    epoch: loop.order.state().epoch,
    latestEval: latestEval(state),
    lossScale,
  });
  const stop = evalDue(config, state.step) && (await evaluationRound(loop.evaluator));
  if (state.step % config.checkpointEvery === 0 || state.step === config.steps || stop) checkpoint(loop);
  return stop;
}

export async function trainLoop(setup: TrainerSetup, hooks: TrainingHooks = {}): Promise<LoopStatus> {
  const loop = startLoop(setup, hooks);
  const { state, config } = setup;
  const cancelled = (): LoopStatus => (checkpoint(loop), 'cancelled');
  try {
    if (await evaluateFirst(loop)) {
      checkpoint(loop);
      return 'early-stopped';
    }
    while (state.step < config.steps) {
      if (hooks.signal?.aborted || !(await holdWhilePaused(loop))) return cancelled();
      if (await step(loop)) return 'early-stopped';
    }
    return 'completed';
  } catch (error) {
    if (hooks.signal?.aborted) return cancelled();
    throw error;
  }
}
