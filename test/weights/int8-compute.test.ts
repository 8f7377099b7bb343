/**
 * Scoring with int8 products (--compute int8): labels against float32's on real data, each row's result its own
 * whatever else is in its batch, and the CLI recording the compute a job labels with. The full agreement figures
 * (every SST-2 dev row and held-out AG News row) and the speed are `npm run bench -- int8-scoring`'s.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instructModel, readInstructRuns, referencePrompt, type LearningTask } from '../../main/bench/learning-reference.js';
import { parseT5Config } from '../../main/checkpoint/config.js';
import { expectedTensors, isProjection } from '../../main/checkpoint/layout.js';
import { buildScoreGraph, buildTrainGraph } from '../../main/graph/t5/graphs.js';
import type { WeightLookup } from '../../main/graph/t5/model.js';
import { loadPromptModel, type T5PromptModel } from '../../main/runtime/model.js';
import { requireComputeOn } from '../../main/runtime/width-policy.js';
import { loadTokenizer } from '../../main/tokenizer/index.js';
import { sprout } from '../fault/spawn.js';
import { writePromptFiles } from '../label/prompt-fixture.js';
import { shared, tinyModel } from '../train/fixtures.js';

const instruct = instructModel(shared);
const ROWS = 256;

/** The first ROWS rows of each reference task, read with Python's csv module: bare text and gold label index. */
function taskRows(): Record<'sst2' | 'topic', { texts: string[]; gold: number[] }> {
  const script = `
import csv, json, sys
data, n = sys.argv[1], int(sys.argv[2])
with open(data + '/sst2/dev.tsv', encoding='utf-8') as f:
    sst = [line.rstrip('\\n').split('\\t') for line in f][1:n + 1]
with open(data + '/ag_news/test.csv', encoding='utf-8', newline='') as f:
    ag = list(csv.reader(f))[6000:6000 + n]
print(json.dumps({'sst2': {'texts': [r[0] for r in sst], 'gold': [int(r[1]) for r in sst]},
                  'topic': {'texts': [r[1].strip() + ' ' + r[2].strip() for r in ag], 'gold': [int(r[0]) - 1 for r in ag]}}))`;
  return JSON.parse(execFileSync('python3', ['-c', script, join(shared, 'data'), String(ROWS)]).toString());
}

async function predict(
  model: T5PromptModel,
  prompt: { length: number; data: Float32Array },
  ids: number[][],
  candidates: number[][],
): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i += 32) {
    const scores = await model.score(prompt, ids.slice(i, i + 32), candidates);
    for (let r = 0; r < scores.length / candidates.length; r++) {
      const row = Array.from(scores.subarray(r * candidates.length, (r + 1) * candidates.length));
      out.push(row.indexOf(Math.max(...row)));
    }
  }
  return out;
}

describe("int8 compute on mini-t5-instruct with Hugging Face's float32-trained prompts", () => {
  let float: T5PromptModel;
  let int8: T5PromptModel;
  const reference = readInstructRuns(shared);
  const promptOf = (task: LearningTask) => referencePrompt(reference[task]);

  beforeAll(async () => {
    process.env.SPROUT_HOME = mkdtempSync(join(tmpdir(), 'sprout-int8-compute-'));
    float = await loadPromptModel(instruct, { device: 'cpu' });
    int8 = await loadPromptModel(instruct, { device: 'cpu', compute: 'int8' });
  });
  afterAll(async () => {
    await float?.dispose();
    await int8?.dispose();
  });

  it('holds the projections as int8 (a float32 scale per output) and the rest as float32', () => {
    expect([int8.compute, int8.weightWidth, float.compute]).toEqual(['int8', 'int8', 'float']);
    let expected = 0;
    for (const [name, shape] of expectedTensors(int8.config)) {
      const n = shape.reduce((a, b) => a * b, 1);
      expected += isProjection(name) ? n + 4 * shape[0] : 4 * n;
    }
    // Each tensor's file adds its safetensors header (under 256 bytes).
    expect(int8.weightBytes).toBeGreaterThanOrEqual(expected);
    expect(int8.weightBytes).toBeLessThan(expected + 256 * expectedTensors(int8.config).size);
  });

  it('labels SST-2 dev and held-out AG News rows as float32 does on all but a few close calls', async () => {
    const rows = taskRows();
    const tokenizer = await loadTokenizer(instruct);
    for (const task of ['sst2', 'topic'] as const) {
      const { ids } = tokenizer.encodeBatch(rows[task].texts, { maxLength: 65 });
      const candidates = reference[task].candidate_ids;
      const f = await predict(float, promptOf(task), ids, candidates);
      const q = await predict(int8, promptOf(task), ids, candidates);
      const agreement = f.filter((p, i) => p === q[i]).length / ROWS;
      const accuracy = (p: number[]) => p.filter((x, i) => x === rows[task].gold[i]).length / ROWS;
      // Measured on these rows: 97.7 % (SST-2) and 98.8 % (AG News), accuracy 0.8 points apart at most. The issue's
      // 99.5 % is not reached by any int8 kernel here (see main/graph/t5/weight-entry.ts); these bounds catch a
      // quantisation gone wrong, which agrees on about half the rows.
      expect(agreement, task).toBeGreaterThanOrEqual(0.96);
      expect(Math.abs(accuracy(q) - accuracy(f)), task).toBeLessThanOrEqual(0.015);
    }
  }, 240_000);

  it('scores a row the same alone as in a batch: each row is quantised on its own', async () => {
    const tokenizer = await loadTokenizer(instruct);
    const { ids } = tokenizer.encodeBatch(taskRows().sst2.texts.slice(0, 8), { maxLength: 65 });
    const candidates = reference.sst2.candidate_ids;
    const together = await int8.score(promptOf('sst2'), ids, candidates);
    for (let r = 0; r < ids.length; r++) {
      const alone = await int8.score(promptOf('sst2'), [ids[r]], candidates);
      alone.forEach((v, c) => expect(Math.abs(v - together[r * candidates.length + c])).toBeLessThan(1e-4));
    }
  });
});

