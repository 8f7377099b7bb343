/**
 * Training on a mixture of tasks (the "multi-task mixture" SPoT and its follow-ups train source prompts on).
 * Examples-proportional mixing: every task's training examples go into one pool, and the seeded DataOrder over
 * the pool draws each batch, so a task fills batches in proportion to its size. Either each task has its own prompt
 * (mixed-prompt steps: one batch loss, a gradient per prompt, each prompt with its own optimiser state; a prompt
 * whose task is absent from a batch is left as it is) or the whole mixture trains one shared prompt. Every task is
 * evaluated on its own validation data and keeps its best prompt; the checkpoint holds all prompts and optimiser
 * states, so a resumed mixture repeats the uninterrupted one bit for bit.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { libraryPath, openLibrary } from '../library/db.js';
import { claimWriter } from '../writer-lock.js';
import { findModelByPath } from '../library/models.js';
import { insertPrompt, loadSoftPrompt } from '../library/prompts.js';
import { createRun, requireRun, updateRun } from '../library/runs.js';
import { findOrInsertTask } from '../library/tasks.js';
import { SproutError } from '../errors.js';
import { loadPromptModel } from '../runtime/model.js';
import { providerRecord } from '../runtime/provider-record.js';
import { defaultThreads } from '../runtime/session.js';
import type { DevicePreference, PromptModel, SoftPrompt, TrainStepOptions } from '../runtime/types.js';
import { loadTokenizer } from '../tokenizer/index.js';
import { TrainingConfigSchema, type DataSource } from './config.js';
import { loadExamples } from './data-source.js';
import { encodeExamples, type EncodedExample } from './encode.js';
import { evaluate, metricValue, type EvalMetrics } from './evaluate.js';
import { summarizeEval, type EvalSummary } from './eval-summary.js';
import type { TrainingHooks } from './events.js';
import { initPrompt, parseInit } from './init.js';
import { createOptimizer, type OptimizerState, type PromptOptimizer } from './optim/index.js';
import { DataOrder, type DataOrderState } from './order.js';
import { CHECKPOINT_FILE, CONFIG_FILE, readJson, RESULT_FILE, runDir, writeCheckpointFile, writeFileAtomic, writePromptFile } from './run-store.js';
import { resolveTask, type ResolvedTask } from './task.js';
import { readTensorFile, requireTensor, type NamedTensor } from './tensor-file.js';
import { tenPercentMean } from './trainer.js';
import { chooseMetric } from './baselines.js';
import type { WeightWidth } from '../weights/width.js';

const base = TrainingConfigSchema.shape;

export const MixtureConfigSchema = z.strictObject({
  model: base.model,
  device: base.device,
  precision: base.precision,
  weights: base.weights,
  threads: base.threads,
  tasks: z
    .array(z.strictObject({ name: z.string().min(1), train: base.train, validation: base.validation, task: base.task }))
    .min(1),
  /** One prompt for the whole mixture instead of one per task. */
  sharedPrompt: z.boolean().default(false),
  promptLength: base.promptLength,
  init: base.init,
  optimizer: base.optimizer,
  batchSize: base.batchSize,
  steps: base.steps,
  evalEvery: base.evalEvery,
  evalBatchSize: base.evalBatchSize,
  evalLimit: base.evalLimit,
  metric: base.metric,
  seed: base.seed,
  zLoss: base.zLoss,
  dropout: base.dropout,
  checkpointEvery: base.checkpointEvery,
  bucketing: base.bucketing,
  name: base.name,
});

export type MixtureConfig = z.infer<typeof MixtureConfigSchema>;
export type MixtureConfigInput = z.input<typeof MixtureConfigSchema>;
export type MixtureRequest = { config: MixtureConfigInput } | { resume: string | number; device?: DevicePreference };

export interface MixtureTaskResult {
  task: string;
  task_id: number;
  /** The library prompt of this task (with --shared-prompt, the same prompt for every task); null when cancelled. */
  prompt_id: number | null;
  train_examples: number;
  best: EvalSummary | null;
  best_step: number | null;
}

