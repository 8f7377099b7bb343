import { ownValue } from '../data/values.js';
import type { LibraryDb } from '../library/db.js';
import { promptModelFolder } from '../library/prompt-model.js';
import { findPromptId, getPrompt, parsePromptId, requirePrompt, type PromptRecord } from '../library/prompts.js';
import { SproutError } from '../errors.js';
import { getRun } from '../library/runs.js';
import { getTask } from '../library/tasks.js';
import { TrainingConfigSchema } from '../train/config.js';
import type { LabelPrompt, LabelTask } from './types.js';
import type { WeightWidth } from '../weights/width.js';

/** The `ref` of a library prompt, as `--init prompt:<id>` names it. */
export const LIBRARY_REF_PREFIX = 'prompt:';

/**
 * A stored job's library prompt, found again to resume the job or train it again: one deleted since is named as the
 * job knew it, where the library's own "There is no prompt 39" left the person to work out which prompt and why.
 */
export function jobPromptRecord(db: LibraryDb, stored: { ref: string; name: string }, to: 'resume' | 'train again'): PromptRecord {
  const record = getPrompt(db, parsePromptId(stored.ref));
  if (record) return record;
  throw new SproutError(
    'label-prompt-deleted',
    `The prompt this job labelled with, “${stored.name}” (${stored.ref}), was deleted from the library, so the job cannot ${to}.`,
    { hint: 'Its labelled rows stay with the job; label the file in a new job, with another prompt.' },
  );
}

/** jobPromptRecord as the labeller takes it, with the task the job keeps. */
export function jobPromptFromLibrary(db: LibraryDb, stored: { ref: string; name: string }, task: LabelTask): LabelPrompt {
  return { ...libraryPrompt(db, jobPromptRecord(db, stored, 'resume')).prompt, task };
}

/** A library prompt by id (`12`, `prompt:12`) or exact name, with its task and the folder of its base model. */
export function promptFromLibrary(db: LibraryDb, idOrName: string): LibraryPrompt {
  return libraryPrompt(db, requirePrompt(db, findPromptId(db, idOrName)));
}

interface LibraryPrompt {
  prompt: LabelPrompt;
  modelPath: string | null;
  weightWidth: WeightWidth | null;
  record: PromptRecord;
}

function libraryPrompt(db: LibraryDb, record: PromptRecord): LibraryPrompt {
  const task = taskOf(db, record);
  const inputLimit = trainedTask(db, record, task.template)?.maxInputLength;
  return {
    weightWidth: record.weightWidth,
    prompt: {
      ref: `${LIBRARY_REF_PREFIX}${record.id}`,
      name: record.name,
      prompt: { length: record.length, data: record.embedding },
      task,
      ...(inputLimit === undefined ? {} : { inputLimit }),
    },
    modelPath: promptModelFolder(db, record),
    record,
  };
}

/**
 * The task a prompt labels: its library task's template, label set and verbaliser (a label without a verbaliser
 * entry is scored as its own text); a task with no labels is free text. A prompt without a task falls back to the
 * labels stored with it and the input's text columns. A two-label prompt brings its decision threshold.
 */
function taskOf(db: LibraryDb, prompt: PromptRecord): LabelTask {
  const task = prompt.taskId === null ? undefined : getTask(db, prompt.taskId);
  const labels = task?.labelSet ?? prompt.labels ?? (task ? Object.keys(task.verbalizer) : []);
  const verbaliser = task?.verbalizer ?? {};
  const decision = prompt.decision;
  return {
    kind: labels.length ? 'classification' : 'generation',
    labels,
    verbalisers: labels.map((l) => ownValue(verbaliser, l) ?? l),
    template: task?.template ?? null,
    // A threshold set when the label set was another one no longer means anything.
    ...(decision && labels.length === 2 && labels.includes(decision.positive)
      ? { decision: { positive: decision.positive, threshold: decision.threshold } }
      : {}),
  };
}

/** How the run that trained a prompt read its task: the template, the gold label column and the input limit. */
export interface TrainedTask {
  template: string;
  labelColumn: string;
  maxInputLength: number;
}

/**
 * The task of the run that trained the prompt (in a mixture, the task with the prompt's template, else the one with
 * the largest input limit), or undefined for a prompt trained elsewhere or whose run is gone.
 */
export function trainedTask(db: LibraryDb, record: PromptRecord, template: string | null): TrainedTask | undefined {
  const run = record.runId === null ? undefined : getRun(db, record.runId);
  if (!run) return undefined;
  const taskOfSpec = (task: unknown): TrainedTask | undefined => {
    const parsed = TrainingConfigSchema.shape.task.safeParse(task);
    return parsed.success ? parsed.data : undefined;
  };
  const config = run.config as { task?: unknown; tasks?: unknown };
  const tasks = Array.isArray(config.tasks)
    ? config.tasks.map((t: { task?: unknown } | null) => taskOfSpec(t?.task))
    : [taskOfSpec(config.task)];
  const known = tasks.filter((t) => t !== undefined);
  return known.find((t) => t.template === template) ?? known.sort((a, b) => b.maxInputLength - a.maxInputLength)[0];
}
