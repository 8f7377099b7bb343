import { SproutError } from '../errors.js';
import type { LibraryDb } from '../library/db.js';
import { findPromptId, promptLineage } from '../library/prompts.js';
import { dataDir } from '../paths.js';
import type { DataSource } from '../train/config.js';
import type { TrainingEvent } from '../train/events.js';
import { probeRecipe, probeTaskEmbedding, usualTaskEmbeddingStep, type ProbeSpec } from '../transfer/probe.js';
import { targetEmbeddings } from '../transfer/target-set.js';
import { countSources, DEFAULT_TOP_K, insertMixedPrompt, rankSources, type BaseModel } from '../transfer/rank.js';
import { recommendSource } from '../transfer/recommend.js';
import {
  DEFAULT_PROBES,
  DEFAULT_SIMILARITY_METRIC,
  MAX_PROBES,
  SIMILARITY_METRIC_NAMES,
  SIMILARITY_METRICS,
  type SimilarityMetric,
  type TaskEmbedding,
} from '../transfer/similarity.js';
import { datasetsWithSource, promptTarget, resolveBaseModel } from '../transfer/target.js';
import { printJson, UsageError, type Command, type ParsedArgs } from './command.js';
import { fileReadChoices, fileReadFlags, FILE_READ_HELP, TEXT_READ_HELP, fileSource, requireDataset, taskFlags } from './data-shared.js';
import { choiceFlag, countFlag, deviceFlag, maxInputLengthFlag, runLimitFlag, stringFlag, threadsFlag, weightsFlag } from './flags.js';
import { MODEL_HELP, withLibrary } from './model-shared.js';
import { interruptSignal, stoppedBy } from './interrupt.js';
import { statusLine } from './status-line.js';

const metricFlag = choiceFlag('metric', SIMILARITY_METRIC_NAMES);
/** SPoT's ways to use a ranking: its best source, trial runs from the top-k, or their weighted mix. */
const useFlag = choiceFlag('use', ['best', 'trial', 'mix'] as const);

interface Target {
  embeddings: TaskEmbedding[];
  json: Record<string, unknown>;
  datasetIds: number[];
  excludePromptIds: number[];
}

