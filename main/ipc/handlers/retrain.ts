/**
 * "Train again with my corrections" (main/label/retrain.ts builds the dataset version): a run with the settings of
 * the run that made the job's prompt, on the new version, starting from that prompt.
 */
import type { RetrainStart, ValidRequestOf } from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import { buildCorrectionsVersion, trainingRunOf, type DatasetVersion } from '../../label/retrain.js';
import { deleteDataset, getDataset } from '../../library/datasets.js';
import type { LibraryDb } from '../../library/db.js';
import { findModelByPath } from '../../library/models.js';
import { requireRun } from '../../library/runs.js';
import { parseTrainingConfig } from '../../train/config.js';
import { datasetInfo } from './data.js';
import type { AppState } from './state.js';

export async function retrainWithCorrections(state: AppState, jobId: string): Promise<RetrainStart> {
  const version = buildCorrectionsVersion(state.db, jobId);
  try {
    const run = await state.runs.start(warmStart(state.db, version));
    return {
      dataset: datasetInfo(state.db, getDataset(state.db, version.datasetId)!),
      version: version.report,
      run,
      previousPromptId: version.prompt.id,
    };
  } catch (error) {
    // A version no run trains on is only clutter; the person can try again once the cause is fixed.
    deleteDataset(state.db, version.datasetId);
    throw error;
  }
}

/** The request of the run that made the prompt, on the new version, starting from the prompt. */
function warmStart(db: LibraryDb, version: DatasetVersion): ValidRequestOf<'train.start'> {
  const { prompt, task } = version;
  const run = requireRun(db, trainingRunOf(prompt));
  const config = parseTrainingConfig(run.config);
  const modelId = run.modelId ?? (run.modelPath === null ? undefined : findModelByPath(db, run.modelPath)?.id);
  if (modelId === undefined) {
    throw new SproutError(
      'model-missing',
      `The model prompt "${prompt.name}" was trained on (${run.modelPath ?? 'unknown'}) is not registered in this library.`,
      { hint: 'Import that model in the Model step.' },
    );
  }
  return {
    name: `${prompt.name} + corrections`,
    modelId,
    datasetId: version.datasetId,
    template: task.template,
    verbalizer: task.verbalizer,
    promptLength: prompt.length,
    init: `prompt:${prompt.id}`,
    optimizer: config.optimizer.kind,
    ...(config.optimizer.lr === undefined ? {} : { lr: config.optimizer.lr }),
    batchSize: config.batchSize,
    steps: config.steps,
    evalEvery: config.evalEvery,
    ...(config.evalLimit === undefined ? {} : { evalLimit: config.evalLimit }),
    ...(config.patience === undefined ? {} : { patience: config.patience }),
    ...(config.metric === undefined ? {} : { metric: config.metric }),
    seed: config.seed,
    precision: config.precision,
    // The width the prompt was trained on, so that the new run continues it on the same weights.
    weights: run.weights ?? config.weights,
    maxInputLength: config.task.maxInputLength,
  };
}
