/**
 * train.plan through the real handlers and dispatch, on the fixture model and CoLA as published (headerless TSV):
 * the plan the Train step shows before Start, at the settings' default width or a chosen one, and the refusal with
 * a suggestion when a request could not fit.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { data, Harness, tinyModel } from './harness.js';

let h: Harness;
let modelId: string;
let colaId: number;
let colaRows: number;
let cola: { modelId: string; datasetId: number; verbalizer: Record<string, string> };

beforeAll(async () => {
  h = new Harness();
  await h.call('settings.set', { defaultDevice: 'cpu', threads: 1, defaultWeights: 'int8' });
  modelId = (await h.call('model.import', { path: tinyModel })).id;
  const report = await h.call('data.import', {
    file: data('cola/in_domain_train.tsv'),
    header: false,
    quoting: 'none',
    textColumns: ['3'],
    labelColumn: '1',
    name: 'cola',
  });
  colaId = report.datasetId;
  colaRows = report.rows;
  cola = { modelId, datasetId: colaId, verbalizer: { 0: 'unacceptable', 1: 'acceptable' } };
});

afterAll(async () => {
  await h.close();
});

describe('train.plan', () => {
  it('imported every CoLA line, as python counts them', () => {
    const lines = Number(
      execFileSync(
        'python3',
        [
          '-c',
          'import csv,sys\nprint(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""), delimiter="\\t", quoting=csv.QUOTE_NONE)))',
          data('cola/in_domain_train.tsv'),
        ],
        { encoding: 'utf8' },
      ),
    );
    expect(colaRows).toBe(lines);
  });

  it('plans at the settings default width, fits, and adds up, tokenising in the engine worker', async () => {
    const run = vi.spyOn(h.context.worker, 'run');
    const plan = await h.call('train.plan', { ...cola, batchSize: 8, promptLength: 4 });
    // 8,551 rows tokenised on the thread that answers the window would hold every other request meanwhile.
    expect(run.mock.calls.map((c) => c[0])).toEqual(['train.plan']);
    run.mockRestore();
    expect(plan).toMatchObject({ width: 'int8', batch: 8, fits: true, suggestion: null });
    const parts = plan.modelBytes + plan.transientWeightBytes + plan.activationBytes + plan.optimizerBytes + plan.runtimeBytes;
    expect(plan.totalBytes).toBeCloseTo(parts, 0);
    expect(plan.modelBytes).toBeGreaterThan(0);
    expect(plan.activationBytes).toBeGreaterThan(0);
    expect(plan.availableBytes).toBeGreaterThan(0);
    expect(plan.inputTokens).toBeGreaterThan(4);
  });

  it('gives a narrower width a smaller model share, and a shorter input fewer activations', async () => {
    const at = (weights: 'fp32' | 'bf16' | 'int8') => h.call('train.plan', { ...cola, batchSize: 8, promptLength: 4, weights });
    const [fp32, bf16, int8] = await Promise.all([at('fp32'), at('bf16'), at('int8')]);
    expect(fp32.width).toBe('fp32');
    // Half the bytes per parameter, and held in one session where float32 keeps a train and a score session.
    expect(bf16.modelBytes).toBeCloseTo(fp32.modelBytes / 4, 0);
    expect(int8.modelBytes).toBeLessThan(bf16.modelBytes);
    const short = await h.call('train.plan', { ...cola, batchSize: 8, promptLength: 4, weights: 'fp32', maxInputLength: 8 });
    expect(short.inputTokens).toBeLessThanOrEqual(8);
    expect(short.activationBytes).toBeLessThan(fp32.activationBytes);
  });

  it('answers fits=false with a suggestion when the batch could not fit', async () => {
    // Batch 4096 of 512 prompt + 47 input tokens is ~317 GB of activations on the fixture, beyond any machine this runs on.
    const plan = await h.call('train.plan', { ...cola, batchSize: 4096, promptLength: 512, weights: 'fp32' });
    expect(plan.fits).toBe(false);
    expect(plan.totalBytes).toBeGreaterThan(0.9 * plan.availableBytes);
    expect(plan.suggestion).not.toBeNull();
    const suggestion = plan.suggestion!;
    expect(suggestion.batchSize).not.toBeNull();
    expect(suggestion.batchSize!).toBeLessThan(4096);
    expect(suggestion.message).toContain(`a batch size of ${suggestion.batchSize}`);
    const smaller = await h.call('train.plan', { ...cola, batchSize: suggestion.batchSize!, promptLength: 512, weights: 'fp32' });
    expect(smaller.fits).toBe(true);
  });

  it('refuses what train.start refuses, and starts nothing', async () => {
    expect(await h.failure('train.plan', { modelId, datasetId: 999 })).toBe('unknown-dataset');
    expect(await h.failure('train.plan', { ...cola, modelId: 'local/none' })).toBe('unknown-model');
    expect(await h.failure('train.plan', { ...cola, batchSize: 0 })).toBe('invalid-request');
    expect(await h.call('train.list', {})).toEqual([]);
  });
});

describe('a dataset chosen again from the library', () => {
  it('offers the label words its latest run trained with (the Data step\'s "Model writes"), none before a run', async () => {
    expect((await h.call('data.show', { id: colaId, limit: 0 })).verbalizer).toBeNull();
    const run = await h.call('train.start', { ...cola, steps: 1, evalEvery: 1, evalLimit: 4, promptLength: 2, batchSize: 4 });
    await h.waitFor('training.progress', (p) => p.runId === run.runId && p.status === 'done');
    expect((await h.call('data.show', { id: colaId, limit: 0 })).verbalizer).toEqual(cola.verbalizer);
  });
});