export const transferRankCommand: Command = {
  path: ['transfer', 'rank'],
  fileFlag: 'data',
  summary: 'Rank library prompts as transfer sources for a task (SPoT task-embedding similarity)',
  usage: `Usage: sprout transfer rank (--dataset ID | --data FILE [reading and task flags] | --prompt ID|NAME) --model MODEL
                            [${metricFlag.help}] [--probes ${DEFAULT_PROBES}] [--probe-steps N] [--top-k ${DEFAULT_TOP_K}] [${useFlag.help}] [--json]
${MODEL_HELP}

Compares the target task's embedding (its prompt at an early training step) with every library prompt trained on
the same base model (MODEL, above), by SPoT's two cosine similarities (Vu et al. 2021): avg-token (of
the mean-pooled prompt tokens) and per-token (mean over all token pairs), each either of the task embeddings as they
are or of their shifts (shift-avg-token, shift-per-token): each embedding minus the prompt its own training started
from, i.e. what it learned. Prompts initialised alike (the same seed and init) share most of their values early on,
so raw cosine favours the source that learned least; the shifts do not (README, "Transfer, measured"). --metric
picks the ranking key (default ${DEFAULT_SIMILARITY_METRIC}); all are shown. A prompt whose starting point is not stored
(imported, mixed, or trained before Sprout kept it) has no shift and ranks last by a shift metric.

A task is compared through --probes task embeddings of it (default ${DEFAULT_PROBES}, at most ${MAX_PROBES}), each metric
averaged over them: one early prompt moves with its seed about as much as with its task. They are the newest
prompts trained on that dataset (or on a dataset imported from the same file), earlier probes among them, whose runs
trained as a probe would (from the vocab init, with the same prompt length, batch size, optimiser and learning rate,
the embedding taken at the probe's step: an early prompt depends on them as much as on its task); for the rest,
probe runs train the target for --probe-steps steps (default: the step most library task embeddings were taken at,
else 100), each with a seed no stored one used, from --seed up. --prompt compares that one prompt. A probe on
--data needs the task flags of \`sprout train\` (a file imported before is probed as its dataset):
  [--text-column C]... --label-column L [--template T] [--verbalizer MAP] [--max-input-length N] ${FILE_READ_HELP}
  ${TEXT_READ_HELP}
  [--limit N] [--prompt-length 20] [--batch-size 32] [--seed 0] [${deviceFlag.help}] [--threads N] [${weightsFlag.help}]
Give the prompt length and batch size the sources were trained with: early in training a prompt's change depends on
the recipe as much as on the task.

Ways to use the ranking (SPoT): --use best (default) names the best source: the most similar (above 0) whose own
score is above its baselines (one that learnt nothing of its task is passed over: passed_over); --use trial lists the top-k for
short trial runs (train each with --init prompt:ID and keep the best); --use mix stores the top-k weighted average
(α = sim / Σ sim) as a new prompt and names it. Start training with the printed init (--init prompt:ID).
Ctrl-C stops the probe in training after its step (exit code 130); the probes that finished are kept for the next run.

--json prints one JSON line: { metric, model, target: {kind, dataset_ids, embeddings: [{prompt_id, step, probe_run_id,
seed}]}, use, best, passed_over, top_k, init, trial_inits, weights, mixed_prompt_id, and ranking (best first):
[{id, name, ${SIMILARITY_METRIC_NAMES.map(jsonKey).join(', ')}, score, basis, lineage, by_target}] }; by_target holds each
metric against each target embedding.`,
  options: {
    dataset: { type: 'string' },
    data: { type: 'string' },
    prompt: { type: 'string' },
    model: { type: 'string' },
    probes: { type: 'string' },
    'probe-steps': { type: 'string' },
    'top-k': { type: 'string' },
    name: { type: 'string' },
    json: { type: 'boolean', default: false },
    'text-column': { type: 'string', multiple: true },
    'label-column': { type: 'string' },
    template: { type: 'string' },
    verbalizer: { type: 'string' },
    ...fileReadFlags,
    limit: { type: 'string' },
    'max-input-length': { type: 'string' },
    'prompt-length': { type: 'string' },
    'batch-size': { type: 'string' },
    seed: { type: 'string' },
    threads: { type: 'string' },
  },
  choices: [metricFlag, useFlag, ...fileReadChoices, deviceFlag, weightsFlag],
  async run(args) {
    const { values } = args;
    const model = stringFlag(values, 'model');
    if (!model) throw new UsageError('Give the base model: --model MODEL (a model id or folder).');
    const sources = ['dataset', 'data', 'prompt'].filter((k) => values[k] !== undefined);
    if (sources.length !== 1) throw new UsageError('Give the target task: one of --dataset ID, --data FILE or --prompt ID|NAME.');
    // Ctrl-C while probes train stops the one in training after its step; the ones that finished stay stored.
    const interrupt = interruptSignal('stopping the probe run after this step…');
    try {
      const { output, ranked } = await withLibrary((db) => rank(db, model, args, interrupt.signal));
      printRanking(output, ranked, values.json === true);
    } catch (error) {
      return stoppedBy(interrupt.signal, error, 'The ranking was stopped; the probe runs that finished are kept for the next one.');
    } finally {
      interrupt.dispose();
    }
  },
};

