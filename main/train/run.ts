/**
 * `runTraining`: a whole training run, single task or mixture, from a config (or the id of a run to resume) to its
 * stored prompts. Plain async code with no thread assumptions, so the engine worker can call it as well as the CLI.
 * A single task trains as a mixture of one; only its summary keeps the single-task shape.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { diskFullError, isDiskFull } from '../disk-full.js';
import { SPLITS } from '../choices.js';
import { SproutError } from '../errors.js';
import { dataDir as defaultDataDir } from '../paths.js';
import { loadPromptModel, type T5PromptModel } from '../runtime/model.js';
import { providerRecord } from '../runtime/provider-record.js';
import { defaultThreads } from '../runtime/session.js';
import type { DevicePreference } from '../runtime/types.js';
import type { FitSuggestion, MemoryPlan } from '../weights/memory-plan.js';
import { suggestFit } from '../weights/memory-plan.js';
import { reportPreparing } from '../weights/preparing.js';
import type { PrepareProgress } from '../weights/store.js';
import { claimWriter } from '../writer-lock.js';
import {
  isProbeRun,
  parseMixtureConfig,
  parseTrainingConfig,
  toMixture,
  type MixtureConfig,
  type MixtureConfigInput,
  type TrainingConfig,
  type TrainingConfigInput,
} from './config.js';
import type { TrainingEvent, TrainingHooks } from './events.js';
import { checkInit, initName, initPrompt, parseInit, type InitResult } from './init.js';
import { createOptimizer } from './optim/index.js';
import { dataNotes, loadRunData, loopTask, planRun, requirePlan, taskStart, type RunData, type RunTask } from './run-data.js';
import type { LedgerTask, RunLedger, RunLibrary } from './run-ledger.js';
import {
  judgeTask,
  keptPrompts,
  mixtureResult,
  trainingResult,
  writeKeptPrompts,
  type MixtureResult,
  type RunEnd,
  type TrainingResult,
} from './run-result.js';
import {
  CONFIG_FILE,
  loadCheckpoint,
  readJson,
  readStoredRun,
  RESULT_FILE,
  runDir,
  writeFileAtomic,
  writeStoredRun,
  type StoredRun,
} from './run-store.js';
import { lossScaleOn, withLossScale } from './loss-scale.js';
import { initialState, trainLoop, type LoopStatus, type LoopTask } from './trainer.js';
import type { TestMetrics } from './baselines.js';
import { testRound } from './eval-round.js';
import type { TrainerState } from './trainer-state.js';
import { badCheckpoint } from './trainer-state.js';

export type { MixtureResult, MixtureTaskResult, TrainingResult } from './run-result.js';

/** A new single-task run, a new mixture, or the library id of a cancelled or killed run to continue. */
export type TrainRequest =
  { config: TrainingConfigInput } | { mixture: MixtureConfigInput } | { resume: string | number; device?: DevicePreference };

export interface RunOptions extends TrainingHooks {
  /** Where runs, caches and the library live; default: SPROUT_HOME or the platform's data folder. */
  dataDir?: string;
  /** Progress of converting the weights to their width (once per checkpoint and width) and of verifying them. */
  onPrepare?: (p: PrepareProgress) => void;
  /** The run's memory plan, before the model is loaded; a plan that does not fit stops the run with an error. */
  onPlan?: (plan: MemoryPlan) => void;
  /** Where imported datasets are read and the run is recorded: libraryRuns(dataDir) from main/library/run-records.ts. */
  library: RunLibrary;
}

/** A run as asked: a single task keeps its own config (what the library and config.json store), a mixture its. */
type RunSpec = { single: TrainingConfig } | { mixture: MixtureConfig };

