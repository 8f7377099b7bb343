import type { TransferRanking, ValidRequestOf } from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import { promptLineage } from '../../library/prompts.js';
import { getTask } from '../../library/tasks.js';
import { probeRecipe, usualTaskEmbeddingStep, type ProbeSpec } from '../../transfer/probe.js';
import { countSources, rankSources, type BaseModel, type RankedSource } from '../../transfer/rank.js';
import { DEFAULT_PROBES, DEFAULT_SIMILARITY_METRIC, SIMILARITY_METRICS, type SimilarityMetric } from '../../transfer/similarity.js';
import { targetEmbeddings, type ProbePlan } from '../../transfer/target-set.js';
import { passedOverNote, recommendSource, type Recommendation } from '../../transfer/recommend.js';
import { agreeing } from '../../wording.js';
import type { HandlerContext } from '../context.js';
import { requireDataset } from './data.js';
import { requireModel } from './models.js';

import { readSettings } from './settings.js';
import { libraryOf } from './library-connection.js';

/**
 * SPoT ranking for the wizard's Prompt step: the target task is compared through its newest stored task embeddings
 * (prompts trained on this dataset, earlier probes among them) and short probe runs on the worker for the rest;
 * every prompt of the same base model (other datasets) is compared by every similarity metric, averaged over them.
 */
async function rankTransfer(context: HandlerContext, r: ValidRequestOf<'transfer.rank'>, signal: AbortSignal): Promise<TransferRanking> {
  const db = libraryOf(context);
  const model = requireModel(db, r.modelId);
  const dataset = requireDataset(db, r.datasetId);
  const base: BaseModel = { id: model.id, path: model.path, dModel: model.summary.dModel };
  const metric = r.metric ?? DEFAULT_SIMILARITY_METRIC;
  const settings = { steps: r.probeSteps ?? usualTaskEmbeddingStep(db, base), ...probeSettings(r.probe) };
  const plan = (): ProbePlan => {
    if (dataset.labelColumn === null) {
      throw new SproutError('dataset-unlabelled', `Dataset "${dataset.name}" has no labels, so its task cannot be compared with others.`, {
        hint: 'Import it with its label column to rank transfer sources.',
      });
    }
    const { defaultDevice, threads } = readSettings(context.dataDir);
    const spec: ProbeSpec = {
      model: model.path,
      train: { dataset: dataset.id },
      task: { template: r.template ?? dataset.template, labelColumn: dataset.labelColumn, verbalizer: r.verbalizer },
      device: defaultDevice,
      ...(threads === null ? {} : { threads }),
      ...settings,
    };
    const run: ProbePlan['run'] = (probe, position, count, stop) =>
      context.worker.run(
        'transfer.probe',
        { dataDir: context.dataDir, spec: probe },
        (p) =>
          context.emit('transfer.progress', { datasetId: dataset.id, probe: position + 1, probes: count, step: p.step, steps: p.steps }),
        stop,
      );
    return { spec, run };
  };
  // With no other dataset's prompt to compare, the task's own embeddings are not worth a probe.
  const sources = countSources(db, base, { excludeDatasetIds: [dataset.id] });
  const embeddings = sources
    ? await targetEmbeddings(db, base, [dataset.id], {
        count: r.probes ?? DEFAULT_PROBES,
        withInit: SIMILARITY_METRICS[metric].of === 'shift',
        recipe: probeRecipe(settings),
        plan,
        signal,
      })
    : [];
  const target: TransferRanking['target'] = {
    kind: embeddings.some((e) => e.probeRunId !== null) ? 'probe' : 'stored',
    embeddings: embeddings.map((e) => ({ promptId: e.promptId, runId: e.probeRunId, step: e.step })),
  };
  const excluded = embeddings.map((e) => e.promptId);
  const others = sources ? rankSources(db, embeddings, base, { metric, excludeDatasetIds: [dataset.id], excludePromptIds: excluded }) : [];
  // Prompts of this same dataset (the stored target among them) are no transfer source for it; the person should
  // hear they exist but are left out. Probe runs' prompts are never listed, so they are not counted either.
  const sameData = countSources(db, base) - sources;
  const ranked = others.slice(0, r.limit ?? 50);
  const candidates = ranked.map((s) => ({
    promptId: s.id,
    name: s.name,
    taskName: s.taskId === null ? null : (getTask(db, s.taskId)?.name ?? null),
    similarity: s.similarity,
    basis: s.basis,
    lineage: promptLineage(db, s.id)
      .slice(1)
      .map((p) => ({ promptId: p.id, name: p.name })),
    metrics: s.metrics,
  }));
  const recommendation = recommendSource(ranked);
  const recommended = recommendation.id;
  return {
    modelId: model.id,
    datasetId: dataset.id,
    metric,
    target,
    candidates,
    recommended,
    reason: reason(ranked, recommendation, metric, model.id, { count: sameData, name: dataset.name }),
  };
}

