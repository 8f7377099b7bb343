/**
 * The training loop: batches in the seeded order, micro-batches accumulated to the effective batch (weighted by
 * target tokens, so the gradient is that of the whole batch's token-mean loss, as Hugging Face computes it),
 * optional gradient-norm clipping, the optimiser step, the early task-embedding snapshot, evaluation with early
 * stopping and the best prompt kept, checkpoints, pause and cancel. Deterministic given its state: a run
 * resumed from a checkpoint repeats the uninterrupted run's numbers exactly on the same device and threads.
 */
import { SproutError } from '../errors.js';
import type { PromptModel, Seq2SeqBatch, SoftPrompt, TrainStepOptions } from '../runtime/types.js';
import { taskEmbeddingStep, type TrainingConfig } from './config.js';
import type { EncodedExample } from './encode.js';
import { promptWarnings, type MajorityBaseline } from './baselines.js';
import { evaluate, metricValue, type EvalMetricName } from './evaluate.js';
import { summarizeEval, type EvalSummary } from './eval-summary.js';
import type { TrainingHooks } from './events.js';
import type { PromptOptimizer } from './optim/index.js';
import { DataOrder } from './order.js';
import { saveCheckpoint, type TrainerState } from './run-store.js';

export interface TrainerSetup {
  model: PromptModel;
  config: TrainingConfig;
  optimizer: PromptOptimizer;
  train: EncodedExample[];
  validation: EncodedExample[];
  labels: string[];
  labelTargets: number[][];
  /** The metric the best prompt is kept by (chooseMetric). */
  metric: EvalMetricName;
  majority: MajorityBaseline | null;
  state: TrainerState;
  runDir: string;
}

export type LoopStatus = 'completed' | 'early-stopped' | 'cancelled';

/** Messages onnxruntime and the providers use when an allocation fails. */
const OOM = /out of memory|\bOOM\b|bad_alloc|failed to allocate|CUDA_ERROR_OUT_OF_MEMORY|cudaErrorMemoryAllocation|E_OUTOFMEMORY|insufficient memory/i;

export function isOutOfMemory(error: unknown): boolean {
  return error instanceof Error && OOM.test(error.message);
}

/** Mean of the first (or last) 10% of the values, at least one value. */
export function tenPercentMean(values: ArrayLike<number>, which: 'first' | 'last'): number | null {
  if (values.length === 0) return null;
  const n = Math.max(1, Math.round(values.length / 10));
  const start = which === 'first' ? 0 : values.length - n;
  let s = 0;
  for (let i = start; i < start + n; i++) s += values[i];
  return s / n;
}

