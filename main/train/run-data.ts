/**
 * A run's data: each task's examples read, its task resolved and encoded (token caches under <home>/cache/tokens),
 * what the data notes say, how each task's prompt is judged, and the run's memory plan.
 */
import { join } from 'node:path';
import { readT5Config } from '../checkpoint/checkpoint.js';
import { SproutError } from '../errors.js';
import { sameFile } from '../same-file.js';
import { resolveWidth } from '../runtime/width-policy.js';
import { loadTokenizer, type T5Tokenizer } from '../tokenizer/index.js';
import { memoryPlan, requireFits, type MemoryPlan, type PlanInput } from '../weights/memory-plan.js';
import { oneSessionGroupAtATime, type WeightWidth } from '../weights/width.js';
import { chooseMetric, majorityBaseline, type MetricChoice } from './baselines.js';
import { repeatsTrainingNote } from '../data/split.js';
import { parseTemplate } from '../data/template.js';
import type { DataSource, MixtureConfig, TaskSpec } from './config.js';
import { loadExamples, type LoadedExamples } from './data-source.js';
import { sha256OfFileAsync } from '../file-hash.js';
import { cacheKey, cachedEncoding, encodeExamples, type EncodedSplit } from './encode.js';
import type { LoopTask } from './eval-round.js';
import type { TaskStart } from './events.js';
import type { RunLibrary } from './run-ledger.js';
import type { SplitContents } from './run-store.js';
import { resolveTask, type ResolvedTask } from './task.js';
import { agreeing, counted } from '../wording.js';

/** One task of a run, read and encoded. */
export interface RunTask {
  spec: TaskSpec;
  resolved: ResolvedTask;
  train: EncodedSplit;
  /** The whole validation split; the run evaluates on its first evalLimit examples. */
  validation: EncodedSplit | null;
  /** The test split, scored once with the kept prompt when the run ends; null without one. */
  test: EncodedSplit | null;
  /** Target ids of each label text (eos included). */
  labelTargets: number[][];
  /** What each split was read from, by content (a file's sha256 and how it was read): a resumed run must read the same. */
  contents: SplitContents;
}

export interface RunData {
  tokenizer: T5Tokenizer;
  tasks: RunTask[];
}

/**
 * Where a split other than training comes from: its own source, else the training dataset's split of that name, else
 * the training file's held-out share; none when the training data has no such split.
 */
function heldOutSource(spec: TaskSpec, split: 'validation' | 'test'): DataSource | undefined {
  const own = spec[split];
  if (own) return own;
  if ('dataset' in spec.train) return { dataset: spec.train.dataset };
  const share = spec.train.holdOut?.[split] ?? 0;
  return share > 0 ? spec.train : undefined;
}

/**
 * A validation or test file that reads exactly the training rows: the same file under any path, the same sheet and the
 * same range. Refused as `sprout data import` refuses it; ranges that merely overlap are noted (repeatNotes).
 */
function refuseTrainingRowsAgain(spec: TaskSpec): void {
  const train = spec.train;
  for (const split of ['validation', 'test'] as const) {
    const other = spec[split];
    if (!other || !('file' in train) || !('file' in other)) continue;
    if (!sameFile(train.file, other.file) || train.sheet !== other.sheet || train.skip !== other.skip || train.limit !== other.limit)
      continue;
    throw new SproutError(
      'data-validation-is-training',
      `The ${split} file is the training file, read the same way: it would score the training rows themselves.`,
      {
        file: other.file,
        hint:
          `Give another file, another range of this one (--${split}-skip, --${split}-limit) or another sheet (--${split}-sheet),` +
          ` or leave --${split} out to hold out a share of each class (--${split === 'validation' ? 'split' : 'test-split'}).`,
      },
    );
  }
}

async function loadTask(spec: TaskSpec, where: RunPlace, tokenizer: T5Tokenizer, tokenizerHash: string, only: boolean): Promise<RunTask> {
  const { dataDir: home, library } = where;
  refuseTrainingRowsAgain(spec);
  const textColumns = parseTemplate(spec.task.template).columns;
  const trainRaw = await loadExamples(spec.train, spec.task.labelColumn, library, 'train', textColumns);
  const resolved = resolveTask(spec.task, trainRaw.raw, trainRaw.where);
  const encodeSplit = (loaded: LoadedExamples): EncodedSplit =>
    cachedEncoding(
      join(home, 'cache', 'tokens'),
      cacheKey({ content: loaded.content, task: spec.task, resolved, tokenizer: tokenizerHash }),
      () => encodeExamples(tokenizer, spec.task, resolved, loaded.raw, loaded.where),
    ).split;
  const train = encodeSplit(trainRaw);
  if (train.examples.length === 0) {
    throw new SproutError(
      'no-examples',
      only ? 'No training example has a label.' : `No training example of task "${spec.name}" has a label.`,
      { file: trainRaw.where },
    );
  }
  const heldOut = async (split: 'validation' | 'test'): Promise<{ encoded: EncodedSplit | null; content: string | null }> => {
    const source = heldOutSource(spec, split);
    if (!source) return { encoded: null, content: null };
    const loaded = await loadExamples(source, spec.task.labelColumn, library, split, textColumns);
    const encoded = encodeSplit(loaded);
    // A dataset without test rows (or only unlabelled ones, kept for labelling) has no test split to score.
    return { encoded: split === 'test' && encoded.examples.length === 0 ? null : encoded, content: loaded.content };
  };
  const labelTargets = tokenizer.encodeBatch(resolved.labelTexts, { maxLength: spec.task.maxTargetLength }).ids;
  const [validation, test] = [await heldOut('validation'), await heldOut('test')];
  const contents = { train: trainRaw.content, validation: validation.content, test: test.content };
  return { spec, resolved, train, validation: validation.encoded, test: test.encoded, labelTargets, contents };
}

