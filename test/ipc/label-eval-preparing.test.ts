/**
 * Labelling and evaluation whose frozen weights must first be converted, through the real handlers and worker: the
 * conversion is reported as `labelling.preparing` and `evaluation.preparing` while label.start and eval.report are
 * pending, before the first rows, and the job then completes. Each starts on an empty cache, as on a machine where
 * only the prompt came from elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventPayload } from '../../preload/contract.js';
import { data, Harness, tinyModel } from './harness.js';
import { checkReports, convertedFiles } from './preparation.js';

let h: Harness;
let promptId: number;

beforeAll(async () => {
  h = new Harness();
  await h.call('settings.set', { defaultDevice: 'cpu', threads: 1 });
  const model = await h.call('model.import', { path: tinyModel });
  const cb = await h.call('data.import', {
    file: data('cb/train.jsonl'),
    validationFile: data('cb/val.jsonl'),
    textColumns: ['premise', 'hypothesis'],
    labelColumn: 'label',
    name: 'cb',
  });
  // A prompt trained on int8 weights is labelled and evaluated on int8 weights.
  const run = await h.call('train.start', {
    modelId: model.id,
    datasetId: cb.datasetId,
    weights: 'int8',
    steps: 2,
    evalEvery: 2,
    evalLimit: 4,
    promptLength: 4,
    batchSize: 4,
    seed: 1,
  });
  await h.waitFor('training.progress', (p) => p.runId === run.runId && p.status === 'done');
  promptId = (await h.call('train.status', { runId: run.runId })).promptId!;
});

afterAll(async () => {
  await h.close();
});

/** The conversion was reported tensor file by tensor file, and its total is the tensor data of the files written. */
function checkConversion(reports: EventPayload<'labelling.preparing' | 'evaluation.preparing'>[]) {
  const seen = checkReports(
    reports.map((p) => p.preparing),
    'int8',
  );
  expect([...seen.phases]).toEqual(['convert']);
  const files = convertedFiles(h.home, 'int8');
  expect(seen.count).toBe(files.count);
  expect(seen.total).toBe(files.dataBytes);
}

describe('weights converted before labelling and evaluation', () => {
  it('label.start reports the conversion before the job exists, then labels every row', async () => {
    rmSync(join(h.home, 'cache'), { recursive: true, force: true });
    const from = h.events.length;
    const output = join(h.scratch, 'cb.labelled.csv');
    const job = await h.call('label.start', {
      promptId,
      input: data('cb/val.jsonl'),
      textColumns: ['premise', 'hypothesis'],
      output,
      outputFormat: 'csv',
      batchSize: 8,
    });
    await h.waitFor('labelling.progress', (p) => p.jobId === job.jobId && p.status === 'done');
    const events = h.events.slice(from);
    const preparing = h.payloads('labelling.preparing', undefined, from);
    // A started job is recorded once its model loaded, so its preparation names no job yet.
    expect(preparing.every((p) => p.jobId === null)).toBe(true);
    checkConversion(preparing);
    const lastPreparing = events.findLastIndex((e) => e.event === 'labelling.preparing');
    const firstRows = events.findIndex((e) => e.event === 'labelling.progress');
    expect(lastPreparing).toBeLessThan(firstRows);
    const progress = h.payloads('labelling.progress', undefined, from);
    expect(progress.every((p) => p.jobId === job.jobId && p.rows <= p.totalRows)).toBe(true);
    expect(progress.at(-1)).toMatchObject({ status: 'done', rows: 56, totalRows: 56 });
    // CB val's longest row is 298 tokens (Python's sentencepiece): nothing cut, nothing skipped, nothing to say.
    expect(await h.call('label.status', { jobId: job.jobId })).toMatchObject({
      status: 'done',
      rowsDone: 56,
      labelled: 56,
      rowsNote: null,
    });
  });

  it('eval.report reports the conversion before it answers with the scores', async () => {
    rmSync(join(h.home, 'cache'), { recursive: true, force: true });
    const from = h.events.length;
    const report = await h.call('eval.report', { promptId, worst: 3 });
    const preparing = h.payloads('evaluation.preparing', undefined, from);
    expect(preparing.every((p) => p.promptId === promptId)).toBe(true);
    checkConversion(preparing);
    expect(report).toMatchObject({ promptId, split: 'validation', examples: 56 });
    expect(report.confusion.flat().reduce((a, b) => a + b, 0)).toBe(56);
  });

  it('a second evaluation only verifies the converted files, and reports that', async () => {
    const from = h.events.length;
    await h.call('eval.report', { promptId, worst: 3 });
    const seen = checkReports(
      h.payloads('evaluation.preparing', undefined, from).map((p) => p.preparing),
      'int8',
    );
    expect([...seen.phases]).toEqual(['verify']);
    expect(seen.total).toBe(convertedFiles(h.home, 'int8').bytes);
  });
});

describe('label.plan', () => {
  it("plans the job at the prompt's width, or with int8 products, without loading or starting anything", async () => {
    const jobs = (await h.call('label.list', {})).length;
    const checkpoint = Number(
      execFileSync(
        'python3',
        [
          '-c',
          `import json, struct, sys
raw = open(sys.argv[1], 'rb')
h = json.loads(raw.read(struct.unpack('<Q', raw.read(8))[0]))
print(sum(v['data_offsets'][1] - v['data_offsets'][0] for k, v in h.items() if k != '__metadata__'))`,
          join(tinyModel, 'model.safetensors'),
        ],
        { encoding: 'utf8' },
      ),
    );
    const plan = await h.call('label.plan', { promptId, batchSize: 8 });
    // The prompt was trained on int8 weights: 1.25 bytes a parameter against the checkpoint's float32 4.
    expect(plan).toMatchObject({ width: 'int8', compute: 'float', batch: 8, fits: true, suggestion: null });
    expect(plan.modelBytes).toBeCloseTo((checkpoint * 1.25) / 4, 0);
    expect(plan.totalBytes).toBeCloseTo(
      plan.modelBytes + plan.transientWeightBytes + plan.activationBytes + plan.optimizerBytes + plan.runtimeBytes,
      0,
    );
    const products = await h.call('label.plan', { promptId, compute: 'int8' });
    expect(products).toMatchObject({ width: 'int8', compute: 'int8', batch: 32, inputTokens: 512, transientWeightBytes: 0 });
    const huge = await h.call('label.plan', { promptId, batchSize: 1024 });
    expect(huge.activationBytes).toBeGreaterThan(plan.activationBytes * 100);
    expect((await h.call('label.list', {})).length).toBe(jobs);
  });
});
