import type { ReadOptions } from '../data/types.js';
import { SproutError } from '../errors.js';
import { promptModelPath } from '../library/prompt-model.js';
import { evalSplit, getDataset, type Split } from '../library/datasets.js';
import type { LibraryDb } from '../library/db.js';
import { findPromptId, requirePrompt, type PromptRecord } from '../library/prompts.js';
import { getTask } from '../library/tasks.js';
import { dataDir } from '../paths.js';
import { EVAL_METRIC_NAMES } from '../choices.js';
import type { DevicePreference } from '../runtime/types.js';
import { trainedTask } from '../label/library-prompt.js';
import { truncationNote } from '../label/rows-note.js';
import { judgeReport, ownSplitOf, type Judgement } from '../train/baselines.js';
import { reportMetric } from '../train/metrics.js';
import { decisionText } from '../train/threshold.js';
import { evalReport, type EvalJobInput, type EvalJobOutput } from '../worker/jobs/eval.js';
import { printJson, UsageError, type Command, type ParsedArgs } from './command.js';
import { fileReadChoices, fileReadFlags, FILE_READ_HELP, TEXT_READ_HELP, readOptions, requireDataset } from './data-shared.js';
import { withLibrary } from './model-shared.js';
import { computeFlag, countFlag, deviceFlag, listFlag, maxInputLengthFlag, splitFlag, stringFlag, threadsFlag } from './flags.js';
import { preparePrinter } from './prepare-printer.js';
import { interruptSignal, stoppedBy } from './interrupt.js';

export const evaluateCommand: Command = {
  path: ['evaluate'],
  fileFlag: 'data',
  summary: 'Score a library prompt on a data file or an imported dataset, with baselines and warnings; JSON out',
  usage: `Usage: sprout evaluate --prompt ID|NAME (--data FILE [--label-column L] [--text-column C]... [--template T]
                       | --dataset ID [${splitFlag.help}]) [--limit N] [--max-input-length N] ${FILE_READ_HELP}
                       ${TEXT_READ_HELP}
                       [${deviceFlag.help}] [--threads N] [${computeFlag.help}]

Rank classification of every labelled row, as training scores validation: the prompt's own template and verbaliser;
rows without a label, or with a label outside the prompt's label set, are left out (counted as skipped); inputs are
cut where the prompt's training cut them (the --max-input-length it was trained with; 512 for a prompt trained
elsewhere) unless --max-input-length N says otherwise (longer inputs keep their first N − 1 tokens and eos, as in
\`sprout label\`). --data FILE reads the file as \`sprout data import\` does (columns by name, or 0-based index with
--no-header); --label-column defaults to the label column of the dataset (or file) the prompt was trained on. The
prompt's template reads the file's columns of the same names; where the file names them otherwise, --text-column C
(repeated for a template of several) names this file's columns in the template's order, as in \`sprout label\`, or
--template T gives another template; without either, a column named text or sentence is taken.
--dataset ID scores its labelled test split (held out at import: the score to report), else its validation split, else
train, unless --split is given. --compute int8 scores with int8 products (CPU only; faster, and labels agree with
float on 96–98 % of rows: see README "Frozen weights at reduced width").

Prints one JSON line: prompt_id, data, split, template, labels, examples, skipped, input_limit, truncated, accuracy, macro_f1,
mcc, per_class, confusion (confusion[gold][predicted]), decision (the prompt's decision threshold that made the
predictions, in words, see \`sprout library threshold\`; null: the more probable label), metric, metric_reason, value
(the metric's value), baselines (majority: always answering the most frequent label of these rows; zero_shot: the
initial prompt, on the prompt's own dataset's validation or test split, as its run stored it; null where the run scored
it on another number of that split's rows, as with --eval-limit, since it would not be the same rows), warnings (predictions
collapsed to one label; metric not above the majority baseline, or on the prompt's own split not above its zero-shot
baseline).`,
  options: {
    prompt: { type: 'string' },
    data: { type: 'string' },
    dataset: { type: 'string' },
    'label-column': { type: 'string' },
    'text-column': { type: 'string', multiple: true },
    template: { type: 'string' },
    limit: { type: 'string' },
    'max-input-length': { type: 'string' },
    ...fileReadFlags,
    threads: { type: 'string' },
  },
  choices: [...fileReadChoices, deviceFlag, splitFlag, computeFlag],
  async run({ values }) {
    const target = readTarget(values);
    const plan = await withLibrary((db) => planEvaluation(db, values, target));
    const interrupt = interruptSignal();
    try {
      await scoreAndPrint(target, plan, interrupt.signal);
    } catch (error) {
      return stoppedBy(interrupt.signal, error, 'The evaluation was stopped before its end; it printed no scores.');
    } finally {
      interrupt.dispose();
    }
  },
};

/** What the flags ask to score, checked before the library is opened. */
interface EvaluateTarget {
  /** --prompt as given: an id or a name (findPromptId). */
  prompt: string;
  data: string | undefined;
  datasetId: number | undefined;
  split: Split | undefined;
  device: DevicePreference;
  read: ReadOptions;
  /** --text-column: the file's columns for the template's, in its order (empty: the same names). */
  textColumns: string[];
  template: string | undefined;
  /** How it is scored: threads, integer products, how many rows, where inputs are cut. */
  scoring: Pick<EvalJobInput, 'threads' | 'compute' | 'limit' | 'maxInputTokens'>;
}

