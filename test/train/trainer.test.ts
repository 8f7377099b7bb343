import { mkdtempSync, readFileSync } from 'node:fs';
import { inLibrary } from '../../main/library/run-records.js';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { requirePrompt } from '../../main/library/prompts.js';
import { requireRun, runMetrics } from '../../main/library/runs.js';
import { loadPromptModel, type T5PromptModel } from '../../main/runtime/model.js';
import type { PromptModel } from '../../main/runtime/types.js';
import { loadTokenizer } from '../../main/tokenizer/index.js';
import { parseTrainingConfig } from '../../main/train/config.js';
import type { TrainingEvent } from '../../main/train/events.js';
import { initPrompt } from '../../main/train/init.js';
import { createOptimizer } from '../../main/train/optim/index.js';
import { loadCheckpoint, PROMPT_TENSOR } from '../../main/train/run-store.js';
import { runTraining, type TrainingResult } from '../../main/train/run.js';
import { readTensorFile } from '../../main/train/tensor-file.js';
import { initialState, trainLoop } from '../../main/train/trainer.js';
import { miniModel, shared, tinyModel } from './fixtures.js';

const cola = (file: string) => ({ file: path.join(shared, 'data/cola', file), header: false, quoting: 'none' as const });
const colaTask = { template: '{3}', labelColumn: '1', verbalizer: { 0: 'unacceptable', 1: 'acceptable' } };
const home = () => mkdtempSync(path.join(os.tmpdir(), 'sprout-train-'));

function promptOf(file: string): Float32Array {
  return readTensorFile(file).tensors.get(PROMPT_TENSOR)!.data as Float32Array;
}

