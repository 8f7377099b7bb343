/**
 * `runTraining`: a whole training run from a config (or the id of a run to resume) to a stored prompt. Plain
 * async code with no thread assumptions, so the engine worker can call it as well as the CLI.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { SproutError } from '../errors.js';
import { claimWriter } from '../writer-lock.js';
import { dataDir as defaultDataDir } from '../paths.js';
import { readT5Config } from '../checkpoint/checkpoint.js';
import { loadPromptModel, type T5PromptModel } from '../runtime/model.js';
import { resolveWidth } from '../runtime/width-policy.js';
import { providerRecord } from '../runtime/provider-record.js';
import { memoryPlan, requireFits, suggestFit, type FitSuggestion, type MemoryPlan, type PlanInput } from '../weights/memory-plan.js';
import { reportPreparing } from '../weights/preparing.js';
import type { PrepareProgress } from '../weights/store.js';
import { oneSessionGroupAtATime, type WeightWidth } from '../weights/width.js';
import { defaultThreads } from '../runtime/session.js';
import type { DevicePreference, Precision, PromptModel, SoftPrompt } from '../runtime/types.js';
import { loadTokenizer } from '../tokenizer/index.js';
import { parseTrainingConfig, taskEmbeddingStep, type TrainingConfig, type TrainingConfigInput } from './config.js';
import { cacheKey, cachedEncoding, encodeExamples, fileSha256, type EncodedSplit } from './encode.js';
import { chooseMetric, majorityBaseline, promptWarnings, type Baselines, type MajorityBaseline, type MetricChoice } from './baselines.js';
import type { EvalMetricName } from './evaluate.js';
import { summarizeEval, type EvalSummary } from './eval-summary.js';
import type { TrainingEvent, TrainingHooks } from './events.js';
import { initName, initPrompt, parseInit } from './init.js';
import { createOptimizer } from './optim/index.js';
import { loadExamples } from './data-source.js';
import { RunRecord } from './library-record.js';
import { loadSoftPrompt, parsePromptId } from '../library/prompts.js';
import { CONFIG_FILE, loadCheckpoint, PROMPT_FILE, readJson, RESULT_FILE, runDir, TASK_EMBEDDING_FILE, writeFileAtomic, writePromptFile, type TrainerState } from './run-store.js';
import { resolveTask, type ResolvedTask } from './task.js';
import { initialState, tenPercentMean, trainLoop, type LoopStatus } from './trainer.js';

/** A new run, or the library id of a cancelled or killed run to continue. */
export type TrainRequest = { config: TrainingConfigInput } | { resume: string | number; device?: DevicePreference };

export interface RunOptions extends TrainingHooks {
  /** Where runs, caches and the library live; default: SPROUT_HOME or the platform's data folder. */
  dataDir?: string;
  /** Progress of converting the weights to their width (once per checkpoint and width) and of verifying them. */
  onPrepare?: (p: PrepareProgress) => void;
  /** The run's memory plan, before the model is loaded; a plan that does not fit stops the run with an error. */
  onPlan?: (plan: MemoryPlan) => void;
}

export interface TrainingResult {
  /** The library's run id; also the run folder's name under <data dir>/runs. */
  run_id: number;
  /** The library id of the kept prompt; null when the run was cancelled (resume it to finish). */
  prompt_id: number | null;
  status: LoopStatus;
  steps: number;
  planned_steps: number;
  /** Mean training loss of the first and of the last 10% of steps. */
  first_loss: number | null;
  last_loss: number | null;
  /** Validation metrics of the kept prompt; null without validation data. */
  best: EvalSummary | null;
  best_step: number | null;
  task_embedding_step: number | null;
  examples_per_s: number;
  provider: string;
  provider_detail: string;
  /** Why this provider and not a GPU (providers passed over, a graph a GPU refused); null when none was. */
  provider_reason: string | null;
  /** The compute dtype the run used: fp16 and bf16 runs keep the prompt, its gradient and the loss in float32. */
  precision: Exclude<Precision, 'auto'>;
  /** Width of the frozen weights it trained with. */
  weights: WeightWidth;
  prompt_file: string;
  task_embedding_file: string | null;
  /** Data notes, then the warnings. */
  notes: string[];
  /** The metric the best prompt was kept by, and why (`auto` explains what it saw). */
  metric: EvalMetricName;
  metric_reason: string;
  baselines: Baselines;
  /** Plain warnings about the kept prompt: predictions collapsed to one label, or not above the majority baseline. */
  warnings: string[];
}

