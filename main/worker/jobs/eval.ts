import { join } from 'node:path';
import { parseTemplate, type Template } from '../../data/template.js';
import { SproutError } from '../../errors.js';
import { inputLimit, LABEL_DEFAULTS } from '../../label/job.js';
import { LIBRARY_REF_PREFIX, promptFromLibrary } from '../../label/library-prompt.js';
import { Scorer, type LabelTokenizer } from '../../label/scorer.js';
import { renderText, resolveTextSpec } from '../../label/text.js';
import type { LabelTask } from '../../label/types.js';
import { readRecords } from '../../data/read.js';
import { labelOf } from '../../data/values.js';
import type { ReadOptions } from '../../data/types.js';
import { evalSplit, getDataset, loadDatasetRows, type Split } from '../../library/datasets.js';
import { withLibraryAt, type LibraryDb } from '../../library/db.js';
import { loadPromptModel } from '../../runtime/model.js';
import type { DevicePreference } from '../../runtime/types.js';
import { loadTokenizer, truncateIds } from '../../tokenizer/index.js';
import { classificationReport, type ClassificationReport } from '../../train/metrics.js';
import type { Decision } from '../../train/threshold.js';
import type { Job } from '../job.js';
import { reportPreparing, type WeightsPreparing } from '../../weights/preparing.js';
import type { ComputeChoice } from '../../weights/width.js';

/**
 * A data file read as `sprout data import` reads it, with the column that holds the gold label, and the columns (or
 * template) the text comes from where they differ from those the prompt was trained on (resolved as `sprout label`
 * resolves them: main/label/text.ts).
 */
export interface EvalFileSource {
  path: string;
  labelColumn: string;
  read: ReadOptions;
  textColumns?: string[];
  template?: string;
}

export interface EvalJobInput {
  dataDir: string;
  promptId: number;
  /** An imported dataset's split, or a data file. */
  datasetId?: number;
  split?: Split;
  file?: EvalFileSource;
  modelPath: string;
  device: DevicePreference;
  threads?: number;
  /** int8: score with int8 products (main/weights/width.ts); default float. */
  compute?: ComputeChoice;
  limit?: number;
  worst: number;
  /** Rows per engine call; default labelling's (LABEL_DEFAULTS), since both score the same way. */
  batchSize?: number;
  /** Longer inputs keep their first maxInputTokens − 1 tokens and eos; default: the prompt's training limit, else 512. */
  maxInputTokens?: number;
}

export interface ScoredExample {
  index: number;
  line: number;
  text: string;
  gold: string;
  predicted: string;
  goldProbability: number;
  confidence: number;
}

export interface EvalJobOutput {
  labels: string[];
  examples: number;
  /** Rows left out: no label, a label outside the prompt's label set, or an empty text. */
  skipped: number;
  report: ClassificationReport;
  worst: ScoredExample[];
  /** The prompt's decision threshold, which made the predictions; null: the more probable label did. */
  decision: Decision | null;
  /** Two-label prompts: each scored row's gold label index and probabilities (what a threshold curve is drawn from). */
  twoLabel?: { gold: number[]; probs: [number, number][] };
  /** The template the rows' inputs were made with (the prompt's, on the columns chosen for a file). */
  template: string;
  /** Where inputs were cut (tokens, eos included: see inputLimit) and how many scored rows were. */
  inputLimit: number;
  truncated: number;
}

/**
 * Rank classification of the split's rows by the prompt, as the trainer's rank accuracy scores them (summed
 * log-likelihood of each verbaliser), with each row's probabilities kept to find the worst-scored examples.
 */
export const evalReport: Job<EvalJobInput, EvalJobOutput, WeightsPreparing> = (input, progress, signal) =>
  withLibraryAt(input.dataDir, async (db) => {
    const { prompt, weightWidth } = promptFromLibrary(db, `${LIBRARY_REF_PREFIX}${input.promptId}`);
    const task = prompt.task;
    requireClassification(task, input.promptId);
    const { rows: all, template: dataTemplate, where } = await evalRows(db, input);
    const rows = all.slice(0, input.limit);
    // Before the model loads: nothing to score is known already.
    if (rows.length === 0)
      throw new SproutError('eval-no-examples', `${where} has no rows at all.`, {
        hint: 'Choose another split or file: a dataset imported without a test share has no test split.',
      });
    const template = input.file
      ? fileTemplate(input.file, task, rows, input.promptId)
      : rowTemplate(task.template ?? dataTemplate, input.promptId);
    requireTemplateColumns(rows, template, where);
    // Scored on the weights it was trained on, so the report matches its training curve.
    const weights = weightWidth ?? 'fp32';
    const model = await loadPromptModel(input.modelPath, {
      device: input.device,
      threads: input.threads,
      weights,
      compute: input.compute,
      cacheDir: join(input.dataDir, 'cache'),
      onPrepare: reportPreparing(weights, progress),
    });
    try {
      const tokenizer = await loadTokenizer(input.modelPath);
      const limit = inputLimit([prompt], input.maxInputTokens);
      const { kept, truncated } = tokenizeRows(rows, template, task.labels, tokenizer, model.config.eosTokenId, limit);
      if (kept.length === 0) throw noExamples(rows, task.labels, where);
      const batchSize = input.batchSize ?? LABEL_DEFAULTS.batchSize;
      const scorer = new Scorer(model, tokenizer, [prompt.prompt], task, {
        batchSize,
        lengthNormalise: false,
        maxNewTokens: 1,
      });
      const scores = await scoreRows(scorer, kept, task.labels, batchSize, signal);
      return { ...evalOutput(task, rows.length, kept, scores, input.worst), template: template.source, inputLimit: limit, truncated };
    } finally {
      await model.dispose();
    }
  });