export function runTraining(request: { config: TrainingConfigInput }, options: RunOptions): Promise<TrainingResult>;
export function runTraining(request: { mixture: MixtureConfigInput }, options: RunOptions): Promise<MixtureResult>;
export function runTraining(request: TrainRequest, options: RunOptions): Promise<TrainingResult | MixtureResult>;
export async function runTraining(request: TrainRequest, options: RunOptions): Promise<TrainingResult | MixtureResult> {
  const home = options.dataDir ?? defaultDataDir();
  if ('config' in request || 'mixture' in request) {
    const spec: RunSpec =
      'config' in request ? { single: parseTrainingConfig(request.config) } : { mixture: parseMixtureConfig(request.mixture) };
    const settings = 'single' in spec ? spec.single : spec.mixture;
    settings.threads ??= defaultThreads();
    return trainWith(spec, null, home, options);
  }
  const dir = /^[1-9]\d*$/.test(String(request.resume)) ? runDir(home, String(request.resume)) : '';
  if (!dir || !existsSync(join(dir, CONFIG_FILE))) {
    throw new SproutError('unknown-run', `There is no run ${request.resume}.`, {
      file: dir || undefined,
      hint: 'Give the run_id a previous `sprout train` printed.',
    });
  }
  // Before anything slow: a second resume of a run that is training is refused at once.
  const release = claimWriter({ dataDir: home, kind: 'run', id: Number(request.resume) }, 'resumed');
  try {
    const done = existsSync(join(dir, RESULT_FILE))
      ? (readJson(join(dir, RESULT_FILE), 'bad-run-file') as TrainingResult | MixtureResult)
      : null;
    if (done && done.status !== 'cancelled') return done;
    const stored = readStoredRun(dir);
    const where = join(dir, CONFIG_FILE);
    const spec: RunSpec = stored.mixture
      ? { mixture: parseMixtureConfig(stored.config, where) }
      : { single: parseTrainingConfig(stored.config, where) };
    if (request.device) ('single' in spec ? spec.single : spec.mixture).device = request.device;
    return await trainWith(spec, Number(request.resume), home, options);
  } finally {
    release();
  }
}

function ledgerTask(t: RunTask): LedgerTask {
  const { resolved } = t;
  const verbalizer = Object.fromEntries(resolved.labels.map((l, i) => [l, resolved.labelTexts[i]]));
  return {
    name: t.spec.name,
    datasetId: 'dataset' in t.spec.train ? t.spec.train.dataset : null,
    template: t.spec.task.template,
    verbalizer,
    labelSet: resolved.kind === 'classification' ? resolved.labels : null,
  };
}

/** A new run (`resumeId` null) or the continuation of one whose writer lock the caller holds. */
async function trainWith(
  spec: RunSpec,
  resumeId: number | null,
  home: string,
  options: RunOptions,
): Promise<TrainingResult | MixtureResult> {
  const { library } = options;
  const config = 'single' in spec ? toMixture(spec.single, library.sourceName(spec.single.train)) : spec.mixture;
  const data = await loadRunData(config, { dataDir: home, library });
  if (resumeId !== null) refuseChangedData(runDir(home, String(resumeId)), data.tasks);
  const { plan, input } = await planChecked(config, data.tasks, library);
  options.onPlan?.(plan);
  requirePlan(input, plan);
  const tasks = data.tasks.map(ledgerTask);
  const stored = 'single' in spec ? spec.single : { mixture: true, ...spec.mixture };
  const ledger =
    resumeId !== null
      ? library.open(resumeId, tasks)
      : library.create({ config: stored, modelPath: config.model, plannedSteps: config.steps, tasks });
  // A resumed run's lock is its caller's; a new one is claimed as soon as it has an id.
  const release = resumeId !== null ? undefined : claimWriter({ dataDir: home, kind: 'run', id: ledger.id }, 'trained');
  try {
    const model = await loadModel(config, plan, ledger, home, options);
    try {
      return await trainLoaded(
        { spec, config, data, ledger, model, dir: runDir(home, String(ledger.id)), resuming: resumeId !== null },
        options,
      );
    } finally {
      await model.dispose();
    }
  } catch (thrown) {
    const error = isDiskFull(thrown) ? runOutOfRoom(thrown, home, ledger.id) : thrown;
    try {
      ledger.fail(error);
    } catch {
      // A full disk may refuse this write too: the run then reads as interrupted, which resumes the same way.
    }
    throw error;
  } finally {
    release?.();
    ledger.close();
  }
}

function runOutOfRoom(error: unknown, home: string, runId: number) {
  const path = (error as NodeJS.ErrnoException).path;
  return diskFullError(path ? dirname(path) : home, `run ${runId}`, {
    hint: `Free some space there, then continue with \`sprout train --resume ${runId}\` (its last checkpoint is kept).`,
    uiHint: 'Free some space there, then resume the run (its last checkpoint is kept).',
  });
}

/** The model at the run's width; its conversion is reported as an event too, naming the run already recorded. */
function loadModel(config: MixtureConfig, plan: MemoryPlan, ledger: RunLedger, home: string, options: RunOptions): Promise<T5PromptModel> {
  const asEvent = reportPreparing(plan.width, (p) => emit(ledger, options, { ...p, runId: ledger.id }));
  const onPrepare = (p: PrepareProgress) => {
    options.onPrepare?.(p);
    asEvent(p);
  };
  return loadPromptModel(config.model, {
    device: config.device,
    threads: config.threads,
    precision: config.precision,
    weights: config.weights,
    cacheDir: join(home, 'cache'),
    onPrepare,
  });
}