/** The ranking and what --use makes of it, as --json prints it (and the ranked sources, for the table). */
async function rank(db: LibraryDb, model: string, args: ParsedArgs, signal: AbortSignal) {
  const { values } = args;
  const metric = metricFlag.read(values) ?? DEFAULT_SIMILARITY_METRIC;
  const use = useFlag.read(values) ?? 'best';
  const topK = countFlag(values, 'top-k') ?? DEFAULT_TOP_K;
  const base = resolveBaseModel(db, model);
  const target = await findTarget(db, base, args, SIMILARITY_METRICS[metric].of === 'shift', signal);
  const ranked = target.embeddings.length
    ? rankSources(db, target.embeddings, base, {
        metric,
        excludeDatasetIds: target.datasetIds,
        excludePromptIds: target.excludePromptIds,
      })
    : [];
  const top = ranked.slice(0, topK).map((r) => r.id);
  let mixed: { id: number; weights: { id: number; weight: number }[] } | null = null;
  if (use === 'mix') mixed = insertMixedPrompt(db, ranked, topK, stringFlag(values, 'name'));
  const recommended = recommendSource(ranked);
  const best = recommended.id;
  const output = {
    metric,
    model: { id: base.id, path: base.path, d_model: base.dModel },
    target: target.json,
    ranking: ranked.map((r) => ({
      id: r.id,
      name: r.name,
      ...Object.fromEntries(SIMILARITY_METRIC_NAMES.map((m) => [jsonKey(m), r.similarity[m]])),
      score: r.score,
      basis: r.basis,
      task_id: r.taskId,
      lineage: promptLineage(db, r.id)
        .slice(1)
        .map((p) => p.id),
      by_target: r.byTarget.map((values) => Object.fromEntries(SIMILARITY_METRIC_NAMES.map((m) => [jsonKey(m), values[m]]))),
    })),
    use,
    best,
    passed_over: recommended.passedOver.map((r) => r.id),
    top_k: top,
    init: mixed ? `prompt:${mixed.id}` : use === 'best' && best !== null ? `prompt:${best}` : null,
    trial_inits: use === 'trial' ? top.map((id) => `prompt:${id}`) : null,
    weights: mixed?.weights ?? null,
    mixed_prompt_id: mixed?.id ?? null,
  };
  return { output, ranked };
}

type Ranking = Awaited<ReturnType<typeof rank>>;

function printRanking(output: Ranking['output'], ranked: Ranking['ranked'], json: boolean): void {
  if (json) {
    printJson(output);
    return;
  }
  if (output.ranking.length === 0) {
    process.stdout.write('No library prompt was trained on this base model; train from a fresh initialisation (--init vocab).\n');
    return;
  }
  process.stdout.write(`Ranked by ${output.metric} similarity (all shown; — where a prompt's starting point is not stored):\n`);
  output.ranking.forEach((r, i) => {
    const values = SIMILARITY_METRIC_NAMES.map((m) => `${m} ${ranked[i].similarity[m]?.toFixed(4) ?? '—'.padEnd(6)}`);
    process.stdout.write(
      `${String(r.id).padStart(4)}  ${values.join('  ')}  ${r.name}${r.lineage.length ? `  (from ${r.lineage.join(' ← ')})` : ''}\n`,
    );
  });
  for (const id of output.passed_over)
    process.stdout.write(`Passed over ${id}: its score on its own task is not above its baselines, so it learnt nothing to pass on.\n`);
  if (output.init) process.stdout.write(`Start training with --init ${output.init}\n`);
  if (output.trial_inits) process.stdout.write(`Trial each of: ${output.trial_inits.map((i) => `--init ${i}`).join(', ')}\n`);
}

/** avg-token → avg_token: the JSON key of a metric's value. */
function jsonKey(metric: SimilarityMetric): string {
  return metric.replaceAll('-', '_');
}