/** What config.json holds besides the config: what was resolved when the run started. */
interface StoredRun {
  runId: number;
  created: string;
  config: TrainingConfig;
  task: { kind: ResolvedTask['kind']; labels: string[]; labelTexts: string[]; labelTargets: number[][] };
  init: { name: string; vocabIds: number[]; notes: string[] };
}

export async function runTraining(request: TrainRequest, options: RunOptions = {}): Promise<TrainingResult> {
  const home = options.dataDir ?? defaultDataDir();
  if (!('resume' in request)) {
    const config = parseTrainingConfig(request.config);
    config.threads ??= defaultThreads();
    return trainWith(config, null, home, options);
  }
  const dir = /^[1-9]\d*$/.test(String(request.resume)) ? runDir(home, String(request.resume)) : '';
  if (!dir || !existsSync(join(dir, CONFIG_FILE))) {
    throw new SproutError('unknown-run', `There is no run ${request.resume}.`, { file: dir || undefined, hint: 'Give the run_id a previous `sprout train` printed.' });
  }
  // Before anything slow: a second resume of a run that is training is refused at once.
  const release = claimWriter({ dataDir: home, kind: 'run', id: Number(request.resume) }, 'resumed');
  try {
    const done = existsSync(join(dir, RESULT_FILE)) ? (readJson(join(dir, RESULT_FILE), 'bad-run-file') as TrainingResult) : null;
    if (done && done.status !== 'cancelled') return done;
    const stored = readJson(join(dir, CONFIG_FILE), 'bad-run-file') as StoredRun;
    const config = parseTrainingConfig(stored.config, join(dir, CONFIG_FILE));
    if (request.device) config.device = request.device;
    return await trainWith(config, Number(request.resume), home, options);
  } finally {
    release();
  }
}

