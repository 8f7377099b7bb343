/**
 * `npm run bench -- learning-transfer` (part of `learning`): SPoT soft-prompt transfer end to end on
 * ../shared/fixtures/mini-t5-instruct. Trains source prompts for sst2, topic, cola and rte on their bare inputs
 * (the `lester-reference` recipe); then for each target, 64 training rows, runs `sprout transfer rank` (probes
 * of the target, as a user would, as many as it takes by default) and trains the target for the same number of
 * steps from class-label init and from every source, evaluated on held-out rows. It also ranks from the class-label
 * run's own task embedding, the target that made raw cosine rank the cola prompt first. Writes the `transfer` key
 * and section of bench-results/learning.{json,md} (learning-results.ts keeps the others): the README's "Transfer,
 * measured".
 * A development benchmark: it reads ../shared.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DataSource, TrainingConfigInput } from '../train/config.js';
import { applyPreset, presetSettings } from '../train/presets.js';
import { runTraining } from '../train/run.js';
import { libraryPath, openLibrary } from '../library/db.js';
import { inLibrary } from '../library/run-records.js';
import { requirePrompt } from '../library/prompts.js';
import {
  avgTokenSimilarity,
  DEFAULT_SIMILARITY_METRIC,
  shift,
  SIMILARITY_METRIC_NAMES,
  type PromptMatrix,
  type SimilarityMetric,
} from '../transfer/similarity.js';
import { AG_NEWS_LABEL_WORDS, AG_NEWS_ROWS, AG_NEWS_TEMPLATE, writeAgNewsRows, type AgNewsClass } from './ag-news.js';
import { AG_NEWS_TRAIN_ROWS, REFERENCE_MAX_INPUT_LENGTH } from './learning-reference.js';
import { mergeLearningMarkdown, mergeLearningResults } from './learning-results.js';
import { transferMarkdown, type Similarities } from './learning-transfer-report.js';

/** Source prompts train this long; the task embedding of every prompt (sources, probes, targets) is taken at TARGET_STEPS. */
const SOURCE_STEPS = 300;
/** Every target run, and the probe `transfer rank` trains, is this many steps. */
const TARGET_STEPS = 100;
const TARGET_ROWS = 64;
/** One thread, so that a rerun elsewhere sums alike. */
const THREADS = 1;

const SOURCE_NAMES = ['sst2', 'topic', 'cola', 'rte'] as const;
type SourceName = (typeof SOURCE_NAMES)[number];

interface FileTask {
  train: Extract<DataSource, { file: string }>;
  validation: Extract<DataSource, { file: string }>;
  template: string;
  labelColumn: string;
  verbalizer: Record<string, string>;
}

interface TargetTask extends FileTask {
  related: SourceName;
  reportOnly: boolean;
  /** Training rows per class (AG News pairs, as written). */
  rows?: Record<string, number>;
}

const words = (classes: AgNewsClass[]) => Object.fromEntries(classes.map((c) => [String(c), AG_NEWS_LABEL_WORDS[c]]));

/** The four source tasks on their bare inputs (as ../shared/fixtures/mini-t5-instruct/README.md describes them). */
function sourceTasks(shared: string): Record<SourceName, FileTask> {
  const data = (p: string) => join(shared, 'data', p);
  const ag = { file: data('ag_news/test.csv'), header: false };
  const glueTsv = { header: false, quoting: 'none' as const };
  return {
    sst2: {
      train: { file: data('sst2/train.tsv') },
      validation: { file: data('sst2/dev.tsv') },
      template: '{sentence}',
      labelColumn: 'label',
      verbalizer: { 0: 'negative', 1: 'positive' },
    },
    topic: {
      train: { ...ag, limit: AG_NEWS_TRAIN_ROWS },
      validation: { ...ag, skip: AG_NEWS_TRAIN_ROWS },
      template: AG_NEWS_TEMPLATE,
      labelColumn: '0',
      verbalizer: words([1, 2, 3, 4]),
    },
    cola: {
      train: { file: data('cola/in_domain_train.tsv'), ...glueTsv },
      validation: { file: data('cola/in_domain_dev.tsv'), ...glueTsv },
      template: '{3}',
      labelColumn: '1',
      verbalizer: { 0: 'unacceptable', 1: 'acceptable' },
    },
    rte: {
      train: { file: data('rte/train.tsv'), quoting: 'none' },
      validation: { file: data('rte/dev.tsv'), quoting: 'none' },
      template: '{sentence1} {sentence2}',
      labelColumn: 'label',
      verbalizer: { entailment: 'entailment', not_entailment: 'not_entailment' },
    },
  };
}

