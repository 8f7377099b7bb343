/**
 * A run whose frozen weights must first be converted, through the real handlers and worker: train.start answers
 * with the run `starting` and `training.progress` reports the conversion until the run trains; a second run on the
 * same model only verifies the converted files.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestOf, TrainingProgress } from '../../preload/contract.js';
import { data, Harness, shared } from './harness.js';
import { checkReports, convertedFiles } from './preparation.js';

let h: Harness;
let request: RequestOf<'train.start'>;

beforeAll(async () => {
  h = new Harness();
  await h.call('settings.set', { defaultDevice: 'cpu', threads: 1 });
  const model = await h.call('model.import', { path: join(shared, 'fixtures/tiny-t5-v1_0') });
  const cb = await h.call('data.import', {
    file: data('cb/train.jsonl'),
    validationFile: data('cb/val.jsonl'),
    textColumns: ['premise', 'hypothesis'],
    labelColumn: 'label',
    name: 'cb',
  });
  request = {
    modelId: model.id,
    datasetId: cb.datasetId,
    weights: 'int8',
    steps: 2,
    evalEvery: 2,
    evalLimit: 4,
    promptLength: 4,
    batchSize: 4,
    seed: 1,
  };
});

afterAll(async () => {
  await h.close();
});

/** Starts a run and returns its answer and every training.progress event of it, once it is done. */
async function run(changes: Partial<RequestOf<'train.start'>> = {}) {
  const started = await h.call('train.start', { ...request, ...changes });
  await h.waitFor('training.progress', (p) => p.runId === started.runId && p.status === 'done');
  return { started, events: h.payloads('training.progress', (p) => p.runId === started.runId) };
}

/** The preparing events come first, all while starting; then the run trains without them. */
function checkPreparation(events: TrainingProgress[]) {
  const preparing = events.filter((p) => p.preparing !== null);
  const first = events.findIndex((p) => p.preparing === null);
  expect(first).toBe(preparing.length);
  expect(preparing.every((p) => p.status === 'starting')).toBe(true);
  expect(events.slice(first).every((p) => p.status !== 'starting' && p.preparing === null)).toBe(true);
  expect(events[first].status).toBe('running');
  return checkReports(
    preparing.map((p) => p.preparing!),
    'int8',
  );
}

describe('train.start with weights to convert', () => {
  it('answers while starting and reports the conversion, tensor by tensor, before training', async () => {
    const { started, events } = await run();
    expect(started).toMatchObject({ status: 'starting', weights: 'int8', providerDetail: null, step: 0 });
    expect(started.preparing).toMatchObject({ weights: 'int8', phase: 'convert' });
    expect(started.preparing!.done).toBeGreaterThan(0);
    const seen = checkPreparation(events);
    expect([...seen.phases]).toEqual(['convert']);
    // One event per converted file, and the total is the tensor data those files hold.
    const files = convertedFiles(h.home, 'int8');
    expect(seen.count).toBe(files.count);
    expect(seen.total).toBe(files.dataBytes);
    const status = await h.call('train.status', { runId: started.runId });
    expect(status).toMatchObject({ status: 'done', step: 2, weights: 'int8', preparing: null, providerDetail: 'CPU · 1 thread' });
    expect(status.promptId).not.toBeNull();
  });

  it('only verifies the converted files on the next run of the same model', async () => {
    const { started, events } = await run();
    expect(started).toMatchObject({ status: 'starting', preparing: { weights: 'int8', phase: 'verify' } });
    const seen = checkPreparation(events);
    expect([...seen.phases]).toEqual(['verify']);
    // Verification reads whole files, headers included.
    const files = convertedFiles(h.home, 'int8');
    expect(seen.count).toBe(files.count);
    expect(seen.total).toBe(files.bytes);
    expect((await h.call('train.status', { runId: started.runId })).status).toBe('done');
  });

  it('answers a run that needs no conversion once it trains, with no preparing events', async () => {
    const { started, events } = await run({ weights: 'fp32' });
    expect(['running', 'done']).toContain(started.status);
    expect(started).toMatchObject({ weights: 'fp32', preparing: null, providerDetail: 'CPU · 1 thread' });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((p) => p.preparing === null && p.status !== 'starting')).toBe(true);
  });
});