function emit(ledger: RunLedger, options: RunOptions, e: TrainingEvent): void {
  ledger.onEvent(e);
  options.onProgress?.(e);
}

interface LoadedRun {
  spec: RunSpec;
  config: MixtureConfig;
  data: RunData;
  ledger: RunLedger;
  model: T5PromptModel;
  dir: string;
  resuming: boolean;
}

/** Prompt k starts from the init with seed + k and task k's labels, so a mixture of one starts where a single task does. */
function initPrompts(run: LoadedRun, count: number): InitResult[] {
  const { config, model, data } = run;
  const spec = parseInit(config.init);
  return Array.from({ length: count }, (_, k) =>
    initPrompt(spec, {
      length: config.promptLength,
      dModel: model.config.dModel,
      vocabSize: model.config.vocabSize,
      seed: config.seed + k,
      embeddings: (ids) => model.embeddings(ids),
      encode: (t) => data.tokenizer.encode(t),
      eosId: data.tokenizer.eosId,
      labelTargets: data.tasks[k].labelTargets,
      loadPrompt: (id) => run.ledger.loadPrompt(id),
    }),
  );
}

/**
 * A resumed run reads its data again from where the config says; a file changed since (edited, replaced, another
 * file under its name) would mix two datasets into one run without a word. Runs that stored no contents pass.
 */
function refuseChangedData(dir: string, tasks: RunTask[]): void {
  // Runs stored before config.json listed its tasks (format 1 checkpoints) have nothing to compare.
  const stored = readStoredRun(dir).tasks ?? [];
  tasks.forEach((task, i) => {
    const before = stored[i]?.contents;
    if (!before) return;
    const changed = SPLITS.find((split) => before[split] !== task.contents[split]);
    if (changed === undefined) return;
    const source = changed === 'train' ? task.spec.train : task.spec[changed];
    const named = source && 'file' in source ? source.file : `the dataset of task "${task.spec.name}"`;
    throw new SproutError(
      'run-data-changed',
      `The ${changed} data (${named}) is not what this run started with: resuming would train on other data than its first steps did.`,
      { hint: 'Put the file back as it was to resume, or start a new run on the data as it is now.' },
    );
  });
}

/** config.json of a new run: as asked, with the weight width `auto` resolved to, and each task and init as resolved. */
function storeRun(run: LoadedRun, inits: InitResult[]): void {
  const { spec, model, data } = run;
  const config = 'single' in spec ? { ...spec.single, weights: model.weightWidth } : { ...spec.mixture, weights: model.weightWidth };
  const stored: StoredRun = {
    runId: run.ledger.id,
    created: new Date().toISOString(),
    ...('mixture' in spec ? { mixture: true as const } : {}),
    // With the width `auto` resolved to, so that a resumed run computes with the same weights.
    config,
    tasks: data.tasks.map((t) => ({
      name: t.spec.name,
      kind: t.resolved.kind,
      labels: t.resolved.labels,
      labelTexts: t.resolved.labelTexts,
      labelTargets: t.labelTargets,
      contents: t.contents,
    })),
    init: inits.map((i) => ({ name: initName(parseInit(run.config.init)), vocabIds: i.vocabIds, notes: i.notes })),
  };
  writeStoredRun(run.dir, stored);
}

async function trainLoaded(run: LoadedRun, options: RunOptions): Promise<TrainingResult | MixtureResult> {
  const { config, model, ledger, dir } = run;
  const tasks = run.data.tasks.map((t) => loopTask(t, config));
  const inits = initPrompts(run, config.sharedPrompt ? 1 : tasks.length);
  if (!run.resuming) storeRun(run, inits);
  // The optimisers step the prompts in place: their starts are kept for the library record.
  const initial = inits.map((i) => i.prompt.data.slice());
  const optimizers = inits.map(() => createOptimizer(config.optimizer, config.promptLength, model.config.dModel));
  const checkpoint = loadCheckpoint(dir, config.batchSize);
  if (checkpoint && checkpoint.prompts.length !== optimizers.length)
    throw badCheckpoint(dir, `it holds ${checkpoint.prompts.length} prompts, the run trains ${optimizers.length}`);
  checkpoint?.prompts.forEach((p, k) => optimizers[k].load(p.optimizer));
  const state =
    checkpoint ??
    initialState(
      config,
      inits.map((i) => i.prompt.data),
      optimizers,
      tasks,
    );
  state.lossScale = lossScaleOn(model.precision, state.lossScale);
  const notes = [...new Set(inits.flatMap((i) => i.notes)), ...dataNotes(run.data.tasks)];
  const onProgress = (e: TrainingEvent) => emit(ledger, options, e);
  onProgress({
    kind: 'started',
    runId: ledger.id,
    provider: model.provider,
    providerDetail: model.providerDetail,
    providerReason: model.providerReason,
    weights: model.weightWidth,
    steps: config.steps,
    resumedAt: checkpoint ? checkpoint.step : null,
    tasks: tasks.map((t, k) => taskStart(t, run.data.tasks[k])),
    notes,
  });
  const trained = await trainLoop({ model, config, optimizers, tasks, state, runDir: dir }, { ...options, onProgress });
  const { status, tests } = await scoreTests(run, tasks, state, trained, { ...options, onProgress }, initial);
  return finish(
    { runId: ledger.id, dir, config, single: 'single' in run.spec, state, status, model, tasks, notes, initial, tests },
    ledger,
  );
}