/** Two AG News pairs of classes (the topic source's label words) and the report-only sentiment target. */
function targetTasks(shared: string, dir: string): Record<string, TargetTask> {
  const pair = (name: string, classes: AgNewsClass[]): TargetTask => {
    const train = join(dir, `${name}-train.csv`);
    const heldOut = join(dir, `${name}-held-out.csv`);
    const rows = writeAgNewsRows(shared, train, { from: 0, to: AG_NEWS_TRAIN_ROWS, classes, limit: TARGET_ROWS });
    writeAgNewsRows(shared, heldOut, { from: AG_NEWS_TRAIN_ROWS, to: AG_NEWS_ROWS, classes });
    const csv = { header: false };
    return {
      train: { file: train, ...csv },
      validation: { file: heldOut, ...csv },
      template: AG_NEWS_TEMPLATE,
      labelColumn: '0',
      verbalizer: words(classes),
      related: 'topic',
      reportOnly: false,
      rows,
    };
  };
  return {
    world_vs_science: pair('world-vs-science', [1, 4]),
    sports_vs_business: pair('sports-vs-business', [2, 3]),
    sentiment: {
      train: { file: join(shared, 'data/sst2/train.tsv'), limit: TARGET_ROWS },
      validation: { file: join(shared, 'data/sst2/dev.tsv') },
      template: '{sentence}',
      labelColumn: 'label',
      verbalizer: { 0: 'terrible', 1: 'great' },
      related: 'sst2',
      reportOnly: true,
    },
  };
}

function trainingConfig(
  model: string,
  task: FileTask,
  name: string,
  steps: number,
  settings: Partial<TrainingConfigInput>,
): TrainingConfigInput {
  const given: TrainingConfigInput = {
    model,
    device: 'cpu',
    threads: THREADS,
    train: task.train,
    validation: task.validation,
    task: {
      template: task.template,
      labelColumn: task.labelColumn,
      verbalizer: task.verbalizer,
      maxInputLength: REFERENCE_MAX_INPUT_LENGTH,
    },
    steps,
    // Evaluated at the end only: the kept prompt is the last one; step 0 is the run's zero-shot baseline.
    evalAtStart: false,
    evalSteps: [steps],
    checkpointEvery: steps,
    taskEmbeddingStep: TARGET_STEPS,
    name,
    ...settings,
  };
  return applyPreset(given, presetSettings('lester-reference'));
}

interface Trained {
  promptId: number;
  /** Rank accuracy on the validation rows at step 0 and at the last step. */
  start: number;
  end: number;
  seconds: number;
}

async function train(home: string, config: TrainingConfigInput, log: (m: string) => void): Promise<Trained> {
  const t0 = performance.now();
  let start = NaN;
  let end = NaN;
  const result = await runTraining(
    { config },
    {
      ...inLibrary(home),
      onProgress: (e) => {
        if (e.kind === 'zero-shot') start = e.summary.rank_accuracy!;
        if (e.kind === 'eval' && e.step === config.steps) end = e.summary.rank_accuracy!;
      },
    },
  );
  const seconds = Math.round((performance.now() - t0) / 1000);
  log(`${config.name}: ${(start * 100).toFixed(1)} % → ${(end * 100).toFixed(1)} % after ${result.steps} steps (${seconds} s)`);
  return { promptId: result.prompt_id!, start, end, seconds };
}

interface Ranked {
  /** Each metric's mean over the target's task embeddings. */
  similarity: Similarities;
  /** The same against each task embedding (one per probe), in the order `transfer rank` reports them. */
  byTarget: Similarities[];
  /** The probes' seeds (null for a stored embedding). */
  seeds: (number | null)[];
}

