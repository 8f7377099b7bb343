/**
 * train.start with a transfer source deleted since the ranking was shown (the Prompt step's list went stale), or
 * one trained on a model of another width, is refused before a run is recorded, in the app's words: the run used to
 * fail once started and stay on Home as "failed", with no run folder to resume.
 */
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { data, Harness, shared } from './harness.js';

const h = new Harness();
afterAll(() => h.close());

/** CoLA's headerless dev file, as the Data step maps it. */
const importCola = (name: string) =>
  h.call('data.import', {
    file: data('cola/in_domain_dev.tsv'),
    header: false,
    quoting: 'none',
    textColumns: ['3'],
    labelColumn: '1',
    name,
  });

it('a deleted source prompt is refused at train.start, naming where the prompts are, and no run is recorded', async () => {
  const model = await h.call('model.import', { path: join(shared, 'fixtures/tiny-t5-v1_0') });
  const dataset = await importCola('cola');
  const start = h.call('train.start', {
    modelId: model.id,
    datasetId: dataset.datasetId,
    verbalizer: { 0: 'no', 1: 'yes' },
    init: 'prompt:999',
    steps: 1,
  });
  await expect(start).rejects.toThrow(
    'prompt-not-found: There is no prompt 999 in the library. The Library screen lists the prompts there are; it may have been deleted.',
  );
  await expect(h.call('train.list', {})).resolves.toEqual([]);
});

it("a source prompt of another model's width is refused at train.start, and no run is recorded", async () => {
  const tiny = await h.call('model.import', { path: join(shared, 'fixtures/tiny-t5-v1_0') });
  const mini = await h.call('model.import', { path: join(shared, 'fixtures/mini-t5-pretrained') });
  const dataset = await importCola('cola 64');
  const request = { datasetId: dataset.datasetId, verbalizer: { 0: 'no', 1: 'yes' }, steps: 1, evalEvery: 1, evalLimit: 4 };
  const source = await h.call('train.start', { ...request, modelId: tiny.id, weights: 'fp32' });
  await h.waitFor('training.progress', (p) => p.runId === source.runId && p.status === 'done');
  const promptId = (await h.call('train.status', { runId: source.runId })).promptId;
  await expect(h.call('train.start', { ...request, modelId: mini.id, init: `prompt:${promptId}` })).rejects.toThrow(
    `bad-init: Prompt ${promptId} has width 64, but this model's embeddings have 128.`,
  );
  expect((await h.call('train.list', {})).map((r) => r.runId)).toEqual([source.runId]);
  // While a run trains from it, the source is not deleted: the run, ending, would store its prompt under a parent
  // that is gone, and fail with its steps lost.
  const transfer = await h.call('train.start', {
    ...request,
    modelId: tiny.id,
    weights: 'fp32',
    init: `prompt:${promptId}`,
    steps: 100000,
  });
  await h.waitFor('training.progress', (p) => p.runId === transfer.runId && p.step >= 1);
  await expect(h.call('library.delete', { id: promptId! })).rejects.toThrow(
    `prompt-in-use: Prompt ${promptId} is the starting point of run ${transfer.runId}, training now; it was not deleted.`,
  );
  await h.call('train.cancel', { runId: transfer.runId });
  await h.waitFor('training.progress', (p) => p.runId === transfer.runId && p.status === 'cancelled');
  await expect(h.call('train.status', { runId: transfer.runId })).resolves.toMatchObject({ status: 'cancelled' });
  await expect(h.call('library.delete', { id: promptId! })).resolves.toMatchObject({ removed: true });
});