/** The state of a run before its first step. */
export function initialState(config: TrainingConfig, prompt: SoftPrompt, optimizer: TrainerState['optimizer'], lengths: number[]): TrainerState {
  return {
    step: 0,
    prompt: prompt.data,
    optimizer,
    order: new DataOrder(lengths, config.batchSize, config.seed, config.bucketing).state(),
    losses: [],
    best: null,
    taskEmbedding: null,
    evals: [],
    zeroShot: null,
    sinceImprovement: 0,
    pendingEval: false,
    microBatchSize: config.microBatchSize ?? config.batchSize,
    examplesSeen: 0,
    trainSeconds: 0,
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

export async function trainLoop(setup: TrainerSetup, hooks: TrainingHooks = {}): Promise<LoopStatus> {
  const { model, config, optimizer, train, validation, state } = setup;
  const emit = hooks.onProgress ?? (() => undefined);
  const signal = hooks.signal;
  const d = model.config.dModel;
  const P = config.promptLength;
  const prompt: SoftPrompt = { length: P, data: state.prompt };
  const order = new DataOrder(train.map((e) => e.input.length), config.batchSize, config.seed, config.bucketing, state.order);
  const metric = setup.metric;
  const snapshotStep = taskEmbeddingStep(config);
  const evalSteps = config.evalSteps && new Set(config.evalSteps);
  const evalDue = (step: number) => (evalSteps ? evalSteps.has(step) : step % config.evalEvery === 0) || step === config.steps;
  const stepOptions = (step: number, micro: number): TrainStepOptions => ({
    zLoss: config.zLoss || undefined,
    dropout: config.dropout || undefined,
    dropoutSeed: config.dropout ? (config.seed * 1_000_003 + step * 1009 + micro) >>> 0 : undefined,
  });
  let latestEval: EvalSummary | null = state.evals.length ? summarizeEval(state.evals.at(-1)!.step, state.evals.at(-1)!.metrics) : null;
  let stepSecondsAvg = 0;

  const runEval = async (): Promise<boolean> => {
    if (!validation.length) return false;
    state.pendingEval = true;
    const metrics = await evaluate(model, prompt, validation, { labels: setup.labels, labelTargets: setup.labelTargets, batchSize: config.evalBatchSize, maxNewTokens: config.maxNewTokens, signal });
    const value = metricValue(metrics, metric);
    const previous = state.best ? state.evals.find((e) => e.step === state.best!.step)?.metrics : undefined;
    // Ties on the chosen metric go to greedy exact match, then to the later prompt; only a strict gain resets patience.
    const improved = !state.best || value > state.best.value || (value === state.best.value && metrics.exactMatch > (previous?.exactMatch ?? -1));
    const tied = !improved && state.best !== null && value === state.best.value && metrics.exactMatch === previous?.exactMatch;
    state.evals.push({ step: state.step, metrics });
    if (state.step === 0) state.zeroShot = metrics;
    state.pendingEval = false;
    if (improved || tied) state.best = { step: state.step, value, prompt: prompt.data.slice() };
    if (improved) state.sinceImprovement = 0;
    else state.sinceImprovement++;
    latestEval = summarizeEval(state.step, metrics);
    emit({ kind: 'eval', step: state.step, metrics, summary: latestEval, improved, warnings: promptWarnings(metrics, setup.labels, metric, setup.majority) });
    return config.patience !== undefined && state.sinceImprovement >= config.patience;
  };

  const checkpoint = () => {
    state.prompt = prompt.data;
    state.optimizer = optimizer.state();
    state.order = order.state();
    emit({ kind: 'checkpoint', step: state.step, file: saveCheckpoint(setup.runDir, state, d) });
  };

  const cancelled = (): LoopStatus => {
    checkpoint();
    return 'cancelled';
  };

  try {
    const evalFirst = state.pendingEval || (state.step === 0 && config.evalAtStart && state.evals.length === 0);
    if (evalFirst && (await runEval())) {
      checkpoint();
      return 'early-stopped';
    }
    if (state.step === 0 && state.zeroShot === null && validation.length) {
      // The zero-shot baseline: what the initial prompt scores, so that a trained prompt's score can be judged.
      state.zeroShot = await evaluate(model, prompt, validation, { labels: setup.labels, labelTargets: setup.labelTargets, batchSize: config.evalBatchSize, signal });
      emit({ kind: 'zero-shot', metrics: state.zeroShot, summary: summarizeEval(0, state.zeroShot) });
    }
    while (state.step < config.steps) {
      if (signal?.aborted) return cancelled();
      if (hooks.pause?.()) {
        emit({ kind: 'paused', step: state.step });
        while (hooks.pause() && !signal?.aborted) await sleep(100, signal);
        if (signal?.aborted) return cancelled();
        emit({ kind: 'resumed', step: state.step });
      }
      const t0 = performance.now();
      const batch = order.next().map((i) => train[i]);
      const { loss, grad } = await accumulate(model, prompt, batch, state, stepOptions, (message) => emit({ kind: 'notice', step: state.step, message }));
      if (!Number.isFinite(loss)) {
        throw new SproutError('training-diverged', `The training loss became ${loss} at step ${state.step + 1}.`, {
          hint: 'Lower the learning rate (--lr), or clip gradients; the last checkpoint holds the prompt before this step.',
        });
      }
      const gradNorm = Math.sqrt(grad.reduce((s, g) => s + g * g, 0));
      if (config.maxGradNorm !== undefined && gradNorm > config.maxGradNorm) {
        // torch.nn.utils.clip_grad_norm_: scale by max_norm / (norm + 1e-6).
        const scale = Math.fround(config.maxGradNorm / (gradNorm + 1e-6));
        for (let i = 0; i < grad.length; i++) grad[i] *= scale;
      }
      const lr = optimizer.learningRate();
      optimizer.step(prompt.data, grad);
      state.step++;
      state.examplesSeen += batch.length;
      state.losses.push(Math.fround(loss));
      const seconds = (performance.now() - t0) / 1000;
      state.trainSeconds += seconds;
      stepSecondsAvg = stepSecondsAvg ? 0.9 * stepSecondsAvg + 0.1 * seconds : seconds;
      if (state.step === snapshotStep) state.taskEmbedding = { step: state.step, prompt: prompt.data.slice() };
      emit({
        kind: 'step',
        step: state.step,
        steps: config.steps,
        loss,
        lr,
        gradNorm,
        examplesPerS: batch.length / seconds,
        etaS: stepSecondsAvg * (config.steps - state.step),
        epoch: order.state().epoch,
        latestEval,
      });
      const last = state.step === config.steps;
      const stop = evalDue(state.step) && (await runEval());
      if (state.step % config.checkpointEvery === 0 || last || stop) checkpoint();
      if (stop) return 'early-stopped';
    }
    return 'completed';
  } catch (error) {
    if (signal?.aborted) return cancelled();
    throw error;
  }
}

/**
 * One effective batch in micro-batches: the gradient of the batch's token-mean loss is Σ_k n_k·g_k / Σ_k n_k
 * (n_k target tokens of micro-batch k). On an out-of-memory error the micro-batch is halved and the step redone.
 */
async function accumulate(
  model: PromptModel,
  prompt: SoftPrompt,
  batch: EncodedExample[],
  state: TrainerState,
  options: (step: number, micro: number) => TrainStepOptions,
  notice: (message: string) => void,
): Promise<{ loss: number; grad: Float32Array }> {
  for (;;) {
    const size = Math.min(state.microBatchSize, batch.length);
    try {
      if (size === batch.length) {
        const r = await model.trainStep(prompt, toBatch(batch), options(state.step, 0));
        return { loss: r.loss, grad: r.gradPrompt.slice() };
      }
      const sum = new Float64Array(prompt.data.length);
      let tokens = 0;
      let lossSum = 0;
      for (let start = 0, k = 0; start < batch.length; start += size, k++) {
        const r = await model.trainStep(prompt, toBatch(batch.slice(start, start + size)), options(state.step, k));
        const n = r.targetTokens;
        for (let i = 0; i < sum.length; i++) sum[i] += n * r.gradPrompt[i];
        tokens += n;
        lossSum += n * r.loss;
      }
      return { loss: Math.fround(lossSum / tokens), grad: Float32Array.from(sum, (g) => g / tokens) };
    } catch (error) {
      if (!isOutOfMemory(error)) throw error;
      if (size <= 1) {
        throw new SproutError('out-of-memory', 'The device ran out of memory even for one example at a time.', {
          hint: 'Use shorter inputs (--max-input-length), a shorter prompt, or the CPU (--device cpu).',
        });
      }
      state.microBatchSize = Math.ceil(size / 2);
      notice(`Out of memory with ${size} examples per pass; continuing with ${state.microBatchSize} and accumulating gradients to keep the batch of ${batch.length}.`);
    }
  }
}

function toBatch(examples: EncodedExample[]): Seq2SeqBatch {
  return { inputs: examples.map((e) => e.input), targets: examples.map((e) => e.target) };
}
