import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../main/data/import.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { requirePrompt } from '../../main/library/prompts.js';
import { loadPromptModel } from '../../main/runtime/model.js';
import { loadTokenizer } from '../../main/tokenizer/index.js';
import { initPrompt, parseInit } from '../../main/train/init.js';
import { loadMixtureTasks, MixtureConfigSchema, runMixture, type MixtureConfigInput } from '../../main/train/mixture.js';
import { createOptimizer } from '../../main/train/optim/index.js';
import { DataOrder } from '../../main/train/order.js';
import { CHECKPOINT_FILE, runDir } from '../../main/train/run-store.js';
import { runTraining } from '../../main/train/run.js';
import { readTensorFile, requireTensor } from '../../main/train/tensor-file.js';
import { shared, tinyModel } from './fixtures.js';

let home: string;
let cb: number;
let rte: number;

const temp = (prefix: string) => mkdtempSync(path.join(tmpdir(), prefix));
const lines = (file: string) => readFileSync(file, 'utf8').split('\n');

beforeAll(async () => {
  home = temp('sprout-mixture-');
  const dir = temp('sprout-mixture-data-');
  const slice = (from: string, n: number, name: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, `${lines(path.join(shared, 'data', from)).slice(0, n).join('\n')}\n`);
    return file;
  };
  const db = openLibrary(libraryPath(home));
  try {
    cb = (await importDataset(db, slice('cb/train.jsonl', 40, 'cb-train.jsonl'), { name: 'cb', template: 'premise: {premise} hypothesis: {hypothesis}', labelColumn: 'label', validationFile: slice('cb/val.jsonl', 12, 'cb-val.jsonl') })).id;
    rte = (await importDataset(db, slice('rte/train.tsv', 49, 'rte-train.tsv'), { name: 'rte', template: 'sentence1: {sentence1} sentence2: {sentence2}', labelColumn: 'label', quoting: 'none', validationFile: slice('rte/dev.tsv', 13, 'rte-dev.tsv') })).id;
  } finally {
    db.close();
  }
});

const task = (id: number, name: string, template: string) => ({ name, train: { dataset: id }, task: { template, labelColumn: 'label' } });
const cbTask = () => task(cb, 'cb', 'premise: {premise} hypothesis: {hypothesis}');
const rteTask = () => task(rte, 'rte', 'sentence1: {sentence1} sentence2: {sentence2}');
const common = { model: tinyModel, device: 'cpu' as const, threads: 1, promptLength: 4, batchSize: 8, steps: 12, evalEvery: 6, evalBatchSize: 16, seed: 3, checkpointEvery: 100 };

/** The last prompts of a finished or cancelled mixture run, from its checkpoint. */
function checkpointPrompts(runId: number, count: number): Float32Array[] {
  const f = readTensorFile(path.join(runDir(home, String(runId)), CHECKPOINT_FILE));
  return Array.from({ length: count }, (_, k) => requireTensor(f, `prompt.${k}`, Float32Array));
}

const same = (a: Float32Array, b: Float32Array) => a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