/**
 * Each task's test split, scored once with its kept prompt when the run has ended (a cancelled run is scored when it
 * is resumed and ends). Cancelling during the scoring ends the run cancelled, to be scored on resume.
 */
async function scoreTests(
  run: LoadedRun,
  tasks: LoopTask[],
  state: TrainerState,
  status: LoopStatus,
  hooks: TrainingHooks,
  initial: Float32Array[],
): Promise<{ status: LoopStatus; tests: (TestMetrics | null)[] }> {
  const none = tasks.map(() => null);
  // A transfer probe only learns a task embedding: nobody reads its score, so its test rows are not worth scoring.
  const probe = 'single' in run.spec && isProbeRun(run.spec.single);
  if (status === 'cancelled' || probe || run.data.tasks.every((t) => !t.test)) return { status, tests: none };
  const { config, model } = run;
  const prompts = state.prompts.map((p) => ({ length: config.promptLength, data: p.data }));
  const evaluator = { model, config, tasks, prompts, state, emit: hooks.onProgress ?? (() => undefined), signal: hooks.signal };
  try {
    return {
      status,
      tests: await testRound(
        evaluator,
        run.data.tasks.map((t) => t.test?.examples ?? []),
        initial,
      ),
    };
  } catch (error) {
    if (hooks.signal?.aborted) return { status: 'cancelled', tests: none };
    throw error;
  }
}

function finish(end: RunEnd, ledger: RunLedger): TrainingResult | MixtureResult {
  const judgements = end.tasks.map((_, k) => judgeTask(end, k));
  const files = writeKeptPrompts(end);
  const promptIds = ledger.finish({
    status: end.status === 'cancelled' ? 'cancelled' : 'done',
    step: end.state.step,
    trainSeconds: end.state.trainSeconds,
    provider: providerRecord(withLossScale(end.model, end.state.lossScale)),
    modelPath: end.config.model,
    modelConfig: end.model.config,
    promptLength: end.config.promptLength,
    weightWidth: end.model.weightWidth,
    prompts: keptPrompts(end, judgements),
  });
  const result = end.single
    ? trainingResult(end, promptIds, files, judgements)
    : mixtureResult(end, ledger.taskIds, promptIds, files, judgements);
  writeFileAtomic(join(end.dir, RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);
  return result;
}

/** A run's memory plan, its init checked first against the model's width, before anything of the run is recorded. */
async function planChecked(config: MixtureConfig, tasks: RunTask[], library: RunLibrary): ReturnType<typeof planRun> {
  const planned = await planRun(config, tasks);
  checkInit(config.init, planned.input.config.dModel, (id) => library.loadPrompt(id));
  return planned;
}

/** The memory plan of a new run, without starting it (`sprout train --dry-run`). */
export async function planTraining(input: TrainingConfigInput, options: RunOptions): Promise<MemoryPlan> {
  return (await adviseTraining(input, options)).plan;
}

export interface TrainingAdvice {
  plan: MemoryPlan;
  inputTokens: number;
  suggestion: FitSuggestion | null;
}

/** The memory plan of a new run and, when it does not fit, what would (the app's Train step). */
export async function adviseTraining(input: TrainingConfigInput, options: RunOptions): Promise<TrainingAdvice> {
  const home = options.dataDir ?? defaultDataDir();
  const config = parseTrainingConfig(input);
  const mixture = toMixture(config, options.library.sourceName(config.train));
  const { tasks } = await loadRunData(mixture, { dataDir: home, library: options.library });
  const { plan, input: planned } = await planChecked(mixture, tasks, options.library);
  return { plan, inputTokens: planned.inputTokens, suggestion: plan.fits ? null : suggestFit(planned, plan.availableBytes) };
}