/** A new run (`resumeId` null) or the continuation of one whose writer lock the caller holds. */
async function trainWith(config: TrainingConfig, resumeId: number | null, home: string, options: RunOptions): Promise<TrainingResult> {
  const resuming = resumeId !== null;
  const { tokenizer, resolved, train, validation } = await loadRunData(config, home);
  const plan = await planFor(config, train, validation);
  options.onPlan?.(plan);
  if (!plan.fits) requirePlan(config, train, validation, plan);
  const validationExamples = validation ? validation.examples.slice(0, config.evalLimit) : [];
  const labelTargets = tokenizer.encodeBatch(resolved.labelTexts, { maxLength: config.task.maxTargetLength }).ids;

  const record = resuming ? RunRecord.open(home, resumeId) : RunRecord.create(home, config, resolved);
  const runId = record.id;
  const dir = runDir(home, String(runId));
  const emit = (e: TrainingEvent) => {
    record.onEvent(e);
    options.onProgress?.(e);
  };
  // A resumed run's lock is its caller's; a new one is claimed as soon as it has an id.
  const release = resuming ? undefined : claimWriter({ dataDir: home, kind: 'run', id: runId }, 'trained');
  try {
    return await trainRun();
  } catch (error) {
    record.fail(error);
    throw error;
  } finally {
    release?.();
    record.close();
  }

  async function trainRun(): Promise<TrainingResult> {
  // As an event too: the run is recorded already, so a host can show a conversion of minutes as this run starting.
  const asEvent = reportPreparing(plan.width, (p) => emit({ ...p, runId }));
  const onPrepare = (p: PrepareProgress) => {
    options.onPrepare?.(p);
    asEvent(p);
  };
  const model = await loadPromptModel(config.model, { device: config.device, threads: config.threads, precision: config.precision, weights: config.weights, cacheDir: join(home, 'cache'), onPrepare });
  try {
    const d = model.config.dModel;
    const initSpec = parseInit(config.init);
    const init = initPrompt(initSpec, {
      length: config.promptLength,
      dModel: d,
      vocabSize: model.config.vocabSize,
      seed: config.seed,
      embeddings: (ids) => model.embeddings(ids),
      encode: (t) => tokenizer.encode(t),
      eosId: tokenizer.eosId,
      labelTargets,
      loadPrompt: (id) => loadSoftPrompt(record.library, id),
    });
    // The optimiser steps the prompt in place: keep the start for the library record.
    const initial = init.prompt.data.slice();
    mkdirSync(dir, { recursive: true });
    if (!resuming) {
      const stored: StoredRun = {
        runId,
        created: new Date().toISOString(),
        config: { ...config, weights: model.weightWidth },
        task: { kind: resolved.kind, labels: resolved.labels, labelTexts: resolved.labelTexts, labelTargets },
        init: { name: initName(initSpec), vocabIds: init.vocabIds, notes: init.notes },
      };
      writeFileAtomic(join(dir, CONFIG_FILE), `${JSON.stringify(stored, null, 2)}\n`);
    }
    const optimizer = createOptimizer(config.optimizer, config.promptLength, d);
    const checkpoint = loadCheckpoint(dir);
    const state: TrainerState = checkpoint ?? initialState(config, init.prompt, optimizer.state(), train.examples.map((e) => e.input.length));
    if (checkpoint) optimizer.load(checkpoint.optimizer);

    const notes = [...init.notes, ...dataNotes('training', train), ...(validation ? dataNotes('validation', validation) : [])];
    const classification = resolved.kind === 'classification';
    const metric = chooseMetric(config.metric, classification ? resolved.labels : [], train.examples.map((e) => e.label));
    const majority = classification ? majorityBaseline(resolved.labels, validationExamples.map((e) => e.label)) : null;
    emit({
      kind: 'started',
      runId,
      provider: model.provider,
      providerDetail: model.providerDetail,
      providerReason: model.providerReason,
      weights: model.weightWidth,
      steps: config.steps,
      resumedAt: checkpoint ? checkpoint.step : null,
      trainExamples: train.examples.length,
      validationExamples: validationExamples.length,
      labels: resolved.labels,
      notes,
      metric,
      majority,
    });
    const status = await trainLoop(
      { model, config, optimizer, train: train.examples, validation: validationExamples, labels: resolved.labels, labelTargets: classification ? labelTargets : [], metric: metric.metric, majority, state, runDir: dir },
      { ...options, onProgress: emit },
    );
    const result = finish(dir, runId, config, state, status, d, model, notes, { metric, majority, labels: classification ? resolved.labels : [] });
    result.prompt_id = record.finish({
      status,
      state,
      config,
      modelConfig: model.config,
      resolved,
      initName: initName(initSpec),
      initEmbedding: initial,
      parentId: initSpec.kind === 'prompt' ? parsePromptId(initSpec.id) : null,
      metrics: {
        best: result.best,
        best_step: result.best_step,
        first_loss: result.first_loss,
        last_loss: result.last_loss,
        steps: result.steps,
        metric: result.metric,
        metric_reason: result.metric_reason,
        baselines: result.baselines,
        warnings: result.warnings,
      },
      provider: providerRecord(model),
      weightWidth: model.weightWidth,
    });
    writeFileAtomic(join(dir, RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
    return result;
  } finally {
    await model.dispose();
  }
  }
}

function dataNotes(which: string, s: EncodedSplit): string[] {
  const notes: string[] = [];
  if (s.truncatedInputs) notes.push(`${s.truncatedInputs} ${which} input(s) were longer than the input limit and were cut.`);
  if (s.truncatedTargets) notes.push(`${s.truncatedTargets} ${which} target(s) were longer than the target limit and were cut.`);
  if (s.skipped) notes.push(`${s.skipped} ${which} record(s) have no label and were left out.`);
  return notes;
}

function finish(
  dir: string,
  runId: number,
  config: TrainingConfig,
  state: TrainerState,
  status: LoopStatus,
  d: number,
  model: T5PromptModel,
  notes: string[],
  judged: { metric: MetricChoice; majority: MajorityBaseline | null; labels: string[] },
): TrainingResult {
  const kept = state.best?.prompt ?? state.prompt;
  const keptStep = state.best?.step ?? state.step;
  const promptFile = join(dir, PROMPT_FILE);
  const sha = createHash('sha256').update(new Uint8Array(kept.buffer, kept.byteOffset, kept.byteLength)).digest('hex');
  writePromptFile(promptFile, kept, d, { format: 'pt', sprout_run: String(runId), step: String(keptStep), model: config.model, sha256: sha });
  let taskEmbeddingFile: string | null = null;
  if (state.taskEmbedding) {
    taskEmbeddingFile = join(dir, TASK_EMBEDDING_FILE);
    writePromptFile(taskEmbeddingFile, state.taskEmbedding.prompt, d, { format: 'pt', sprout_run: String(runId), step: String(state.taskEmbedding.step), model: config.model });
  }
  const bestEval = state.best ? state.evals.find((e) => e.step === state.best!.step) : undefined;
  const warnings = bestEval ? promptWarnings(bestEval.metrics, judged.labels, judged.metric.metric, judged.majority) : [];
  const result: TrainingResult = {
    run_id: runId,
    prompt_id: null,
    status,
    steps: state.step,
    planned_steps: config.steps,
    first_loss: round(tenPercentMean(state.losses, 'first')),
    last_loss: round(tenPercentMean(state.losses, 'last')),
    best: bestEval ? summarizeEval(bestEval.step, bestEval.metrics) : null,
    best_step: state.best?.step ?? null,
    task_embedding_step: state.taskEmbedding?.step ?? (state.step >= taskEmbeddingStep(config) ? taskEmbeddingStep(config) : null),
    examples_per_s: state.trainSeconds > 0 ? Number((state.examplesSeen / state.trainSeconds).toFixed(2)) : 0,
    provider: model.provider,
    provider_detail: model.providerDetail,
    provider_reason: model.providerReason,
    precision: model.precision,
    weights: model.weightWidth,
    prompt_file: promptFile,
    task_embedding_file: taskEmbeddingFile,
    notes: [...notes, ...warnings],
    metric: judged.metric.metric,
    metric_reason: judged.metric.reason,
    baselines: { majority: judged.majority, zero_shot: state.zeroShot ? summarizeEval(0, state.zeroShot) : null },
    warnings,
  };
  return result;
}

const round = (v: number | null) => (v === null ? null : Number(v.toFixed(6)));

/** Tokenizer, task and encoded splits of a run (token caches under <home>/cache/tokens). */
async function loadRunData(config: TrainingConfig, home: string) {
  const tokenizer = await loadTokenizer(config.model);
  const tokenizerHash = await fileSha256(tokenizer.source);
  const trainRaw = await loadExamples(config.train, config.task.labelColumn, home, 'train');
  const resolved = resolveTask(config.task, trainRaw.raw, trainRaw.where);
  const encodeSplit = (loaded: typeof trainRaw): EncodedSplit =>
    cachedEncoding(join(home, 'cache', 'tokens'), cacheKey({ content: loaded.content, task: config.task, resolved, tokenizer: tokenizerHash }), () =>
      encodeExamples(tokenizer, config.task, resolved, loaded.raw, loaded.where),
    ).split;
  const train = encodeSplit(trainRaw);
  if (train.examples.length === 0) throw new SproutError('no-examples', 'No training example has a label.', { file: trainRaw.where });
  const validationSource = config.validation ?? ('dataset' in config.train ? { dataset: config.train.dataset } : undefined);
  const validationRaw = validationSource ? await loadExamples(validationSource, config.task.labelColumn, home, 'validation') : null;
  const validation = validationRaw ? encodeSplit(validationRaw) : null;
  return { tokenizer, resolved, train, validation };
}

function planInput(config: TrainingConfig, width: WeightWidth, train: EncodedSplit, validation: EncodedSplit | null): PlanInput {
  const longest = (split: EncodedSplit, f: (e: EncodedSplit['examples'][number]) => number) => split.examples.reduce((m, e) => Math.max(m, f(e)), 1);
  return {
    config: readT5Config(config.model),
    width,
    batch: config.microBatchSize ?? config.batchSize,
    inputTokens: longest(train, (e) => e.input.length),
    promptLength: config.promptLength,
    targetTokens: longest(train, (e) => e.target.length),
    sessions: validation && !oneSessionGroupAtATime(width) ? 2 : 1,
    optimizerValuesPerParameter: config.optimizer.kind === 'adafactor' ? 0 : 2,
  };
}

async function planFor(config: TrainingConfig, train: EncodedSplit, validation: EncodedSplit | null): Promise<MemoryPlan> {
  return memoryPlan(planInput(config, await resolveWidth(config.weights, config.device), train, validation));
}

function requirePlan(config: TrainingConfig, train: EncodedSplit, validation: EncodedSplit | null, plan: MemoryPlan): void {
  requireFits(planInput(config, plan.width, train, validation), plan.availableBytes);
}

/** The memory plan of a new run, without starting it (`sprout train --dry-run`). */
export async function planTraining(input: TrainingConfigInput, options: RunOptions = {}): Promise<MemoryPlan> {
  return (await adviseTraining(input, options)).plan;
}

/** The memory plan of a new run and, when it does not fit, what would (the app's Train step). */
export async function adviseTraining(input: TrainingConfigInput, options: RunOptions = {}): Promise<{ plan: MemoryPlan; inputTokens: number; suggestion: FitSuggestion | null }> {
  const config = parseTrainingConfig(input);
  const { train, validation } = await loadRunData(config, options.dataDir ?? defaultDataDir());
  const plan = await planFor(config, train, validation);
  const planned = planInput(config, plan.width, train, validation);
  return { plan, inputTokens: planned.inputTokens, suggestion: plan.fits ? null : suggestFit(planned, plan.availableBytes) };
}