describe('int8 compute on a relu model (tiny-t5-v1_0): the feed-forward as two integer products', () => {
  const v10 = join(shared, 'fixtures/tiny-t5-v1_0');

  it('quantises the hidden activation once, with its relu in the quantisation (no Relu node, no float hidden copy)', () => {
    const file = join(v10, 'config.json');
    const cfg = parseT5Config(JSON.parse(readFileSync(file, 'utf8')), file);
    const ref = { location: 'w', offset: 0, length: 4 };
    const lookup: WeightLookup = (name) =>
      /\.(q|k|v|o|wi|wo)\.weight$/.test(name)
        ? { kind: 'int8t', dims: [1, 1], qT: ref, scale: ref }
        : { kind: 'float', dtype: 'float32', dims: [1, 1], data: ref };
    const ops = buildScoreGraph(cfg, lookup, 4).nodes.map((n) => n.opType);
    const count = (opType: string) => ops.filter((o) => o === opType).length;
    expect(count('Relu')).toBe(0);
    // Per encoder layer: q, k and v share one quantisation, o has its own, wi one and wo the hidden activation's;
    // a decoder layer adds cross-attention's q and o, and every one's cross k/v read the encoder output's.
    expect(count('QuantizeLinear')).toBe(4 * cfg.numLayers + 6 * cfg.numDecoderLayers + 1);
  });

  it("scores within 2 % of float32's and a row alone as in a batch", async () => {
    const float = await loadPromptModel(v10, { device: 'cpu' });
    const int8 = await loadPromptModel(v10, { device: 'cpu', compute: 'int8' });
    try {
      const ids = Array.from({ length: 6 }, (_, r) => Array.from({ length: 12 + r }, (_, i) => 5 + ((r * 37 + i * 11) % 90)).concat(1));
      const prompt = { length: 4, data: float.embeddings([7, 8, 9, 10]) };
      const candidates = [
        [3, 1],
        [4, 1],
      ];
      const [f, q] = [await float.score(prompt, ids, candidates), await int8.score(prompt, ids, candidates)];
      q.forEach((v, i) => expect(Math.abs(v / f[i] - 1), `score ${i}`).toBeLessThan(0.02));
      for (let r = 0; r < ids.length; r++) {
        const alone = await int8.score(prompt, [ids[r]], candidates);
        alone.forEach((v, c) => expect(Math.abs(v - q[r * candidates.length + c])).toBeLessThan(1e-4));
      }
    } finally {
      await float.dispose();
      await int8.dispose();
    }
  });
});

describe('where int8 compute runs', () => {
  it('the CPU only: a GPU named is refused with what to do instead', () => {
    expect(() => requireComputeOn('int8', 'cpu')).not.toThrow();
    for (const provider of ['cuda', 'webgpu'] as const) {
      expect(() => requireComputeOn('int8', provider)).toThrow(
        expect.objectContaining({
          code: 'compute-unsupported',
          message: expect.stringMatching(/int8 compute runs on the CPU.*--precision fp16 or bf16/),
        }),
      );
    }
  });

  it('scoring only: a training graph cannot read integer products', () => {
    const file = join(tinyModel, 'config.json');
    const cfg = parseT5Config(JSON.parse(readFileSync(file, 'utf8')), file);
    const ref = { location: 'w', offset: 0, length: 4 };
    const lookup: WeightLookup = (name) =>
      /\.(q|k|v|o|wi_0|wi_1|wo)\.weight$/.test(name)
        ? { kind: 'int8t', dims: [1, 1], qT: ref, scale: ref }
        : { kind: 'float', dtype: 'float32', dims: [1, 1], data: ref };
    expect(() => buildScoreGraph(cfg, lookup, 4)).not.toThrow();
    expect(() => buildTrainGraph(cfg, lookup, 4)).toThrow(/MatMulInteger has no gradient rule|has no gradient rule/);
  });
});

describe('sprout label --compute int8 (spawned)', () => {
  it('labels on the CPU with int8 products and records it in the job (so that a resume labels alike)', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-int8-label-'));
    const files = mkdtempSync(join(tmpdir(), 'sprout-int8-files-'));
    const [promptFile] = await writePromptFiles(files, [3]);
    const args = (compute: string, output: string) => [
      'label',
      '--prompt-file',
      promptFile,
      '--model',
      tinyModel,
      '--labels',
      'entailment,not_entailment',
      '--input',
      join(shared, 'data/rte/dev.tsv'),
      '--template',
      'rte sentence1: {sentence1} sentence2: {sentence2}',
      '--output',
      join(files, output),
      '--compute',
      compute,
    ];
    const run = await sprout(args('int8', 'rte.int8.tsv'), home);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/labelling on CPU/);
    const summary = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as { job_id: string; labelled: number };
    expect(summary.labelled).toBe(277);
    const spec = JSON.parse(
      execFileSync('python3', [
        '-c',
        'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select spec from label_jobs where id=?", (sys.argv[2],)).fetchone()[0])',
        join(home, 'library.sqlite'),
        summary.job_id,
      ]).toString(),
    ) as { compute?: string; weights?: string };
    expect([spec.compute, spec.weights]).toEqual(['int8', 'int8']);
    const bad = await sprout(args('int4', 'other.tsv'), home);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('--compute must be one of float, int8, not "int4"');
  }, 120_000);
});