/** Where a run's data lives: the data folder (token caches) and the library (imported datasets). */
export interface RunPlace {
  dataDir: string;
  library: Pick<RunLibrary, 'datasetSplit'>;
}

/** Reads and encodes every task of the run, in task order. */
export async function loadRunData(config: MixtureConfig, where: RunPlace): Promise<RunData> {
  const tokenizer = await loadTokenizer(config.model);
  const tokenizerHash = (await sha256OfFileAsync(tokenizer.source)).sha256;
  const tasks: RunTask[] = [];
  for (const spec of config.tasks) tasks.push(await loadTask(spec, where, tokenizer, tokenizerHash, config.tasks.length === 1));
  return { tokenizer, tasks };
}

function splitNotes(which: string, s: EncodedSplit): string[] {
  const notes: string[] = [];
  const were = (n: number) => agreeing(n, 'was', 'were');
  if (s.truncatedInputs)
    notes.push(`${counted(s.truncatedInputs, `${which} input`)} ${were(s.truncatedInputs)} longer than the input limit and cut.`);
  if (s.truncatedTargets)
    notes.push(`${counted(s.truncatedTargets, `${which} target`)} ${were(s.truncatedTargets)} longer than the target limit and cut.`);
  if (s.skipped) notes.push(`${counted(s.skipped, `${which} record`)} without a label ${were(s.skipped)} left out.`);
  return notes;
}

/**
 * Held-out examples whose input, as the model reads it (cut, in token ids), is a training example's: a validation
 * file that is the training file again, or that shares rows with it, or --skip/--limit ranges of one file that overlap.
 */
function repeatNotes(t: RunTask): string[] {
  const seen = new Set(t.train.examples.map((e) => e.input.join(' ')));
  return (['validation', 'test'] as const).flatMap((split) => {
    const held = t[split]?.examples ?? [];
    const repeated = held.filter((e) => seen.has(e.input.join(' '))).length;
    return repeated ? [repeatsTrainingNote(repeated, held.length, split)] : [];
  });
}

/**
 * What the data needs saying: inputs or targets cut, records without a label, held-out examples that training saw
 * (named by task in a mixture).
 */
export function dataNotes(tasks: RunTask[]): string[] {
  return tasks.flatMap((t) => {
    const notes = [...splitNotes('training', t.train), ...(t.validation ? splitNotes('validation', t.validation) : []), ...repeatNotes(t)];
    return tasks.length === 1 ? notes : notes.map((n) => `${t.spec.name}: ${n}`);
  });
}

/** The task as the trainer runs it: its validation cut to evalLimit, its metric and majority baseline chosen. */
export function loopTask(t: RunTask, config: Pick<MixtureConfig, 'evalLimit' | 'metric'>): LoopTask & { metricChoice: MetricChoice } {
  const classification = t.resolved.kind === 'classification';
  const labels = classification ? t.resolved.labels : [];
  const validation = t.validation ? t.validation.examples.slice(0, config.evalLimit) : [];
  const metricChoice = chooseMetric(
    config.metric,
    labels,
    t.train.examples.map((e) => e.label),
  );
  return {
    name: t.spec.name,
    train: t.train.examples,
    validation,
    labels,
    labelTargets: classification ? t.labelTargets : [],
    metric: metricChoice.metric,
    metricChoice,
    majority: classification
      ? majorityBaseline(
          t.resolved.labels,
          validation.map((e) => e.label),
        )
      : null,
  };
}

export function taskStart(t: ReturnType<typeof loopTask>, task: RunTask): TaskStart {
  const { resolved } = task;
  return {
    name: t.name,
    trainExamples: t.train.length,
    validationExamples: t.validation.length,
    testExamples: task.test?.examples.length ?? 0,
    labels: resolved.labels,
    metric: t.metricChoice,
    majority: t.majority,
  };
}

function planInput(config: MixtureConfig, width: WeightWidth, tasks: RunTask[]): PlanInput {
  const longest = (f: (e: EncodedSplit['examples'][number]) => number) =>
    tasks.reduce((m, t) => t.train.examples.reduce((n, e) => Math.max(n, f(e)), m), 1);
  return {
    config: readT5Config(config.model),
    width,
    batch: config.microBatchSize ?? config.batchSize,
    inputTokens: longest((e) => e.input.length),
    promptLength: config.promptLength,
    targetTokens: longest((e) => e.target.length),
    sessions: tasks.some((t) => t.validation) && !oneSessionGroupAtATime(width) ? 2 : 1,
    optimizerValuesPerParameter: config.optimizer.kind === 'adafactor' ? 0 : 2,
  };
}

/** The run's memory plan, with the input its fit suggestion starts from. */
export async function planRun(config: MixtureConfig, tasks: RunTask[]): Promise<{ plan: MemoryPlan; input: PlanInput }> {
  const width = await resolveWidth(config.weights, config.device);
  const input = planInput(config, width, tasks);
  return { plan: memoryPlan(input), input };
}

/** Stops a run whose plan does not fit, naming what would. */
export function requirePlan(input: PlanInput, plan: MemoryPlan): void {
  if (!plan.fits) requireFits(input, plan.availableBytes);
}