/** A file's rows become inputs as `sprout label` makes them: the prompt's template, on the columns chosen for this file. */
function fileTemplate(file: EvalFileSource, task: LabelTask, rows: EvalRow[], promptId: number): Template {
  if (rows.length === 0) return rowTemplate(file.template ?? task.template, promptId);
  const choice = { template: file.template, taskTemplate: task.template, textColumns: file.textColumns ?? [] };
  return parseTemplate(resolveTextSpec(choice, Object.keys(rows[0].fields), file.path).template);
}

/**
 * Every row without the columns the prompt's template reads would be skipped, and the refusal would then blame the
 * labels (CB's premise/hypothesis rows under an RTE prompt's sentence1/sentence2 template did). A dataset's rows meet
 * it here; a file's template was already resolved against the file's own columns (fileTemplate), which names the
 * missing ones and asks for --text-column.
 */
function requireTemplateColumns(rows: EvalRow[], template: Template, where: string): void {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0].fields);
  const missing = template.columns.filter((c) => !columns.includes(c));
  if (missing.length === 0) return;
  const names = missing.map((c) => `"${c}"`).join(', ');
  throw new SproutError(
    'eval-no-text-column',
    `${where} has no column${missing.length > 1 ? 's' : ''} ${names} (it has ${columns.join(', ')}), which the prompt's template reads: ${JSON.stringify(template.source)}.`,
    { hint: 'Evaluate on data laid out as the data the prompt was trained on (the same column names).' },
  );
}

/** No row could be scored: name the labels the rows have, where they have none of the prompt's. */
function noExamples(rows: EvalRow[], labels: string[], where: string): SproutError {
  const found = [...new Set(rows.flatMap((r) => (r.label === null ? [] : [r.label])))];
  const shown = found.slice(0, 8).map((l) => `"${l}"`);
  const theirs =
    found.length === 0 ? 'its rows have no labels' : `its rows are labelled ${shown.join(', ')}${found.length > 8 ? ', …' : ''}`;
  return new SproutError('eval-no-examples', `${where} has no rows with one of the prompt's labels (${labels.join(', ')}): ${theirs}.`, {
    hint: 'Evaluate on the dataset the prompt was trained on, or import a validation file with the same labels.',
  });
}

/** A row as read for scoring: its fields and its gold label (null: none). */
interface EvalRow {
  index: number;
  line: number;
  fields: Record<string, string>;
  label: string | null;
}

/** A row kept for scoring: its gold label's index in the prompt's labels and its input's token ids. */
interface KeptRow {
  index: number;
  line: number;
  text: string;
  gold: number;
  ids: number[];
}

/** The scorer's answers for the kept rows, in their order. */
interface RowScores {
  predicted: number[];
  probs: number[][];
  scored: ScoredExample[];
}

function requireClassification(task: LabelTask, promptId: number): void {
  if (task.kind !== 'classification' && task.template === null) {
    throw new SproutError(
      'eval-no-labels',
      `Prompt ${promptId} has no task, so its labels are unknown (a PEFT import or a prompt file carries none).`,
      {
        hint:
          `Score it with \`sprout label --prompt ${promptId} --input FILE --labels A,B --template T --label-column GOLD\`: ` +
          "the summary's accuracy, macro-F1 and MCC compare it with the gold column.",
        uiHint:
          'A prompt trained in Sprout carries its labels; this one can be scored from the command line (sprout label with --labels and --label-column).',
      },
    );
  }
  if (task.kind !== 'classification') {
    throw new SproutError('eval-free-text', `Prompt ${promptId} generates free text; the report scores classification prompts.`, {
      hint: 'See its exact-match curve in the run instead.',
    });
  }
}