/** The job's input, with what judging its report needs. */
interface EvaluationPlan {
  input: EvalJobInput;
  prompt: PromptRecord;
  /** The held-out split of the prompt's own run that these rows are, whose zero-shot baseline the run stored. */
  ownSplit: 'validation' | 'test' | null;
}

function readTarget(values: ParsedArgs['values']): EvaluateTarget {
  const prompt = stringFlag(values, 'prompt');
  if (prompt === undefined) throw new UsageError('Give the prompt: --prompt ID|NAME (see `sprout library list`).');
  const data = stringFlag(values, 'data');
  const datasetId = countFlag(values, 'dataset');
  if ((data === undefined) === (datasetId === undefined))
    throw new UsageError('Give the data to score: --data FILE or --dataset ID (one of them).');
  const split = splitFlag.read(values);
  if (split !== undefined && data !== undefined) throw new UsageError('--split chooses a split of a --dataset, not of a file.');
  const device = deviceFlag.read(values) ?? 'auto';
  const read = readOptions(values);
  const textColumns = listFlag(values, 'text-column');
  const template = stringFlag(values, 'template');
  if ((textColumns.length > 0 || template !== undefined) && data === undefined)
    throw new UsageError('--text-column and --template read a --data file; a --dataset keeps the template it was imported with.');
  if (textColumns.length > 0 && template !== undefined) throw new UsageError('Give --text-column or --template, not both.');
  const compute = computeFlag.read(values);
  const scoring = {
    threads: threadsFlag(values),
    ...(compute ? { compute } : {}),
    limit: countFlag(values, 'limit'),
    maxInputTokens: maxInputLengthFlag(values),
  };
  return { prompt, data, datasetId, split, device, read, textColumns, template, scoring };
}

function planEvaluation(db: LibraryDb, values: ParsedArgs['values'], target: EvaluateTarget): EvaluationPlan {
  const { data, datasetId, split, device, read } = target;
  const prompt = requirePrompt(db, findPromptId(db, target.prompt));
  const task = prompt.taskId === null ? undefined : getTask(db, prompt.taskId);
  const trainedOn = task?.datasetId == null ? undefined : getDataset(db, task.datasetId);
  const base = {
    dataDir: dataDir(),
    promptId: prompt.id,
    modelPath: promptModelPath(db, prompt),
    device,
    ...target.scoring,
    worst: 0,
  };
  if (data !== undefined) {
    // The column the prompt's dataset, or else the file of its run, took the gold labels from.
    const labelColumn =
      stringFlag(values, 'label-column') ?? trainedOn?.labelColumn ?? trainedTask(db, prompt, task?.template ?? null)?.labelColumn;
    if (!labelColumn) throw new UsageError('Name the column with the gold labels: --label-column L.');
    const text = { textColumns: target.textColumns, ...(target.template !== undefined ? { template: target.template } : {}) };
    return { input: { ...base, file: { path: data, labelColumn, read, ...text } }, prompt, ownSplit: null };
  }
  const dataset = requireDataset(db, datasetId!);
  const chosen = split ?? evalSplit(db, dataset.id);
  if (!chosen) {
    const why = dataset.labelColumn === null ? ' (it was imported without a label column)' : '';
    throw new SproutError('eval-no-examples', `Dataset ${dataset.id} has no labelled rows to score${why}.`, {
      hint: 'Evaluate on data with gold labels (a dataset imported with --label-column, or --data FILE --label-column L); rows without labels are for `sprout label`.',
    });
  }
  return {
    input: { ...base, datasetId: dataset.id, split: chosen },
    prompt,
    ownSplit: ownSplitOf(dataset.id === trainedOn?.id, chosen),
  };
}

async function scoreAndPrint(target: EvaluateTarget, plan: EvaluationPlan, signal: AbortSignal): Promise<void> {
  const { input, prompt, ownSplit } = plan;
  process.stderr.write(`scoring prompt ${prompt.id} on ${target.data ?? `dataset ${target.datasetId} (${input.split})`}…\n`);
  const out = await evalReport(input, preparePrinter(), signal);
  const judged = judgeReport(out.labels, out.report, prompt.metrics, ownSplit, input.split ?? 'evaluated');
  for (const w of judged.warnings) process.stderr.write(`warning: ${w}\n`);
  const cut = truncationNote(out.truncated, out.inputLimit, 'scored');
  if (cut) process.stderr.write(`note: ${cut} --max-input-length N scores at another limit.\n`);
  printJson(evaluationJson(target, input, out, judged));
}

function evaluationJson(target: EvaluateTarget, input: EvalJobInput, out: EvalJobOutput, judged: Judgement): Record<string, unknown> {
  const metric = judged.metric!;
  return {
    prompt_id: input.promptId,
    data: target.data ?? { dataset: target.datasetId },
    split: input.split ?? null,
    template: out.template,
    labels: out.labels,
    examples: out.examples,
    skipped: out.skipped,
    input_limit: out.inputLimit,
    truncated: out.truncated,
    accuracy: out.report.accuracy,
    macro_f1: out.report.macroF1,
    mcc: out.report.mcc,
    per_class: out.report.perClass,
    confusion: out.report.confusion.map((row) => row.slice(0, out.labels.length)),
    decision: out.decision && decisionText(out.decision, out.labels),
    metric: metric.metric,
    metric_name: EVAL_METRIC_NAMES[metric.metric],
    metric_reason: metric.reason,
    value: reportMetric(out.report, metric.metric),
    baselines: judged.baselines,
    warnings: judged.warnings,
  };
}
