/**
 * `npm run bench -- evaluation`: one evaluation round as training runs it and `sprout evaluate` does
 * (main/train/evaluate.ts: rank scoring of 2 labels, then greedy decoding, batch by batch), 256 examples of 64
 * tokens, batch 32, 2 threads, on two random checkpoints: t5-small's shape, and mini-t5-instruct's (d_model 128,
 * 3 + 3 layers: calls of a few milliseconds, where what happens between runs weighs most). Seconds and CPU time per
 * round, median of 3 after a warm-up. A round takes turns between two sessions (score, whose encoder states greedy
 * decoding reuses, and decode step);
 * `idle_cpu_ms` is the CPU the process spends in the 200 ms after a run returns (the least of three such windows):
 * what thread pools left spinning cost (see runtime/session.ts).
 */
import { join } from 'node:path';
import type { T5Config } from '../checkpoint/config.js';
import { loadPromptModel } from '../runtime/model.js';
import type { EncodedExample } from '../train/encode.js';
import { evaluate } from '../train/evaluate.js';
import { ensureCheckpoint, T5_SMALL, type EngineBenchOptions } from './engine.js';
import { cpuAfterRunMs, cpuMs, median, randomIds, time } from './measure.js';

const EXAMPLES = 256;
const BATCH = 32;
const INPUT_TOKENS = 64;
const THREADS = 2;
const ROUNDS = 3;
const IDLE_WINDOW_MS = 200;
const LABEL_TARGETS = [
  [9961, 1],
  [29452, 1],
];

/** mini-t5-instruct's shape (../shared/fixtures), with random weights. */
const MINI: Partial<T5Config> = {
  dModel: 128,
  dKv: 32,
  numHeads: 4,
  dFf: 512,
  numLayers: 3,
  numDecoderLayers: 3,
  feedForward: 'gated-gelu',
  tieWordEmbeddings: false,
};

async function shapeRow(dir: string) {
  const model = await loadPromptModel(dir, { device: 'cpu', threads: THREADS });
  const prompt = { length: 20, data: model.embeddings(randomIds(20, 5000, 1)) };
  const examples: EncodedExample[] = Array.from({ length: EXAMPLES }, (_, i) => ({
    input: randomIds(INPUT_TOKENS - 1, 32000, 300 + i).concat(1),
    target: LABEL_TARGETS[i % 2],
    label: i % 2,
  }));
  const round = () => evaluate(model, prompt, examples, { labels: ['a', 'b'], labelTargets: LABEL_TARGETS, batchSize: BATCH });
  await round();
  const seconds: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const before = process.cpuUsage();
    seconds.push((await time(round)) / 1000);
    cpu.push(cpuMs(before));
  }
  const batch = examples.slice(0, BATCH).map((e) => e.input);
  const idle = await cpuAfterRunMs(() => model.score(prompt, batch, LABEL_TARGETS), IDLE_WINDOW_MS);
  await model.dispose();
  return {
    round_s: Number(median(seconds).toFixed(3)),
    rows_per_s: Number((EXAMPLES / median(seconds)).toFixed(1)),
    round_cpu_ms: Math.round(median(cpu)),
    idle_cpu_ms: Number(idle.toFixed(1)),
  };
}

export async function benchEvaluation(o: EngineBenchOptions) {
  return {
    benchmark: 'evaluation',
    examples: EXAMPLES,
    batch: BATCH,
    input_tokens: INPUT_TOKENS,
    labels: LABEL_TARGETS.length,
    threads: THREADS,
    idle_window_ms: IDLE_WINDOW_MS,
    't5-small': await shapeRow(await ensureCheckpoint(join(o.workDir, 't5-small-random'), T5_SMALL, o.tokenizerFrom)),
    'mini-t5-instruct-shape': await shapeRow(await ensureCheckpoint(join(o.workDir, 'mini-shape-random'), MINI, o.tokenizerFrom)),
  };
}