async function findTarget(db: LibraryDb, base: BaseModel, { values }: ParsedArgs, withInit: boolean, signal: AbortSignal): Promise<Target> {
  const count = countFlag(values, 'probes');
  if (count !== undefined && count > MAX_PROBES) throw new UsageError(`--probes is at most ${MAX_PROBES}.`);
  if (values.prompt !== undefined) {
    if (count !== undefined) throw new UsageError('--prompt compares that one prompt; --probes is for --dataset or --data.');
    const id = findPromptId(db, stringFlag(values, 'prompt')!);
    const t = promptTarget(db, id, base);
    return { embeddings: [t], json: { kind: 'prompt', prompt_id: id, step: t.step }, datasetIds: [], excludePromptIds: [id] };
  }
  let datasetIds: number[];
  let datasetId: number | undefined;
  if (values.dataset !== undefined) {
    datasetId = countFlag(values, 'dataset')!;
    requireDataset(db, datasetId);
    datasetIds = [datasetId];
  } else {
    datasetIds = await datasetsWithSource(db, stringFlag(values, 'data')!);
  }
  const promptLength = runLimitFlag(values, 'prompt-length', 'promptLength');
  const batchSize = runLimitFlag(values, 'batch-size', 'batchSize');
  // With nothing to compare it with, the target is not worth a probe.
  if (countSources(db, base, { excludeDatasetIds: datasetIds }) === 0) {
    return { embeddings: [], json: { kind: 'stored', dataset_ids: datasetIds, embeddings: [] }, datasetIds, excludePromptIds: [] };
  }
  const steps = countFlag(values, 'probe-steps') ?? usualTaskEmbeddingStep(db, base);
  const embeddings = await targetEmbeddings(db, base, datasetIds, {
    count: count ?? DEFAULT_PROBES,
    withInit,
    recipe: probeRecipe({ promptLength, batchSize, steps }),
    signal,
    plan: () => {
      const spec = probeSpec(db, base, values, datasetId ?? datasetIds[0], steps);
      return {
        spec,
        run: async (probe, position, n, stop) => {
          process.stderr.write(`Probing the target task (${position + 1} of ${n}, seed ${probe.seed}, ${steps} training steps)…\n`);
          const result = await probeTaskEmbedding(probe, {
            dataDir: dataDir(),
            signal: stop,
            onProgress: probeProgress(`probe ${position + 1} of ${n}`),
          });
          process.stderr.write(`probe run ${result.runId} done.\n`);
          return result;
        },
      };
    },
  });
  return {
    embeddings,
    json: {
      kind: embeddings.some((e) => e.probeRunId !== null) ? 'probe' : 'stored',
      dataset_ids: datasetIds,
      embeddings: embeddings.map((e) => ({ prompt_id: e.promptId, step: e.step, probe_run_id: e.probeRunId, seed: e.seed })),
    },
    datasetIds,
    excludePromptIds: embeddings.map((e) => e.promptId),
  };
}

/** A probe's steps on a status line, as `sprout label` reports rows: a probe on a large model takes minutes. */
function probeProgress(name: string): (e: TrainingEvent) => void {
  const show = statusLine();
  return (e) => {
    if (e.kind !== 'step') return;
    const eta = e.etaS === null ? '' : ` · ETA ${Math.ceil(e.etaS)} s`;
    show(`${name}: step ${e.step}/${e.steps} · loss ${e.loss.toFixed(4)}${eta}`, e.step === e.steps);
  };
}

function probeSpec(db: LibraryDb, base: BaseModel, values: ParsedArgs['values'], datasetId: number | undefined, steps: number): ProbeSpec {
  if (base.path === null)
    throw new SproutError('unknown-model', `Model ${base.id} has no folder on this machine, so a probe run cannot train on it.`);
  const { template, labelColumn, verbalizer } = taskFlags(values, datasetId === undefined ? undefined : requireDataset(db, datasetId));
  const train: DataSource =
    datasetId !== undefined ? { dataset: datasetId, limit: countFlag(values, 'limit') } : fileSource(values, stringFlag(values, 'data')!);
  if (!labelColumn) throw new UsageError('The probe run needs the label column: --label-column L.');
  if (!template) throw new UsageError('The probe run needs the text column(s): --text-column C (or --template T).');
  return {
    model: base.path,
    train,
    task: {
      template,
      labelColumn,
      verbalizer,
      maxInputLength: maxInputLengthFlag(values),
    },
    steps,
    promptLength: runLimitFlag(values, 'prompt-length', 'promptLength'),
    batchSize: runLimitFlag(values, 'batch-size', 'batchSize'),
    seed: runLimitFlag(values, 'seed', 'seed'),
    device: deviceFlag.read(values),
    threads: threadsFlag(values),
    weights: weightsFlag.read(values),
  };
}