export interface MixtureResult {
  run_id: number;
  mixture: true;
  shared_prompt: boolean;
  status: 'completed' | 'cancelled';
  steps: number;
  planned_steps: number;
  first_loss: number | null;
  last_loss: number | null;
  examples_per_s: number;
  provider: string;
  provider_reason: string | null;
  weights: WeightWidth;
  tasks: MixtureTaskResult[];
}

/** One task of the mixture, read and encoded. */
export interface MixtureTask {
  name: string;
  resolved: ResolvedTask;
  labelTargets: number[][];
  train: EncodedExample[];
  validation: EncodedExample[];
  datasetId: number | null;
  template: string;
}

/** Per prompt: the state a resumed run needs (one entry, or one per task). */
interface PromptState {
  prompt: Float32Array; // [P * d]
  optimizer: OptimizerState;
  best: { step: number; value: number; prompt: Float32Array } | null;
}

export interface MixtureState {
  step: number;
  order: DataOrderState;
  losses: number[];
  prompts: PromptState[];
  /** Per task, its evaluations so far. */
  evals: { step: number; metrics: EvalMetrics }[][];
  examplesSeen: number;
  trainSeconds: number;
}

/** Whether a run folder holds a mixture run (so `--resume` goes to runMixture). */
export function isMixtureRun(dataDir: string, runId: string): boolean {
  const file = join(runDir(dataDir, runId), CONFIG_FILE);
  return existsSync(file) && (readJson(file, 'bad-run-file') as { mixture?: boolean }).mixture === true;
}

/** Reads and encodes every task; the pool of training examples is the tasks' examples in task order. */
export async function loadMixtureTasks(config: MixtureConfig, home: string, tokenizer: Awaited<ReturnType<typeof loadTokenizer>>): Promise<MixtureTask[]> {
  const tasks: MixtureTask[] = [];
  for (const t of config.tasks) {
    const trainRaw = await loadExamples(t.train, t.task.labelColumn, home, 'train');
    const resolved = resolveTask(t.task, trainRaw.raw, trainRaw.where);
    const train = encodeExamples(tokenizer, t.task, resolved, trainRaw.raw, trainRaw.where).examples;
    if (!train.length) throw new SproutError('no-examples', `No training example of task "${t.name}" has a label.`, { file: trainRaw.where });
    const validationSource: DataSource | undefined = t.validation ?? ('dataset' in t.train ? { dataset: t.train.dataset } : undefined);
    const validationRaw = validationSource ? await loadExamples(validationSource, t.task.labelColumn, home, 'validation') : null;
    const validation = validationRaw ? encodeExamples(tokenizer, t.task, resolved, validationRaw.raw, validationRaw.where).examples.slice(0, config.evalLimit) : [];
    const labelTargets = resolved.kind === 'classification' ? tokenizer.encodeBatch(resolved.labelTexts, { maxLength: t.task.maxTargetLength }).ids : [];
    tasks.push({ name: t.name, resolved, labelTargets, train, validation, datasetId: 'dataset' in t.train ? t.train.dataset : null, template: t.task.template });
  }
  return tasks;
}

/** The step's dropout seed, as the single-task trainer draws it (one engine call per step here). */
const stepOptions = (c: MixtureConfig, step: number): TrainStepOptions => ({
  zLoss: c.zLoss || undefined,
  dropout: c.dropout || undefined,
  dropoutSeed: c.dropout ? (c.seed * 1_000_003 + step * 1009) >>> 0 : undefined,
});

export async function runMixture(request: MixtureRequest, options: TrainingHooks & { dataDir: string }): Promise<MixtureResult> {
  // Before anything slow: a second resume of a run that is training is refused at once.
  const release = 'resume' in request ? claimWriter({ dataDir: options.dataDir, kind: 'run', id: Number(request.resume) }, 'resumed') : undefined;
  try {
    return await trainMixture(request, options);
  } finally {
    release?.();
  }
}