describe('sprout train --mixture', () => {
  let twoTask: Awaited<ReturnType<typeof runMixture>>;

  it('trains a prompt per task in mixed batches: loss falls, each prompt stored with its task, equal to the same mixed steps by hand', async () => {
    const config: MixtureConfigInput = { ...common, tasks: [cbTask(), rteTask()] };
    twoTask = await runMixture({ config }, { dataDir: home });
    expect(twoTask).toMatchObject({ status: 'completed', steps: 12, shared_prompt: false });
    expect(twoTask.first_loss!).toBeGreaterThan(twoTask.last_loss!);
    expect(twoTask.tasks.map((t) => [t.task, t.train_examples])).toEqual([['cb', 40], ['rte', 48]]);
    const db = openLibrary(libraryPath(home));
    try {
      for (const t of twoTask.tasks) {
        expect(t.best).not.toBeNull();
        const stored = requirePrompt(db, t.prompt_id!);
        expect(stored.taskId).toBe(t.task_id);
        expect(stored.runId).toBe(twoTask.run_id);
      }
      expect(twoTask.tasks[0].task_id).not.toBe(twoTask.tasks[1].task_id);
    } finally {
      db.close();
    }

    // The same steps by hand: the seeded order over the pooled examples, one mixed step, an optimiser per prompt.
    const parsed = MixtureConfigSchema.parse(config);
    // By hand on the same weights the run used (its width, cache under the run's data folder).
    const model = await loadPromptModel(tinyModel, { device: 'cpu', threads: 1, weights: twoTask.weights, cacheDir: path.join(home, 'cache') });
    try {
      const tokenizer = await loadTokenizer(tinyModel);
      const tasks = await loadMixtureTasks(parsed, home, tokenizer);
      const pool = tasks.flatMap((t) => t.train);
      const taskOf = tasks.flatMap((t, k) => t.train.map(() => k));
      const d = model.config.dModel;
      const prompts = tasks.map((t, k) => ({
        length: 4,
        data: initPrompt(parseInit('vocab'), { length: 4, dModel: d, vocabSize: model.config.vocabSize, seed: 3 + k, embeddings: (ids) => model.embeddings(ids), encode: (x) => tokenizer.encode(x), eosId: tokenizer.eosId, labelTargets: t.labelTargets }).prompt.data,
      }));
      const optimizers = prompts.map(() => createOptimizer({ kind: 'adafactor' }, 4, d));
      const order = new DataOrder(pool.map((e) => e.input.length), 8, 3, true);
      for (let step = 0; step < 12; step++) {
        const batch = order.next();
        const promptIndex = batch.map((i) => taskOf[i]);
        const r = await model.trainStepMixed({ prompts, promptIndex }, { inputs: batch.map((i) => pool[i].input), targets: batch.map((i) => pool[i].target) });
        r.gradPrompts.forEach((g, k) => promptIndex.includes(k) && optimizers[k].step(prompts[k].data, g.slice()));
      }
      const saved = checkpointPrompts(twoTask.run_id, 2);
      expect(same(saved[0], prompts[0].data)).toBe(true);
      expect(same(saved[1], prompts[1].data)).toBe(true);
    } finally {
      await model.dispose();
    }
  });

  it('continues a cancelled mixture bit for bit', async () => {
    const controller = new AbortController();
    const config: MixtureConfigInput = { ...common, tasks: [cbTask(), rteTask()] };
    const cut = await runMixture({ config }, { dataDir: home, signal: controller.signal, onProgress: (e) => e.kind === 'step' && e.step === 5 && controller.abort() });
    expect(cut).toMatchObject({ status: 'cancelled', steps: 5 });
    expect(cut.tasks.every((t) => t.prompt_id === null)).toBe(true);
    const resumed = await runMixture({ resume: cut.run_id }, { dataDir: home });
    expect(resumed).toMatchObject({ status: 'completed', steps: 12, first_loss: twoTask.first_loss, last_loss: twoTask.last_loss });
    const a = checkpointPrompts(resumed.run_id, 2);
    const b = checkpointPrompts(twoTask.run_id, 2);
    expect(same(a[0], b[0]) && same(a[1], b[1])).toBe(true);
    expect(resumed.tasks.map((t) => t.best)).toEqual(twoTask.tasks.map((t) => t.best));
  });

  it('with one task, per-task and shared mixtures train exactly as plain training does', async () => {
    const plain = await runTraining({ config: { ...common, train: { dataset: cb }, task: { template: 'premise: {premise} hypothesis: {hypothesis}', labelColumn: 'label' } } }, { dataDir: home });
    const f = readTensorFile(path.join(runDir(home, String(plain.run_id)), CHECKPOINT_FILE));
    const expected = requireTensor(f, 'prompt', Float32Array);
    for (const sharedPrompt of [true, false]) {
      const one = await runMixture({ config: { ...common, sharedPrompt, tasks: [cbTask()] } }, { dataDir: home });
      expect(one.first_loss).toBe(plain.first_loss);
      expect(same(checkpointPrompts(one.run_id, 1)[0], expected)).toBe(true);
    }
  });

  it('trains one shared prompt on the union, kept by the mean of the tasks\' metrics', async () => {
    const result = await runMixture({ config: { ...common, sharedPrompt: true, tasks: [cbTask(), rteTask()] } }, { dataDir: home });
    expect(result.tasks).toHaveLength(2);
    expect(result.tasks[0].prompt_id).toBe(result.tasks[1].prompt_id);
    expect(result.first_loss!).toBeGreaterThan(result.last_loss!);
    const db = openLibrary(libraryPath(home));
    try {
      expect(requirePrompt(db, result.tasks[0].prompt_id!).taskId).toBeNull();
    } finally {
      db.close();
    }
  });
});
