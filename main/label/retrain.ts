/**
 * "Train again with my corrections": a new version of the dataset a job's prompt was trained on, made of the
 * original rows and the rows a person reviewed in the job, the person's label winning. Texts are compared as the
 * model reads them (the prompt's task template applied), so a reviewed row and a dataset row match whatever the
 * columns are called in each file. Reviewed rows whose text is in the test split stay out of training, and the
 * test split is copied unchanged, so the new prompt and the old one are scored on the same rows.
 */
import { addCount } from '../data/values.js';
import { createHash } from 'node:crypto';
import { parseTemplate, renderTemplate } from '../data/template.js';
import { SproutError } from '../errors.js';
import {
  finishDataset,
  getDataset,
  insertDataset,
  labelCountsBySplit,
  loadDatasetRows,
  rowInserter,
  SPLITS,
  splitCounts,
  type DatasetRecord,
  type Split,
} from '../library/datasets.js';
import { writeTransaction, type LibraryDb } from '../library/db.js';
import type { PromptRecord } from '../library/prompts.js';
import { getTask, type TaskRecord } from '../library/tasks.js';
import { getJob, jobRows, type LabelJob } from './jobs.js';
import { jobPromptRecord, LIBRARY_REF_PREFIX } from './library-prompt.js';

/** What a version was made of: the counts the app shows beside the new run. */
export interface VersionReport {
  parent: number;
  labelJob: string;
  promptId: number;
  /** Reviewed texts in the job (a text reviewed twice counts once, with its later label). */
  reviewed: number;
  /** Reviewed texts of original training or validation rows whose label the person's replaced. */
  relabelled: number;
  /** Reviewed texts of original rows that already had the person's label. */
  unchanged: number;
  /** Reviewed rows added as new training rows (their text was in no original row). */
  added: number;
  /** Reviewed rows left out because their text is in the test split. */
  leftOut: number;
  splits: Record<Split, number>;
  labels: Record<string, number>;
}

export interface DatasetVersion {
  datasetId: number;
  prompt: PromptRecord;
  task: TaskRecord;
  parent: DatasetRecord;
  report: VersionReport;
}

/** The library prompt a job labelled with, its task and the dataset it was trained on: what a new version builds on. */
export function retrainSource(db: LibraryDb, job: LabelJob): { prompt: PromptRecord; task: TaskRecord; parent: DatasetRecord } {
  const refs = job.spec.prompts.map((p) => p.ref);
  if (refs.length !== 1 || job.spec.routing || !refs[0].startsWith(LIBRARY_REF_PREFIX)) {
    throw new SproutError(
      'retrain-unsupported',
      `Job ${job.id} labelled with ${refs.length > 1 ? 'several prompts' : 'a prompt from a file'}; training again needs a job of one library prompt.`,
      {
        hint: 'Label the file with the library prompt you want to improve.',
      },
    );
  }
  const prompt = jobPromptRecord(db, job.spec.prompts[0], 'train again');
  const task = prompt.taskId === null ? undefined : getTask(db, prompt.taskId);
  const parent = task?.datasetId == null ? undefined : getDataset(db, task.datasetId);
  if (!task || !parent || parent.labelColumn === null) {
    throw new SproutError(
      'retrain-no-dataset',
      `The prompt "${prompt.name}" was not trained on a labelled dataset in the library, so there is nothing to add the corrections to.`,
      {
        hint: 'Save the reviewed rows as a dataset instead, and train on that.',
      },
    );
  }
  return { prompt, task, parent };
}

/** The run that trained the prompt, whose settings training again takes: a prompt Sprout did not train has none. */
export function trainingRunOf(prompt: PromptRecord): number {
  if (prompt.runId !== null) return prompt.runId;
  throw new SproutError(
    'retrain-no-run',
    `The prompt "${prompt.name}" was not trained in Sprout, so there are no settings to train it again with.`,
    { hint: 'Start a run in the Train step on the new dataset, with this prompt as its start.' },
  );
}

/** Why the job's corrections cannot train its prompt again, in the app's words; null when they can. */
export function retrainBlocker(db: LibraryDb, job: LabelJob): string | null {
  try {
    trainingRunOf(retrainSource(db, job).prompt);
    return null;
  } catch (error) {
    if (error instanceof SproutError) return error.forApp();
    throw error;
  }
}

/** Builds the version in one transaction and returns it. */
export function buildCorrectionsVersion(db: LibraryDb, jobId: string): DatasetVersion {
  const job = getJob(db, jobId);
  if (!job) throw new SproutError('label-unknown-job', `There is no labelling job "${jobId}".`);
  const { prompt, task, parent } = retrainSource(db, job);
  const taskTemplate = parseTemplate(task.template);
  const reviewed = reviewedByText(db, job, task);
  if (reviewed.size === 0) {
    throw new SproutError('retrain-nothing-reviewed', `Job ${jobId} has no rows with your label yet.`, {
      hint: 'Review some rows first: pick a label, or accept the model’s.',
    });
  }
  const textOf = (fields: Record<string, string>) => renderTemplate(taskTemplate, fields);
  return writeTransaction(db, () => {
    const datasetId = insertVersion(db, parent, jobId, prompt.id);
    const writer = versionWriter(db, datasetId, parent.textColumns);
    const copied = copyParentRows(db, parent, reviewed, textOf, writer);
    const { added, leftOut } = addReviewedRows(reviewed, copied, writer);
    const labels = trainingLabelCounts(db, datasetId);
    const report: VersionReport = {
      parent: parent.id,
      labelJob: jobId,
      promptId: prompt.id,
      reviewed: reviewed.size,
      relabelled: copied.changed.size,
      unchanged: copied.used.size - copied.changed.size,
      added,
      leftOut,
      splits: splitCounts(db, datasetId),
      labels,
    };
    finishVersion(db, datasetId, parent, writer, report);
    return { datasetId, prompt, task, parent, report };
  });
}