describe('training on the pretrained mini T5 (../shared/fixtures/mini-t5-pretrained)', () => {
  let model: T5PromptModel;
  beforeAll(async () => {
    model = await loadPromptModel(miniModel, { device: 'cpu' });
  });
  afterAll(() => model.dispose());

  it('reproduces the reference run\'s step-0 numbers on CoLA dev: rank says "acceptable" for all, greedy says [3, 9, 3, 6, 3]', async () => {
    const tokenizer = await loadTokenizer(miniModel);
    const labelTargets = [tokenizer.encode('unacceptable'), tokenizer.encode('acceptable')];
    const { prompt } = initPrompt(
      { kind: 'labels' },
      {
        length: 20,
        dModel: 128,
        vocabSize: model.config.vocabSize,
        seed: 0,
        eosId: 1,
        labelTargets,
        embeddings: (ids) => model.embeddings(ids),
        encode: (t) => tokenizer.encode(t),
      },
    );
    const dev = readFileSync(cola('in_domain_dev.tsv').file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .slice(0, 48)
      .map((l) => tokenizer.encode(l.split('\t')[3]));
    // prompt_tuning_reference.json cola.evals[0]: greedy_first5 and rank_pred_frac_class1 = 1.0 over the dev set.
    expect(await model.generate(prompt, dev.slice(0, 5), 5)).toEqual(new Array(5).fill([3, 9, 3, 6, 3]));
    const scores = await model.score(prompt, dev, labelTargets);
    for (let i = 0; i < dev.length; i++) expect(scores[2 * i + 1]).toBeGreaterThan(scores[2 * i]);
  });

  it('halves the training loss on CoLA within 150 steps (Adafactor lr 0.3, labels init, batch 8)', async () => {
    const r = await runTraining(
      // One thread: a second one spinning for work costs a busy machine more than it gains on this small model.
      {
        config: {
          model: miniModel,
          device: 'cpu',
          threads: 1,
          train: { ...cola('in_domain_train.tsv'), limit: 800 },
          task: colaTask,
          init: 'labels',
          steps: 150,
          batchSize: 8,
          checkpointEvery: 1000,
        },
      },
      { ...inLibrary(home()) },
    );
    expect(r.status).toBe('completed');
    expect(r.first_loss!).toBeGreaterThan(8);
    expect(r.last_loss!).toBeLessThan(r.first_loss! / 2);
  });
});

describe('trainer mechanics on the tiny T5 v1.1 fixture', () => {
  const base = {
    model: tinyModel,
    device: 'cpu' as const,
    threads: 1,
    train: { ...cola('in_domain_train.tsv'), limit: 96 },
    task: colaTask,
    batchSize: 8,
    promptLength: 4,
  };

  it("accumulating micro-batches gives the full batch's gradient: prompts after 3 steps agree to float32 rounding", async () => {
    const full = await runTraining({ config: { ...base, steps: 3 } }, { ...inLibrary(home()) });
    const micro = await runTraining({ config: { ...base, steps: 3, microBatchSize: 3 } }, { ...inLibrary(home()) });
    const a = promptOf(full.prompt_file);
    const b = promptOf(micro.prompt_file);
    let maxDiff = 0;
    for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    expect(maxDiff).toBeLessThan(1e-4);
    expect(micro.first_loss!).toBeCloseTo(full.first_loss!, 4);
  });

  it('an out-of-memory error halves the micro-batch, keeps the effective batch, says so and gives the same prompt', async () => {
    const dir = home();
    const real = await loadPromptModel(tinyModel, { device: 'cpu', threads: 1 });
    try {
      const seen: number[] = [];
      // Only the allocation failure is simulated: every step still runs on the real engine.
      const failing: PromptModel = Object.assign(Object.create(real), {
        trainStep: (
          p: Parameters<PromptModel['trainStep']>[0],
          batch: Parameters<PromptModel['trainStep']>[1],
          o: Parameters<PromptModel['trainStep']>[2],
        ) => {
          seen.push(batch.inputs.length);
          if (batch.inputs.length > 2) throw new Error('Failed to allocate memory for requested buffer of size 123');
          return real.trainStep(p, batch, o);
        },
      });
      const config = parseTrainingConfig({ ...base, steps: 2 });
      const tokenizer = await loadTokenizer(tinyModel);
      const examples = readFileSync(base.train.file, 'utf8')
        .split('\n')
        .slice(0, 96)
        .map((l) => l.split('\t'));
      const train = examples.map((f) => ({
        input: tokenizer.encode(f[3]),
        target: tokenizer.encode(f[1] === '1' ? 'acceptable' : 'unacceptable'),
        label: Number(f[1]),
      }));
      const init = new Float32Array(4 * real.config.dModel).fill(0.1);
      const run = async (m: PromptModel) => {
        const optimizers = [createOptimizer(config.optimizer, 4, real.config.dModel)];
        const tasks = [
          { name: 'cola', train, validation: [], labels: ['0', '1'], labelTargets: [], metric: 'rank_accuracy' as const, majority: null },
        ];
        const state = initialState(config, [init.slice()], optimizers, tasks);
        const events: TrainingEvent[] = [];
        await trainLoop({ model: m, config, optimizers, tasks, state, runDir: dir }, { onProgress: (e) => events.push(e) });
        return { state, events };
      };
      const reduced = await run(failing);
      expect(seen.slice(0, 3)).toEqual([8, 4, 2]);
      expect(reduced.state.microBatchSize).toBe(2);
      const notices = reduced.events.filter((e) => e.kind === 'notice').map((e) => (e as { message: string }).message);
      expect(notices).toEqual([
        expect.stringMatching(/Out of memory with 8 .* continuing with 4 .* batch of 8/),
        expect.stringMatching(/with 4 .* continuing with 2/),
      ]);
      const normal = await run(real);
      let maxDiff = 0;
      normal.state.prompts[0].data.forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(v - reduced.state.prompts[0].data[i]))));
      expect(maxDiff).toBeLessThan(1e-4);
    } finally {
      await real.dispose();
    }
  });

  it('evaluates, keeps the best prompt, stops early with patience, and stores the task embedding of the step asked for', async () => {
    const events: TrainingEvent[] = [];
    const dir = home();
    const r = await runTraining(
      {
        config: {
          ...base,
          steps: 40,
          evalEvery: 2,
          patience: 2,
          evalAtStart: true,
          taskEmbeddingStep: 4,
          validation: { ...cola('in_domain_dev.tsv'), limit: 16 },
        },
      },
      { ...inLibrary(dir), onProgress: (e) => events.push(e) },
    );
    const evals = events.filter((e) => e.kind === 'eval') as Extract<TrainingEvent, { kind: 'eval' }>[];
    expect(evals[0].step).toBe(0);
    expect(evals.every((e) => e.metrics.examples === 16 && e.metrics.rank!.confusion.flat().reduce((a, b) => a + b) === 16)).toBe(true);
    const checkpoint = loadCheckpoint(path.dirname(r.prompt_file))!;
    expect(checkpoint.evals.map((e) => e.step)).toEqual(evals.map((e) => e.step));
    // The random tiny model ranks the 16 examples identically at steps 0, 2 and 4: no strict gain, so patience 2
    // stops the run at step 4, and of the tied prompts the latest is kept.
    expect(evals.map((e) => [e.step, e.improved])).toEqual([
      [0, true],
      [2, false],
      [4, false],
    ]);
    expect([r.status, r.steps, r.best_step, r.best!.step, checkpoint.sinceImprovement]).toEqual(['early-stopped', 4, 4, 4, 2]);
    expect(Array.from(promptOf(r.prompt_file))).toEqual(Array.from(checkpoint.prompts[0].best!.prompt));
    expect(r.task_embedding_step).toBe(4);
    expect(Array.from(promptOf(r.task_embedding_file!))).toEqual(Array.from(checkpoint.prompts[0].taskEmbedding!.prompt));
    expect(checkpoint.losses).toHaveLength(r.steps);
  });

  it('a cancelled run keeps a checkpoint, and resuming it ends bitwise where an uninterrupted run ends', async () => {
    const config = { ...base, steps: 12, checkpointEvery: 100, validation: { ...cola('in_domain_dev.tsv'), limit: 8 }, evalEvery: 4 };
    const straight = await runTraining({ config }, { ...inLibrary(home()) });
    const dir = home();
    const controller = new AbortController();
    const zeroShot: { first: TrainingEvent[]; resumed: TrainingEvent[] } = { first: [], resumed: [] };
    const first = await runTraining(
      { config },
      {
        ...inLibrary(dir),
        signal: controller.signal,
        onProgress: (e) => {
          if (e.kind === 'zero-shot') zeroShot.first.push(e);
          if (e.kind === 'step' && e.step === 5) controller.abort();
        },
      },
    );
    expect([first.status, first.steps]).toEqual(['cancelled', 5]);
    expect(loadCheckpoint(path.dirname(first.prompt_file))!.step).toBe(5);
    const resumed = (await runTraining(
      { resume: first.run_id },
      { ...inLibrary(dir), onProgress: (e) => e.kind === 'zero-shot' && zeroShot.resumed.push(e) },
    )) as TrainingResult;
    expect([resumed.status, resumed.steps]).toEqual(['completed', 12]);
    // The resumed run says the zero-shot baseline its checkpoint restored, which whoever follows it has not seen.
    expect(zeroShot.first).toHaveLength(1);
    expect(zeroShot.resumed).toEqual(zeroShot.first);
    expect(Buffer.from(promptOf(resumed.prompt_file).buffer).equals(Buffer.from(promptOf(straight.prompt_file).buffer))).toBe(true);
    expect([resumed.first_loss, resumed.last_loss, resumed.best_step]).toEqual([
      straight.first_loss,
      straight.last_loss,
      straight.best_step,
    ]);

    // The library holds the run's progress and the kept prompt, with its task embedding.
    const db = openLibrary(libraryPath(dir));
    try {
      const run = requireRun(db, resumed.run_id);
      expect([run.status, run.step, run.plannedSteps]).toEqual(['done', 12, 12]);
      expect(
        runMetrics(db, run.id)
          .filter((m) => m.eval)
          .map((m) => m.step),
      ).toEqual([4, 8, 12]);
      const stored = requirePrompt(db, resumed.prompt_id!);
      expect([stored.runId, stored.length, stored.dModel, stored.init, stored.labels]).toEqual([run.id, 4, 64, 'vocab', ['0', '1']]);
      expect(Array.from(stored.embedding)).toEqual(Array.from(promptOf(resumed.prompt_file)));
      // A run shorter than MIN_TASK_EMBEDDING_STEP keeps its last step's prompt as the task embedding.
      expect(stored.taskEmbeddingStep).toBe(12);
      expect(Array.from(stored.taskEmbedding!)).toEqual(Array.from(promptOf(resumed.task_embedding_file!)));

      // Transfer (SPoT): a longer prompt starts from the stored one and is padded with vocab rows.
      const transfer = await runTraining(
        { config: { ...base, promptLength: 6, steps: 1, init: `prompt:${resumed.prompt_id}` } },
        { ...inLibrary(dir) },
      );
      expect(transfer.notes).toContain(`Prompt ${resumed.prompt_id} has 4 rows; 2 rows were added from the vocabulary.`);
      const child = requirePrompt(db, transfer.prompt_id!);
      expect([child.parentId, child.init, child.length]).toEqual([resumed.prompt_id, `prompt:${resumed.prompt_id}`, 6]);
    } finally {
      db.close();
    }
  });
});