function rowTemplate(templateText: string | null, promptId: number): Template {
  if (templateText === null) {
    throw new SproutError(
      'eval-no-template',
      `Prompt ${promptId} has no task template, so Sprout cannot tell how to turn a row into its input.`,
      { hint: 'Evaluate it on an imported dataset (--dataset ID), whose template is stored.' },
    );
  }
  return parseTemplate(templateText);
}

/** The rows with one of the prompt's labels and a non-empty text, tokenised and cut to the input limit (eos kept last). */
function tokenizeRows(
  rows: EvalRow[],
  template: Template,
  labels: string[],
  tokenizer: LabelTokenizer,
  eos: number,
  maxInputTokens: number,
): { kept: KeptRow[]; truncated: number } {
  const kept: KeptRow[] = [];
  let truncated = 0;
  for (const row of rows) {
    const gold = row.label === null ? -1 : labels.indexOf(row.label);
    const rendered = renderText(template, row.fields);
    if (gold < 0 || 'skip' in rendered) continue;
    const ids = tokenizer.encode(rendered.text);
    if (truncateIds(ids, maxInputTokens, eos)) truncated++;
    kept.push({ index: row.index, line: row.line, text: rendered.text, gold, ids });
  }
  return { kept, truncated };
}

async function scoreRows(scorer: Scorer, kept: KeptRow[], labels: string[], batchSize: number, signal: AbortSignal): Promise<RowScores> {
  const predicted: number[] = [];
  const probs: number[][] = [];
  const scored: ScoredExample[] = [];
  for (let start = 0; start < kept.length; start += batchSize) {
    signal.throwIfAborted();
    const chunk = kept.slice(start, start + batchSize);
    const outcomes = await scorer.label(chunk.map((k) => k.ids));
    outcomes.forEach((outcome, i) => {
      if (outcome.kind !== 'classification') throw new Error('a classification scorer returned free text');
      const k = chunk[i];
      const p = outcome.prediction;
      predicted.push(p.best);
      probs.push(Array.from(p.probs));
      scored.push({
        index: k.index,
        line: k.line,
        text: k.text,
        gold: labels[k.gold],
        predicted: labels[p.best],
        goldProbability: p.probs[k.gold],
        confidence: p.confidence,
      });
    });
  }
  return { predicted, probs, scored };
}

function evalOutput(
  task: LabelTask,
  rowCount: number,
  kept: KeptRow[],
  scores: RowScores,
  worstCount: number,
): Omit<EvalJobOutput, 'template' | 'inputLimit' | 'truncated'> {
  const report = classificationReport(
    task.labels,
    kept.map((k) => k.gold),
    scores.predicted,
  );
  const worst = scores.scored.sort((a, b) => a.goldProbability - b.goldProbability || a.index - b.index).slice(0, worstCount);
  const gold = kept.map((k) => k.gold);
  return {
    labels: task.labels,
    examples: kept.length,
    skipped: rowCount - kept.length,
    report,
    worst,
    decision: task.decision ?? null,
    ...(task.labels.length === 2 ? { twoLabel: { gold, probs: scores.probs as [number, number][] } } : {}),
  };
}

async function evalRows(
  db: LibraryDb,
  input: EvalJobInput,
): Promise<{
  rows: EvalRow[];
  template: string | null;
  where: string;
}> {
  if (input.file) {
    const { path, labelColumn, read } = input.file;
    const rows: EvalRow[] = [];
    for await (const r of readRecords(path, read)) {
      if (rows.length === 0 && !(labelColumn in r.fields)) {
        throw new SproutError(
          'eval-no-label-column',
          `The file has no column "${labelColumn}" (it has ${Object.keys(r.fields).join(', ')}).`,
          {
            file: path,
            hint: 'Name the gold label column with --label-column (a 0-based index with --no-header); a file without labels can be labelled (`sprout label`), not evaluated.',
          },
        );
      }
      const fields = Object.fromEntries(Object.entries(r.fields).map(([k, v]) => [k, v ?? '']));
      // Read as the import and labelling read gold labels: "neg " is "neg", and a row without the key has none.
      rows.push({ index: rows.length, line: r.line, fields, label: labelOf(r.fields[labelColumn]) ?? null });
    }
    return { rows, template: null, where: path };
  }
  const dataset = input.datasetId === undefined ? undefined : getDataset(db, input.datasetId);
  if (!dataset)
    throw new SproutError('unknown-dataset', `There is no dataset ${input.datasetId}.`, {
      hint: 'See the datasets in the Data step (or `sprout data list`).',
    });
  const split = input.split ?? evalSplit(db, dataset.id) ?? 'validation';
  return { rows: loadDatasetRows(db, dataset.id, split), template: dataset.template, where: `Dataset ${dataset.id} (${split})` };
}
