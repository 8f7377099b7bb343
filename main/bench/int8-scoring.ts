/**
 * `npm run bench -- int8-scoring`: scoring with int8 products (--compute int8) against float32, two ways.
 *   speed — a random t5-base-shaped checkpoint (float32 weights), batch 8, 64 input + 20 prompt tokens, 2 candidates:
 *     both models loaded in this process and timed in alternation (float, int8, float, int8, …), so that a load
 *     spike from other processes hits both alike; wall and CPU time per call, medians, and their ratios.
 *   agreement — ../shared/fixtures/mini-t5-instruct with Hugging Face's float32-trained reference prompts
 *     (prompt_tuning_reference.json): SST-2 dev and the held-out AG News rows (data rows 6000..7599 of test.csv,
 *     see the fixture's README), each labelled by both; the share of rows where the labels agree and both accuracies.
 * Reads ../shared: a development benchmark.
 */
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { COMPUTES } from '../choices.js';
import { readRecords } from '../data/read.js';
import { loadPromptModel, type T5PromptModel } from '../runtime/model.js';
import type { SoftPrompt } from '../runtime/types.js';
import { loadTokenizer } from '../tokenizer/index.js';
import type { ComputeChoice } from '../weights/width.js';
import { ensureCheckpoint } from './engine.js';
import { AG_NEWS_TRAIN_ROWS, instructModel, readInstructRuns, referencePrompt } from './learning-reference.js';
import { T5_BASE } from './memory.js';
import { cpuMs, median, randomIds, time } from './measure.js';

export interface Int8ScoringOptions {
  root: string;
  workDir: string;
  tokenizerFrom: string;
}

const ROUNDS = 7;

async function speed(o: Int8ScoringOptions) {
  const dir = await ensureCheckpoint(join(o.workDir, 't5-base-random'), T5_BASE, o.tokenizerFrom);
  const B = 8,
    L = 64,
    P = 20;
  const inputs = Array.from({ length: B }, (_, b) => randomIds(L - 1, 32000, b).concat(1));
  const candidates = [
    [9961, 1],
    [29452, 1],
  ];
  // Load makes float32 suffer more than int8 (2.69× at load 18, 2.05× quiet, same code): the ratio needs its load.
  const loadAverage = Number(loadavg()[0].toFixed(1));
  const runs: { compute: ComputeChoice; run: () => Promise<unknown>; wall: number[]; cpu: number[]; model: T5PromptModel }[] = [];
  for (const compute of COMPUTES) {
    const model = await loadPromptModel(dir, { device: 'cpu', compute, cacheDir: join(o.workDir, 'cache') });
    const prompt = { length: P, data: model.embeddings(randomIds(P, 5000, 1)) };
    const run = () => model.score(prompt, inputs, candidates);
    await run();
    runs.push({ compute, run, wall: [], cpu: [], model });
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const r of runs) {
      const before = process.cpuUsage();
      r.wall.push(await time(r.run));
      r.cpu.push(cpuMs(before));
    }
  }
  await Promise.all(runs.map((r) => r.model.dispose()));
  const [float, int8] = runs.map((r) => ({
    wall_ms: Math.round(median(r.wall)),
    cpu_ms: Math.round(median(r.cpu)),
    score_rows_per_s: Number((B / (median(r.wall) / 1000)).toFixed(2)),
  }));
  return {
    shape: 't5-base',
    batch: B,
    input_tokens: L,
    prompt_length: P,
    candidates: 2,
    rounds: ROUNDS,
    float,
    int8,
    speedup_wall: Number((float.wall_ms / int8.wall_ms).toFixed(2)),
    speedup_cpu: Number((float.cpu_ms / int8.cpu_ms).toFixed(2)),
    target: 2.5,
    load_average: loadAverage,
  };
}

/** The two tasks of mini-t5-instruct's reference prompt tuning: bare text and gold label index per row. */
async function taskRows(root: string, task: 'sst2' | 'topic'): Promise<{ texts: string[]; gold: number[] }> {
  const data = join(root, '../shared/data');
  const texts: string[] = [];
  const gold: number[] = [];
  if (task === 'sst2') {
    for await (const r of readRecords(join(data, 'sst2/dev.tsv'), { header: true, quoting: 'none' })) {
      texts.push(r.fields.sentence ?? '');
      gold.push(Number(r.fields.label));
    }
    return { texts, gold };
  }
  let index = 0;
  for await (const r of readRecords(join(data, 'ag_news/test.csv'), { header: false })) {
    if (index++ < AG_NEWS_TRAIN_ROWS) continue;
    texts.push(`${(r.fields['1'] ?? '').trim()} ${(r.fields['2'] ?? '').trim()}`);
    gold.push(Number(r.fields['0']) - 1);
  }
  return { texts, gold };
}

async function labels(model: T5PromptModel, prompt: SoftPrompt, ids: number[][], candidates: number[][]): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i += 32) {
    const scores = await model.score(prompt, ids.slice(i, i + 32), candidates);
    for (let r = 0; r < scores.length / candidates.length; r++) {
      const row = scores.subarray(r * candidates.length, (r + 1) * candidates.length);
      out.push(row.indexOf(Math.max(...row)));
    }
  }
  return out;
}

async function agreement(o: Int8ScoringOptions) {
  const shared = join(o.root, '../shared');
  const dir = instructModel(shared);
  const reference = readInstructRuns(shared);
  const tokenizer = await loadTokenizer(dir);
  const models = await Promise.all(
    COMPUTES.map((compute) => loadPromptModel(dir, { device: 'cpu', compute, cacheDir: join(o.workDir, 'cache') })),
  );
  const tasks: Record<string, unknown> = {};
  for (const task of ['sst2', 'topic'] as const) {
    const { texts, gold } = await taskRows(o.root, task);
    const run = reference[task];
    const prompt = referencePrompt(run);
    // As the reference runs tokenised: 64 tokens, then eos.
    const { ids } = tokenizer.encodeBatch(texts, { maxLength: 65 });
    const [float, int8] = [
      await labels(models[0], prompt, ids, run.candidate_ids),
      await labels(models[1], prompt, ids, run.candidate_ids),
    ];
    const accuracy = (p: number[]) => Number(((100 * p.filter((x, i) => x === gold[i]).length) / gold.length).toFixed(2));
    tasks[task] = {
      rows: gold.length,
      agreement_percent: Number(((100 * float.filter((x, i) => x === int8[i]).length) / gold.length).toFixed(2)),
      accuracy_float: accuracy(float),
      accuracy_int8: accuracy(int8),
    };
  }
  await Promise.all(models.map((m) => m.dispose()));
  return {
    model: 'mini-t5-instruct',
    prompts: 'prompt_tuning_reference.json runs.*.final_prompt',
    targets: { agreement_percent: 99.5, accuracy_points: 0.5 },
    ...tasks,
  };
}

export async function benchInt8Scoring(o: Int8ScoringOptions): Promise<Record<string, unknown>> {
  return { benchmark: 'int8-scoring', speed: await speed(o), agreement: await agreement(o) };
}