/** A new mixture run, or the continuation of one whose writer lock the caller holds. */
async function trainMixture(request: MixtureRequest, options: TrainingHooks & { dataDir: string }): Promise<MixtureResult> {
  const home = options.dataDir;
  const resuming = 'resume' in request;
  let config: MixtureConfig;
  if (resuming) {
    const dir = runDir(home, String(request.resume));
    const done = existsSync(join(dir, RESULT_FILE)) ? (readJson(join(dir, RESULT_FILE), 'bad-run-file') as MixtureResult) : null;
    if (done && done.status !== 'cancelled') return done;
    config = parseMixture((readJson(join(dir, CONFIG_FILE), 'bad-run-file') as { config: unknown }).config, join(dir, CONFIG_FILE));
    if (request.device) config.device = request.device;
  } else {
    config = parseMixture(request.config);
    config.threads ??= defaultThreads();
  }
  const tokenizer = await loadTokenizer(config.model);
  const tasks = await loadMixtureTasks(config, home, tokenizer);
  const db = openLibrary(libraryPath(home));
  try {
    const model = await loadPromptModel(config.model, { device: config.device, threads: config.threads, precision: config.precision, weights: config.weights, cacheDir: join(home, 'cache') });
    let releaseNew: (() => void) | undefined;
    try {
      // Stored with the width `auto` resolved to, so that a resumed run computes with the same weights.
      const stored = { ...config, weights: model.weightWidth };
      const runId = resuming ? requireRun(db, Number(request.resume)).id : createRun(db, { modelPath: resolve(config.model), config: { mixture: true, ...stored }, status: 'running', plannedSteps: config.steps }).id;
      releaseNew = resuming ? undefined : claimWriter({ dataDir: home, kind: 'run', id: runId }, 'trained');
      const dir = runDir(home, String(runId));
      mkdirSync(dir, { recursive: true });
      if (!resuming) writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify({ runId, mixture: true, created: new Date().toISOString(), config: stored }, null, 2)}\n`);
      const d = model.config.dModel;
      const promptCount = config.sharedPrompt ? 1 : tasks.length;
      const optimizers = Array.from({ length: promptCount }, () => createOptimizer(config.optimizer, config.promptLength, d));
      const state = loadMixtureCheckpoint(dir, optimizers) ?? initialMixtureState(config, model, tokenizer, tasks, optimizers, (id) => loadSoftPrompt(db, id));
      updateRun(db, runId, { status: 'running', provider: providerRecord(model), weights: model.weightWidth, error: null });
      const status = await mixtureLoop(model, config, tasks, optimizers, state, dir, options);
      const result = finishMixture(db, runId, dir, config, tasks, state, status, model);
      writeFileAtomic(join(dir, RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
      return result;
    } finally {
      releaseNew?.();
      await model.dispose();
    }
  } finally {
    db.close();
  }
}

function parseMixture(value: unknown, where?: string): MixtureConfig {
  const parsed = MixtureConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SproutError('bad-training-config', `Mixture setting "${issue.path.join('.') || '(root)'}": ${issue.message}.`, { file: where });
  }
  const names = parsed.data.tasks.map((t) => t.name);
  if (new Set(names).size !== names.length) throw new SproutError('bad-training-config', `Two tasks of the mixture are both named "${names.find((n, i) => names.indexOf(n) !== i)}".`, { file: where });
  return parsed.data;
}

/** Task k's prompt starts from the init with seed + k, so a one-task mixture starts where plain training does. */
function initialMixtureState(config: MixtureConfig, model: PromptModel, tokenizer: Awaited<ReturnType<typeof loadTokenizer>>, tasks: MixtureTask[], optimizers: PromptOptimizer[], loadPrompt: (id: string) => SoftPrompt): MixtureState {
  const init = parseInit(config.init);
  const prompts = optimizers.map((optimizer, k) => ({
    prompt: initPrompt(init, {
      length: config.promptLength,
      dModel: model.config.dModel,
      vocabSize: model.config.vocabSize,
      seed: config.seed + k,
      embeddings: (ids) => model.embeddings(ids),
      encode: (t) => tokenizer.encode(t),
      eosId: tokenizer.eosId,
      labelTargets: tasks[k].labelTargets,
      loadPrompt,
    }).prompt.data,
    optimizer: optimizer.state(),
    best: null,
  }));
  const pool = tasks.flatMap((t) => t.train);
  return {
    step: 0,
    order: new DataOrder(pool.map((e) => e.input.length), config.batchSize, config.seed, config.bucketing).state(),
    losses: [],
    prompts,
    evals: tasks.map(() => []),
    examplesSeen: 0,
    trainSeconds: 0,
  };
}

async function mixtureLoop(model: PromptModel, config: MixtureConfig, tasks: MixtureTask[], optimizers: PromptOptimizer[], state: MixtureState, dir: string, hooks: TrainingHooks): Promise<'completed' | 'cancelled'> {
  const emit = hooks.onProgress ?? (() => undefined);
  const P = config.promptLength;
  const d = model.config.dModel;
  const pool = tasks.flatMap((t) => t.train);
  const taskOf = tasks.flatMap((t, k) => t.train.map(() => k));
  const order = new DataOrder(pool.map((e) => e.input.length), config.batchSize, config.seed, config.bucketing, state.order);
  const prompts: SoftPrompt[] = state.prompts.map((p) => ({ length: P, data: p.prompt }));
  const promptOf = (task: number) => (config.sharedPrompt ? 0 : task);
  const checkpoint = () => {
    state.order = order.state();
    state.prompts.forEach((p, k) => (p.optimizer = optimizers[k].state()));
    emit({ kind: 'checkpoint', step: state.step, file: saveMixtureCheckpoint(dir, state, d) });
  };
  const runEval = async () => {
    const values = new Array<number>(tasks.length);
    for (let k = 0; k < tasks.length; k++) {
      const t = tasks[k];
      if (!t.validation.length) continue;
      const metrics = await evaluate(model, prompts[promptOf(k)], t.validation, { labels: t.resolved.labels, labelTargets: t.labelTargets, batchSize: config.evalBatchSize, signal: hooks.signal });
      state.evals[k].push({ step: state.step, metrics });
      values[k] = metricValue(metrics, chooseMetric(config.metric, t.resolved.labels, t.train.map((e) => e.label)).metric);
      emit({ kind: 'eval', step: state.step, metrics, summary: summarizeEval(state.step, metrics), improved: false, warnings: [] });
    }
    // Each prompt keeps its best: a task's own metric, or for a shared prompt the mean over the tasks with validation data.
    state.prompts.forEach((p, j) => {
      const mine = config.sharedPrompt ? values.filter((v) => v !== undefined) : [values[j]].filter((v) => v !== undefined);
      if (!mine.length) return;
      const value = mine.reduce((a, b) => a + b, 0) / mine.length;
      if (!p.best || value >= p.best.value) p.best = { step: state.step, value, prompt: p.prompt.slice() };
    });
  };
  try {
    while (state.step < config.steps) {
      if (hooks.signal?.aborted) break;
      const t0 = performance.now();
      const batch = order.next();
      const seq = { inputs: batch.map((i) => pool[i].input), targets: batch.map((i) => pool[i].target) };
      let loss: number;
      if (config.sharedPrompt) {
        const r = await model.trainStep(prompts[0], seq, stepOptions(config, state.step));
        optimizers[0].step(prompts[0].data, r.gradPrompt.slice());
        loss = r.loss;
      } else {
        const promptIndex = batch.map((i) => taskOf[i]);
        const r = await model.trainStepMixed({ prompts, promptIndex }, seq, stepOptions(config, state.step));
        // A prompt whose task sat out this batch has no gradient; stepping it would still move its optimiser state.
        const present = new Set(promptIndex);
        r.gradPrompts.forEach((g, k) => present.has(k) && optimizers[k].step(prompts[k].data, g.slice()));
        loss = r.loss;
      }
      if (!Number.isFinite(loss)) throw new SproutError('training-diverged', `The training loss became ${loss} at step ${state.step + 1}.`, { hint: 'Lower the learning rate (--lr).' });
      state.step++;
      state.examplesSeen += batch.length;
      state.losses.push(Math.fround(loss));
      const seconds = (performance.now() - t0) / 1000;
      state.trainSeconds += seconds;
      emit({ kind: 'step', step: state.step, steps: config.steps, loss, lr: optimizers[0].learningRate(), gradNorm: 0, examplesPerS: batch.length / seconds, etaS: 0, epoch: order.state().epoch, latestEval: null });
      const last = state.step === config.steps;
      if (state.step % config.evalEvery === 0 || last) await runEval();
      if (state.step % config.checkpointEvery === 0 || last) checkpoint();
    }
  } catch (error) {
    if (!hooks.signal?.aborted) throw error;
  }
  if (state.step < config.steps) {
    checkpoint();
    return 'cancelled';
  }
  return 'completed';
}

function saveMixtureCheckpoint(dir: string, s: MixtureState, d: number): string {
  const P = s.prompts[0].prompt.length / d;
  const tensors: NamedTensor[] = [{ name: 'losses', shape: [s.losses.length], data: Float32Array.from(s.losses) }];
  s.prompts.forEach((p, k) => {
    tensors.push({ name: `prompt.${k}`, shape: [P, d], data: p.prompt });
    for (const [name, data] of Object.entries(p.optimizer.tensors)) tensors.push({ name: `optimizer.${k}.${name}`, shape: [data.length], data });
    if (p.best) tensors.push({ name: `best_prompt.${k}`, shape: [P, d], data: p.best.prompt });
  });
  const meta = {
    step: s.step,
    order: s.order,
    prompts: s.prompts.map((p) => ({ optimizer: { kind: p.optimizer.kind, step: p.optimizer.step, tensors: Object.keys(p.optimizer.tensors) }, best: p.best && { step: p.best.step, value: p.best.value } })),
    evals: s.evals,
    examplesSeen: s.examplesSeen,
    trainSeconds: s.trainSeconds,
  };
  return writeCheckpointFile(dir, s.step, tensors, { sprout: 'mixture-checkpoint', state: JSON.stringify(meta) });
}

function loadMixtureCheckpoint(dir: string, optimizers: PromptOptimizer[]): MixtureState | null {
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) return null;
  const f = readTensorFile(file);
  const bad = (what: string) => new SproutError('bad-checkpoint', `The mixture checkpoint is damaged: ${what}.`, { file, hint: 'Start the run again.' });
  if (f.metadata.sprout !== 'mixture-checkpoint') throw bad('it is not a Sprout mixture checkpoint');
  let meta: {
    step: number;
    order: DataOrderState;
    prompts: { optimizer: { kind: OptimizerState['kind']; step: number; tensors: string[] }; best: { step: number; value: number } | null }[];
    evals: MixtureState['evals'];
    examplesSeen: number;
    trainSeconds: number;
  };
  try {
    meta = JSON.parse(f.metadata.state);
  } catch {
    throw bad('its state is not JSON');
  }
  if (!Number.isInteger(meta?.step) || !Array.isArray(meta.prompts) || meta.prompts.length !== optimizers.length) throw bad('its state does not match the run');
  const prompts = meta.prompts.map((p, k) => {
    const tensors: Record<string, Float32Array> = {};
    for (const name of p.optimizer.tensors) tensors[name] = requireTensor(f, `optimizer.${k}.${name}`, Float32Array);
    const optimizer = { kind: p.optimizer.kind, step: p.optimizer.step, tensors };
    optimizers[k].load(optimizer);
    return { prompt: requireTensor(f, `prompt.${k}`, Float32Array), optimizer, best: p.best && { ...p.best, prompt: requireTensor(f, `best_prompt.${k}`, Float32Array) } };
  });
  return { step: meta.step, order: meta.order, losses: Array.from(requireTensor(f, 'losses', Float32Array)), prompts, evals: meta.evals, examplesSeen: meta.examplesSeen, trainSeconds: meta.trainSeconds };
}

/** Writes each kept prompt, stores it in the library with its task, and the result. */
function finishMixture(db: ReturnType<typeof openLibrary>, runId: number, dir: string, config: MixtureConfig, tasks: MixtureTask[], state: MixtureState, status: 'completed' | 'cancelled', model: PromptModel): MixtureResult {
  const d = model.config.dModel;
  const modelRow = findModelByPath(db, resolve(config.model));
  const taskIds = tasks.map((t) => {
    const verbalizer = Object.fromEntries(t.resolved.labels.map((l, i) => [l, t.resolved.labelTexts[i]]));
    return findOrInsertTask(db, { name: t.name, datasetId: t.datasetId, template: t.template, verbalizer, labelSet: t.resolved.kind === 'classification' ? t.resolved.labels : null }).id;
  });
  const bestOf = (k: number) => {
    const p = state.prompts[config.sharedPrompt ? 0 : k];
    const e = p.best && state.evals[k].find((x) => x.step === p.best!.step);
    return { best: e ? summarizeEval(e.step, e.metrics) : null, step: p.best?.step ?? null };
  };
  const promptIds = db.transaction(() => {
    if (status === 'cancelled') return state.prompts.map(() => null);
    return state.prompts.map((p, k) => {
      const kept = p.best?.prompt ?? p.prompt;
      writePromptFile(join(dir, `prompt-${k}.safetensors`), kept, d, { format: 'pt', sprout_run: String(runId), model: config.model });
      const name = config.sharedPrompt ? (config.name ?? `mixture ${runId}`) : `${config.name ?? `mixture ${runId}`} · ${tasks[k].name}`;
      return insertPrompt(db, {
        name,
        model: { id: modelRow?.id ?? null, path: resolve(config.model), summary: modelRow?.summary ?? null },
        length: config.promptLength,
        dModel: d,
        embedding: kept,
        init: config.init,
        // A shared prompt belongs to the mixture rather than one task; the run lists every task it was trained on.
        taskId: config.sharedPrompt && tasks.length > 1 ? null : taskIds[k],
        runId,
        labels: config.sharedPrompt ? null : tasks[k].resolved.kind === 'classification' ? tasks[k].resolved.labels : null,
        metrics: { mixture: tasks.map((t) => t.name), ...bestOf(k) },
        weightWidth: model.weightWidth,
      });
    });
  })();
  updateRun(db, runId, { status: status === 'cancelled' ? 'cancelled' : 'done', step: state.step, timings: { train: Number(state.trainSeconds.toFixed(3)) }, provider: providerRecord(model) });
  const round = (v: number | null) => (v === null ? null : Number(v.toFixed(6)));
  return {
    run_id: runId,
    mixture: true,
    shared_prompt: config.sharedPrompt,
    status,
    steps: state.step,
    planned_steps: config.steps,
    first_loss: round(tenPercentMean(state.losses, 'first')),
    last_loss: round(tenPercentMean(state.losses, 'last')),
    examples_per_s: state.trainSeconds > 0 ? Number((state.examplesSeen / state.trainSeconds).toFixed(2)) : 0,
    provider: model.providerDetail,
    provider_reason: model.providerReason,
    weights: model.weightWidth,
    tasks: tasks.map((t, k) => ({
      task: t.name,
      task_id: taskIds[k],
      prompt_id: promptIds[config.sharedPrompt ? 0 : k],
      train_examples: t.train.length,
      best: bestOf(k).best,
      best_step: bestOf(k).step,
    })),
  };
}
