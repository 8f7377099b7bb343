/** The trainer config a train.start / train.plan request stands for, with this host's settings as its defaults. */
import type { ValidRequestOf } from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import type { LibraryDb } from '../../library/db.js';
import type { TrainingConfigInput } from '../../train/config.js';
import { checkInit } from '../../train/init.js';
import { findPromptId, loadSoftPrompt } from '../../library/prompts.js';
import { requireDataset } from './data.js';
import { requireModel } from './models.js';
import { readSettings } from './settings.js';

export function trainingInput(dataDir: string, db: LibraryDb, r: ValidRequestOf<'train.start'>): TrainingConfigInput {
  const model = requireModel(db, r.modelId);
  const dataset = requireDataset(db, r.datasetId);
  if (dataset.labelColumn === null) {
    throw new SproutError('dataset-unlabelled', `Dataset "${dataset.name}" has no label column, so there is nothing to learn.`, {
      hint: 'Import the file again with its label column mapped, or use it in the Label step.',
    });
  }
  // A transfer source deleted since the ranking was shown, or one of another model's width: refused while the
  // request is answered, rather than by a run that fails once started.
  if (r.init !== undefined) checkInit(r.init, model.summary.dModel, (id) => loadSoftPrompt(db, findPromptId(db, id)));
  const settings = readSettings(dataDir);
  return {
    model: model.path,
    device: r.device ?? settings.defaultDevice,
    ...(r.precision ? { precision: r.precision } : {}),
    weights: r.weights ?? settings.defaultWeights,
    ...(settings.threads === null ? {} : { threads: settings.threads }),
    train: { dataset: dataset.id },
    task: {
      template: r.template ?? dataset.template,
      labelColumn: dataset.labelColumn,
      verbalizer: r.verbalizer,
      maxInputLength: r.maxInputLength,
    },
    promptLength: r.promptLength,
    init: r.init,
    optimizer: { kind: r.optimizer ?? 'adafactor', lr: r.lr },
    batchSize: r.batchSize,
    steps: r.steps,
    evalEvery: r.evalEvery,
    evalLimit: r.evalLimit,
    patience: r.patience,
    metric: r.metric,
    seed: r.seed,
    name: r.name,
  };
}
