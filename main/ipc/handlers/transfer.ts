import type { TransferRanking, ValidRequestOf } from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import { promptLineage } from '../../library/prompts.js';
import { getTask } from '../../library/tasks.js';
import { usualTaskEmbeddingStep } from '../../transfer/probe.js';
import { rankSources, type BaseModel } from '../../transfer/rank.js';
import { storedTargetEmbedding } from '../../transfer/target.js';
import type { PromptMatrix } from '../../transfer/similarity.js';
import type { HandlerContext } from '../context.js';
import { requireDataset } from './data.js';
import { requireModel } from './models.js';
import { readSettings } from './settings.js';
import { libraryOf } from './library-connection.js';

/**
 * SPoT ranking for the wizard's Prompt step: the target task's embedding is the newest stored one of a prompt
 * trained on this dataset, else a short probe run on the worker; every prompt of the same base model (other
 * datasets) is compared by both similarities.
 */
export async function rankTransfer(context: HandlerContext, r: ValidRequestOf<'transfer.rank'>): Promise<TransferRanking> {
  const db = libraryOf(context);
  const model = requireModel(db, r.modelId);
  const dataset = requireDataset(db, r.datasetId);
  const base: BaseModel = { id: model.id, path: model.path, dModel: model.summary.dModel };
  const metric = r.metric ?? 'avg-token';
  let target: { matrix: PromptMatrix; info: TransferRanking['target']; exclude: number[] };
  const stored = storedTargetEmbedding(db, base, [dataset.id]);
  if (stored) {
    target = { matrix: stored.matrix, info: { kind: 'stored', promptId: stored.promptId, runId: null, step: stored.step }, exclude: [stored.promptId] };
  } else {
    if (dataset.labelColumn === null) {
      throw new SproutError('dataset-unlabelled', `Dataset "${dataset.name}" has no labels, so its task cannot be compared with others.`, { hint: 'Import it with its label column to rank transfer sources.' });
    }
    const settings = readSettings(context.dataDir);
    const steps = r.probeSteps ?? usualTaskEmbeddingStep(db, base);
    const probe = await context.worker.run('transfer.probe', {
      dataDir: context.dataDir,
      dModel: base.dModel,
      spec: { model: model.path, train: { dataset: dataset.id }, task: { template: r.template ?? dataset.template, labelColumn: dataset.labelColumn, verbalizer: r.verbalizer }, steps, device: settings.defaultDevice },
    });
    target = { matrix: probe.matrix, info: { kind: 'probe', promptId: probe.promptId, runId: probe.runId, step: probe.step }, exclude: probe.promptId === null ? [] : [probe.promptId] };
  }
  const ranked = rankSources(db, target.matrix, base, { metric, excludeDatasetIds: [dataset.id], excludePromptIds: target.exclude }).slice(0, r.limit ?? 50);
  const candidates = ranked.map((s) => {
    const summary = db.prepare('SELECT metrics FROM prompts WHERE id = ?').get(s.id) as { metrics: string };
    return {
      promptId: s.id,
      name: s.name,
      taskName: s.taskId === null ? null : (getTask(db, s.taskId)?.name ?? null),
      avgToken: s.avgToken,
      perToken: s.perToken,
      basis: s.basis,
      lineage: promptLineage(db, s.id).slice(1).map((p) => ({ promptId: p.id, name: p.name })),
      metrics: JSON.parse(summary.metrics) as Record<string, unknown>,
    };
  });
  const best = ranked[0];
  const recommended = best && best.score > 0 ? best.id : null;
  const reason =
    ranked.length === 0
      ? `No other prompt in the library was trained on ${model.id}; train from a fresh initialisation.`
      : recommended === null
        ? 'No library prompt is similar to this task; train from a fresh initialisation.'
        : `"${best.name}" is the most similar task (${metric} similarity ${best.score.toFixed(3)}); start from it with init prompt:${best.id}.`;
  return { modelId: model.id, datasetId: dataset.id, metric, target: target.info, candidates, recommended, reason };
}