/** `sprout transfer rank --json` as a user runs it; the sources' values under every metric. */
function rank(root: string, home: string, args: string[], sourceIds: Record<SourceName, number>): Ranked {
  const out = execFileSync(process.execPath, [join(root, 'out/cli.js'), 'transfer', 'rank', '--json', ...args], {
    env: { ...process.env, SPROUT_HOME: home },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const json = JSON.parse(out.trim().split('\n').at(-1)!) as {
    ranking: (Record<string, unknown> & { by_target: Record<string, number | null>[] })[];
    target: { embeddings?: { seed: number | null }[] };
  };
  const byId = new Map(json.ranking.map((r) => [r.id as number, r]));
  const values = (read: (r: Record<string, unknown>, key: string) => number | null) =>
    Object.fromEntries(
      SIMILARITY_METRIC_NAMES.map((m) => [
        m,
        Object.fromEntries(
          SOURCE_NAMES.map((s) => {
            const r = byId.get(sourceIds[s]);
            return [s, r ? read(r, m.replaceAll('-', '_')) : null];
          }),
        ),
      ]),
    ) as Similarities;
  const seeds = json.target.embeddings?.map((e) => e.seed) ?? [null];
  return {
    similarity: values((r, key) => (r[key] as number | null) ?? null),
    byTarget: seeds.map((_, i) => values((r, key) => (r.by_target as Record<string, number | null>[])[i][key] ?? null)),
    seeds,
  };
}

/** Source names best first under each metric (no value last). */
function orderings(similarity: Similarities): Record<SimilarityMetric, SourceName[]> {
  const value = (m: SimilarityMetric, s: SourceName) => similarity[m][s] ?? -Infinity;
  return Object.fromEntries(SIMILARITY_METRIC_NAMES.map((m) => [m, [...SOURCE_NAMES].sort((a, b) => value(m, b) - value(m, a))])) as Record<
    SimilarityMetric,
    SourceName[]
  >;
}

/** The `--data` flags that make `transfer rank` probe the target as its runs train it. */
function dataFlags(task: FileTask): string[] {
  const t = task.train;
  return [
    '--data',
    t.file,
    ...(t.header === false ? ['--no-header'] : []),
    ...(t.quoting ? ['--quoting', t.quoting] : []),
    ...(t.limit ? ['--limit', String(t.limit)] : []),
    '--max-input-length',
    String(REFERENCE_MAX_INPUT_LENGTH),
    '--template',
    task.template,
    '--label-column',
    task.labelColumn,
    '--verbalizer',
    Object.entries(task.verbalizer)
      .map(([l, w]) => `${l}=${w}`)
      .join(','),
  ];
}

export interface BenchOptions {
  root: string;
  outDir: string;
  workDir: string;
}

export async function benchLearningTransfer({ root, outDir, workDir }: BenchOptions): Promise<Record<string, unknown>> {
  const shared = resolve(root, '../shared');
  const model = join(shared, 'fixtures/mini-t5-instruct');
  const dir = join(workDir, 'learning-transfer');
  rmSync(dir, { recursive: true, force: true });
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  const log = (m: string) => process.stderr.write(`learning-transfer: ${m}\n`);
  const t0 = performance.now();

  const sources = {} as Record<SourceName, Trained>;
  for (const [name, task] of Object.entries(sourceTasks(shared)) as [SourceName, FileTask][]) {
    sources[name] = await train(home, trainingConfig(model, task, name, SOURCE_STEPS, {}), log);
  }
  const sourceIds = Object.fromEntries(SOURCE_NAMES.map((s) => [s, sources[s].promptId])) as Record<SourceName, number>;
  const targets = targetTasks(shared, dir);
  const modelFlags = ['--model', model, '--probe-steps', String(TARGET_STEPS)];
  // Every target is ranked before any target run exists, as a first-time user would rank it.
  const probed = Object.fromEntries(
    Object.entries(targets).map(([name, task]) => [name, rank(root, home, [...dataFlags(task), ...modelFlags], sourceIds)]),
  );

  const transfer: Record<string, unknown> = {};
  for (const [name, task] of Object.entries(targets)) {
    const run = (init: string, label: string) =>
      train(home, trainingConfig(model, task, `${name} from ${label}`, TARGET_STEPS, { init }), log);
    const fromLabels = await run('labels', 'class labels');
    const fromSource = {} as Record<SourceName, Trained>;
    for (const s of SOURCE_NAMES) fromSource[s] = await run(`prompt:${sourceIds[s]}`, s);
    // The class-label run's own task embedding as the target: prompts of one seed share its start.
    const fromLabelRun = rank(root, home, ['--prompt', String(fromLabels.promptId), '--model', model], sourceIds).similarity;
    transfer[name] = {
      ...targetResult(task, probed[name], fromLabelRun, fromLabels, fromSource),
      label_run_start: startEvidence(home, fromLabels.promptId, sourceIds),
    };
  }

  const result = {
    benchmark: 'learning-transfer',
    model: 'mini-t5-instruct',
    recipe:
      `lester-reference preset (class-label init, Adafactor lr 0.3, batch 32, seed 0), fp32, CPU, ${THREADS} thread` +
      `; sources ${SOURCE_STEPS} steps, targets ${TARGET_STEPS} steps from each init, ${TARGET_ROWS} training rows; task embeddings at step ${TARGET_STEPS}`,
    sources: Object.fromEntries(
      SOURCE_NAMES.map((s) => [
        s,
        { steps: SOURCE_STEPS, dev_accuracy_start: sources[s].start, dev_accuracy: sources[s].end, seconds: sources[s].seconds },
      ]),
    ),
    transfer,
    seconds: Math.round((performance.now() - t0) / 1000),
  };
  mergeLearningResults(outDir, 'transfer', transfer);
  mergeLearningMarkdown(outDir, 'transfer', transferMarkdown(result, TARGET_STEPS));
  return result;
}

/**
 * Why raw cosine misranks from the class-label run's task embedding: how alike its start is to each source's (same
 * seed, same vocabulary rows beyond the classes), and how far each prompt had moved from its own start by then.
 */
function startEvidence(home: string, targetId: number, sourceIds: Record<SourceName, number>): Record<string, Record<string, number>> {
  const db = openLibrary(libraryPath(home));
  try {
    const read = (id: number) => {
      const p = requirePrompt(db, id);
      const at = (data: Float32Array): PromptMatrix => ({ length: p.length, data });
      return { start: at(p.initEmbedding!), moved: shift({ matrix: at(p.taskEmbedding!), init: at(p.initEmbedding!) })!, d: p.dModel };
    };
    const target = read(targetId);
    const norm = (m: PromptMatrix) => Number(Math.hypot(...m.data).toFixed(2));
    const sources = SOURCE_NAMES.map((s) => [s, read(sourceIds[s])] as const);
    return {
      start_avg_token: Object.fromEntries(
        sources.map(([s, p]) => [s, Number(avgTokenSimilarity(target.start, p.start, target.d).toFixed(4))]),
      ),
      shift_norm: { target: norm(target.moved), ...Object.fromEntries(sources.map(([s, p]) => [s, norm(p.moved)])) },
    };
  } finally {
    db.close();
  }
}

function targetResult(
  task: TargetTask,
  probed: Ranked,
  fromLabelRun: Similarities,
  labels: Trained,
  fromSource: Record<SourceName, Trained>,
): Record<string, unknown> {
  const ranking = orderings(probed.similarity);
  const perSource = Object.fromEntries(SOURCE_NAMES.map((s) => [s, fromSource[s].end]));
  const topRanked = ranking[DEFAULT_SIMILARITY_METRIC][0];
  const best = SOURCE_NAMES.reduce((a, b) => (perSource[b] > perSource[a] ? b : a));
  const alone = probed.byTarget.map(orderings);
  return {
    related_source: task.related,
    report_only: task.reportOnly,
    metric: DEFAULT_SIMILARITY_METRIC,
    ranking,
    similarity: probed.similarity,
    target_embedding: `mean over ${probed.seeds.length} probes of \`transfer rank\` (seeds ${probed.seeds.join(', ')}; ${TARGET_STEPS} steps on the target's training rows, vocab init)`,
    // Each probe's own first source: what a ranking by one probe would have recommended.
    single_probe: {
      seeds: probed.seeds,
      first: Object.fromEntries(SIMILARITY_METRIC_NAMES.map((m) => [m, alone.map((o) => o[m][0])])),
      related_first: Object.fromEntries(SIMILARITY_METRIC_NAMES.map((m) => [m, alone.filter((o) => o[m][0] === task.related).length])),
      similarity: probed.byTarget,
    },
    ranking_from_label_run: { ranking: orderings(fromLabelRun), similarity: fromLabelRun },
    accuracy: {
      label_init: labels.end,
      top_ranked: perSource[topRanked],
      best_source: perSource[best],
      per_source: perSource,
      top_ranked_source: topRanked,
      best_source_name: best,
      top_ranked_minus_label_init: Number((perSource[topRanked] - labels.end).toFixed(6)),
      at_step_0: { label_init: labels.start, per_source: Object.fromEntries(SOURCE_NAMES.map((s) => [s, fromSource[s].start])) },
    },
    train_rows: task.rows ?? TARGET_ROWS,
  };
}
