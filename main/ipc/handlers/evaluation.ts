import type { EvalReport, ValidRequestOf } from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import { evalSplit, splitCounts, type Split } from '../../library/datasets.js';
import type { LibraryDb } from '../../library/db.js';
import { promptModelPath } from '../../library/prompt-model.js';
import { truncationNote } from '../../label/rows-note.js';
import { latestPromptOfRun, requirePrompt, type PromptRecord } from '../../library/prompts.js';
import { requireRun } from '../../library/runs.js';
import { getTask } from '../../library/tasks.js';
import type { HandlerContext } from '../context.js';
import { requireDataset } from './data.js';
import { readSettings } from './settings.js';
import { libraryOf } from './library-connection.js';
import { judgeReport, ownSplitOf } from '../../train/baselines.js';
import { weightPreparation } from './weight-preparation.js';
import type { WeightsPreparing } from '../../weights/preparing.js';
import { decisionText } from '../../train/threshold.js';
import type { EvalJobInput, EvalJobOutput } from '../../worker/jobs/eval.js';

function promptOfRun(db: LibraryDb, runId: number): number {
  const run = requireRun(db, runId);
  const id = latestPromptOfRun(db, runId);
  if (id === undefined) {
    throw new SproutError('run-has-no-prompt', `Run ${runId} has not stored a prompt yet (it is ${run.status}).`, {
      hint: 'Wait for it to finish, or resume it if it was stopped.',
    });
  }
  return id;
}

export async function evalReport(context: HandlerContext, r: ValidRequestOf<'eval.report'>): Promise<EvalReport> {
  const db = libraryOf(context);
  if (r.promptId === undefined && r.runId === undefined) {
    throw new SproutError('eval-no-target', 'Say what to evaluate: a runId or a promptId.', {
      hint: 'Pick a finished run or a library prompt.',
    });
  }
  const promptId = r.promptId ?? promptOfRun(db, r.runId!);
  const prompt = requirePrompt(db, promptId);
  const task = prompt.taskId === null ? undefined : getTask(db, prompt.taskId);
  const datasetId = r.datasetId ?? task?.datasetId ?? null;
  if (datasetId === null) {
    throw new SproutError(
      'eval-no-dataset',
      `Prompt ${promptId} was not trained on an imported dataset, so there is no validation data to score it on.`,
      { hint: 'Choose a dataset to evaluate it on.' },
    );
  }
  const dataset = requireDataset(db, datasetId).id;
  // The split asked for; else the headline split: the labelled test split, else validation, else what the dataset has.
  const split = r.split ?? evalSplit(db, dataset);
  if (!split)
    throw new SproutError('eval-no-examples', `Dataset ${datasetId} has no labelled rows to score.`, {
      hint: 'Import it with its label column.',
    });
  if (splitCounts(db, dataset)[split] === 0)
    throw new SproutError('eval-no-examples', `Dataset ${datasetId} has no ${split} rows.`, {
      hint: 'Choose a split it has, or import it again with one.',
    });
  const out = await scorePrompt(context, prompt, datasetId, split, {
    limit: r.limit,
    worst: r.worst ?? 20,
    ...(r.compute ? { compute: r.compute } : {}),
  });
  const K = out.labels.length;
  return {
    promptId,
    runId: prompt.runId,
    datasetId,
    split,
    labels: out.labels,
    examples: out.examples,
    accuracy: out.report.accuracy,
    macroF1: out.report.macroF1,
    mcc: out.report.mcc,
    perClass: out.report.perClass,
    // Rank classification always names a label, so the report's extra "not a label" column is empty: drop it.
    confusion: out.report.confusion.map((row) => row.slice(0, K)),
    worst: out.worst,
    judgement: judgeReport(out.labels, out.report, prompt.metrics, ownSplitOf(datasetId === task?.datasetId, split), split),
    decision: out.decision && decisionText(out.decision, out.labels),
    inputNote: truncationNote(out.truncated, out.inputLimit, 'scored'),
  };
}

/** Scores a prompt on a dataset's split in the engine worker (with its decision threshold, where it has one). */
export function scorePrompt(
  context: HandlerContext,
  prompt: PromptRecord,
  datasetId: number,
  split: Split,
  o: { limit?: number; worst: number; compute?: EvalJobInput['compute'] },
): Promise<EvalJobOutput> {
  const db = libraryOf(context);
  const settings = readSettings(context.dataDir);
  // The answer waits on the model's weights too, converted or verified first: minutes for a large model.
  const onPrepare = (p: WeightsPreparing) => context.emit('evaluation.preparing', { promptId: prompt.id, preparing: weightPreparation(p) });
  return context.worker.run(
    'eval.report',
    {
      dataDir: context.dataDir,
      promptId: prompt.id,
      datasetId,
      split,
      modelPath: promptModelPath(db, prompt),
      device: settings.defaultDevice,
      ...(settings.threads === null ? {} : { threads: settings.threads }),
      limit: o.limit,
      ...(o.compute ? { compute: o.compute } : {}),
      worst: o.worst,
    },
    onPrepare,
  );
}