/**
 * The rankings in flight, by dataset: the Prompt step stops the one it no longer waits for (the person left the step
 * or pressed Stop), so that its probe runs do not go on taking the cores a training run is about to need.
 */
export class TransferRankings {
  private readonly running = new Map<number, Set<AbortController>>();

  constructor(private readonly context: HandlerContext) {}

  async rank(r: ValidRequestOf<'transfer.rank'>): Promise<TransferRanking> {
    const controller = new AbortController();
    const set = this.running.get(r.datasetId) ?? new Set<AbortController>();
    this.running.set(r.datasetId, set.add(controller));
    try {
      return await rankTransfer(this.context, r, controller.signal);
    } finally {
      set.delete(controller);
      if (set.size === 0) this.running.delete(r.datasetId);
    }
  }

  /** Stops every ranking of the dataset; the probe runs they finished stay stored. */
  cancel(datasetId: number): { stopped: number } {
    const set = this.running.get(datasetId);
    for (const controller of set ?? []) controller.abort();
    return { stopped: set?.size ?? 0 };
  }
}

/** The probe's share of the run settings the task will train with (the engine's defaults for the rest). */
function probeSettings(p: ValidRequestOf<'transfer.rank'>['probe']): Pick<ProbeSpec, 'batchSize' | 'promptLength' | 'optimizer'> {
  if (!p) return {};
  const optimizer = p.optimizer === undefined && p.lr === undefined ? undefined : { kind: p.optimizer ?? 'adafactor', lr: p.lr };
  return { batchSize: p.batchSize, promptLength: p.promptLength, optimizer };
}

/** Why the recommendation (preselected in the Prompt step), in words for the person choosing. */
function reason(
  ranked: RankedSource[],
  { id: recommended, passedOver }: Recommendation,
  metric: SimilarityMetric,
  modelId: string,
  sameData: { count: number; name: string },
): string {
  const n = sameData.count;
  const left = n
    ? ` ${n === 1 ? 'One prompt' : `${n} prompts`} trained on this same dataset ("${sameData.name}")` +
      ` ${agreeing(n, 'is', 'are')} not listed: a task is no transfer source for itself.`
    : '';
  if (ranked.length === 0) {
    return (
      `${n ? `No prompt of ${modelId} was trained on another dataset` : `No other prompt in the library was trained on ${modelId}`}` +
      `, so there is nothing to transfer from: train from a fresh initialisation.${left}`
    );
  }
  const passed = passedOverNote(passedOver);
  if (recommended === null) {
    const none = passedOver.length ? 'No similar library prompt learnt its own task' : 'No library prompt is similar to this task';
    return `${none}, so none is preselected: train from a fresh initialisation.${passed}${left}`;
  }
  const best = ranked.find((s) => s.id === recommended)!;
  const most = passedOver.length ? 'the most similar of those that learnt their task' : 'the most similar to this one';
  return (
    `Preselected: “${best.name}”, whose task is ${most} (${best.score!.toFixed(3)}, the ${SIMILARITY_METRICS[metric].explains})` +
    `; choose "No transfer" to start from the setting above instead.${passed}${left}`
  );
}