/** A reviewed row: the person's label, its values under the dataset's column names, and its line in the job's file. */
interface ReviewedRow {
  label: string;
  fields: Record<string, string>;
  line: number;
}

/** What copying the original rows saw: reviewed texts met in training or validation, those relabelled, the test texts. */
interface CopiedRows {
  used: Set<string>;
  changed: Set<string>;
  testTexts: Set<string>;
  lastIndex: number;
}

/** Inserts the version's rows, hashing each as it goes. */
interface VersionWriter {
  write(split: Split, index: number, line: number, fields: Record<string, string>, label: string | null): void;
  digest(): string;
}

function insertVersion(db: LibraryDb, parent: DatasetRecord, jobId: string, promptId: number): number {
  return insertDataset(db, {
    name: `${parent.name} + corrections`,
    source: parent.source,
    validation: parent.validation,
    format: parent.format,
    options: { ...parent.options, parent: parent.id, labelJob: jobId, promptId },
    columnMapping: parent.columnMapping,
    labelColumn: parent.labelColumn,
    textColumns: parent.textColumns,
    template: parent.template,
  });
}

function versionWriter(db: LibraryDb, datasetId: number, textColumns: string[]): VersionWriter {
  const insert = rowInserter(db, datasetId);
  const hash = createHash('sha256');
  return {
    write(split, index, line, fields, label) {
      const texts = JSON.stringify(textColumns.map((c) => fields[c] ?? ''));
      hash.update(`${split}\t${texts}\t${label}\n`);
      insert(split, index, line, texts, label);
    },
    digest: () => hash.digest('hex'),
  };
}

/** Copies every original row, the person's label replacing the row's where a training or validation text was reviewed. */
function copyParentRows(
  db: LibraryDb,
  parent: DatasetRecord,
  reviewed: Map<string, ReviewedRow>,
  textOf: (fields: Record<string, string>) => string,
  writer: VersionWriter,
): CopiedRows {
  const copied: CopiedRows = { used: new Set(), changed: new Set(), testTexts: new Set(), lastIndex: -1 };
  for (const split of SPLITS) {
    // Read whole before writing: the connection cannot insert while a query walks the same table.
    for (const row of loadDatasetRows(db, parent.id, split)) {
      const text = textOf(row.fields);
      const person = split === 'test' ? undefined : reviewed.get(text);
      if (split === 'test') copied.testTexts.add(text);
      if (person) {
        copied.used.add(text);
        if (person.label !== row.label) copied.changed.add(text);
      }
      writer.write(split, row.index, row.line, row.fields, person?.label ?? row.label);
      copied.lastIndex = Math.max(copied.lastIndex, row.index);
    }
  }
  return copied;
}

/** Adds the reviewed rows whose text no original row has as new training rows, after the last original row. */
function addReviewedRows(
  reviewed: Map<string, ReviewedRow>,
  copied: CopiedRows,
  writer: VersionWriter,
): { added: number; leftOut: number } {
  let lastIndex = copied.lastIndex;
  let added = 0;
  let leftOut = 0;
  for (const [text, r] of reviewed) {
    if (copied.testTexts.has(text)) leftOut++;
    else if (!copied.used.has(text)) {
      writer.write('train', ++lastIndex, r.line, r.fields, r.label);
      added++;
    }
  }
  return { added, leftOut };
}

/** Rows per label in the version's training and validation splits. */
function trainingLabelCounts(db: LibraryDb, datasetId: number): Record<string, number> {
  const labels: Record<string, number> = {};
  for (const c of labelCountsBySplit(db, datasetId)) if (c.label !== null && c.split !== 'test') addCount(labels, c.label, c.count);
  return labels;
}

function finishVersion(db: LibraryDb, datasetId: number, parent: DatasetRecord, writer: VersionWriter, report: VersionReport): void {
  const labelSet = [...new Set(labelCountsBySplit(db, datasetId).flatMap((c) => (c.label === null ? [] : [c.label])))].sort();
  finishDataset(db, datasetId, {
    source: { ...parent.source, sha256: writer.digest() },
    validation: parent.validation,
    labelSet,
    report: { ...report },
  });
}

/**
 * The job's reviewed rows by the text the model reads, each with the person's label and its values under the
 * dataset's column names (the task template's i-th column read the job's i-th); a later row wins a repeated text.
 */
function reviewedByText(db: LibraryDb, job: LabelJob, task: TaskRecord): Map<string, ReviewedRow> {
  const taskTemplate = parseTemplate(task.template);
  const jobColumns = parseTemplate(job.spec.template).columns;
  if (jobColumns.length !== taskTemplate.columns.length) {
    throw new SproutError(
      'retrain-other-template',
      `Job ${job.id} read its rows through "${job.spec.template}", not through the prompt's template "${task.template}"` +
        `, so its rows cannot join the prompt's dataset.`,
      {
        hint: "Label the file with the prompt's own template (choose only the text columns, no template of your own).",
      },
    );
  }
  const out = new Map<string, ReviewedRow>();
  for (const r of jobRows(db, job.id)) {
    if (r.corrected === null) continue;
    const fields: Record<string, string> = {};
    taskTemplate.columns.forEach((c, i) => (fields[c] = r.fields[jobColumns[i]] ?? ''));
    out.set(renderTemplate(taskTemplate, fields), { label: r.corrected, fields, line: r.line });
  }
  return out;
}
