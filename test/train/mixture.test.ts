/**
 * Mixtures train in the one loop a single task trains in: per-task prompts in mixed batches (equal to the same steps
 * by hand, clipping included), a shared prompt, a mixture of one equal to plain training, and everything single runs
 * have: pause, cancel and resume bit for bit, out-of-memory micro-batching, patience, evaluation steps and greedy
 * length, baselines, warnings, time estimates. Data: the first rows of CB and RTE's own files; the majority baseline
 * is checked against Python's json/csv reading of them.
 */
import { inLibrary } from '../../main/library/run-records.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../main/library/import-dataset.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { requirePrompt } from '../../main/library/prompts.js';
import { loadPromptModel } from '../../main/runtime/model.js';
import type { PromptModel } from '../../main/runtime/types.js';
import { MixtureConfigSchema, type MixtureConfigInput } from '../../main/train/config.js';
import type { TrainingEvent } from '../../main/train/events.js';
import { initPrompt, parseInit } from '../../main/train/init.js';
import { createOptimizer } from '../../main/train/optim/index.js';
import { DataOrder } from '../../main/train/order.js';
import { loadRunData, loopTask } from '../../main/train/run-data.js';
import { loadCheckpoint, runDir } from '../../main/train/run-store.js';
import { runTraining, type MixtureResult } from '../../main/train/run.js';
import { initialState, trainLoop } from '../../main/train/trainer.js';
import { shared, tinyModel } from './fixtures.js';

let home: string;
let cb: number;
let rte: number;
let files: { cbVal: string; rteDev: string };

const temp = (prefix: string) => mkdtempSync(path.join(tmpdir(), prefix));
const lines = (file: string) => readFileSync(file, 'utf8').split('\n');

beforeAll(async () => {
  home = temp('sprout-mixture-');
  const dir = temp('sprout-mixture-data-');
  const slice = (from: string, n: number, name: string) => {
    const file = path.join(dir, name);
    writeFileSync(
      file,
      `${lines(path.join(shared, 'data', from))
        .slice(0, n)
        .join('\n')}\n`,
    );
    return file;
  };
  files = { cbVal: slice('cb/val.jsonl', 12, 'cb-val.jsonl'), rteDev: slice('rte/dev.tsv', 13, 'rte-dev.tsv') };
  const db = openLibrary(libraryPath(home));
  try {
    cb = (
      await importDataset(db, slice('cb/train.jsonl', 40, 'cb-train.jsonl'), {
        name: 'cb',
        template: 'premise: {premise} hypothesis: {hypothesis}',
        labelColumn: 'label',
        validationFile: files.cbVal,
      })
    ).id;
    rte = (
      await importDataset(db, slice('rte/train.tsv', 49, 'rte-train.tsv'), {
        name: 'rte',
        template: 'sentence1: {sentence1} sentence2: {sentence2}',
        labelColumn: 'label',
        quoting: 'none',
        validationFile: files.rteDev,
      })
    ).id;
  } finally {
    db.close();
  }
});

const task = (id: number, name: string, template: string) => ({ name, train: { dataset: id }, task: { template, labelColumn: 'label' } });
const cbTask = () => task(cb, 'cb', 'premise: {premise} hypothesis: {hypothesis}');
const rteTask = () => task(rte, 'rte', 'sentence1: {sentence1} sentence2: {sentence2}');
const common = {
  model: tinyModel,
  device: 'cpu' as const,
  threads: 1,
  promptLength: 4,
  batchSize: 8,
  steps: 8,
  evalEvery: 4,
  evalBatchSize: 16,
  seed: 3,
  checkpointEvery: 100,
};

/** The last prompts of a finished or cancelled run, from its checkpoint. */
const checkpointPrompts = (runId: number) => loadCheckpoint(runDir(home, String(runId)))!.prompts.map((p) => p.data);
const same = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const ofKind = <K extends TrainingEvent['kind']>(events: TrainingEvent[], kind: K) =>
  events.filter((e): e is Extract<TrainingEvent, { kind: K }> => e.kind === kind);

describe('sprout train --mixture', () => {
  let twoTask: MixtureResult;
  const events: TrainingEvent[] = [];
  // Far below the gradient's norm, so that every step is clipped.
  const clipped = (): MixtureConfigInput => ({ ...common, maxGradNorm: 1e-3, tasks: [cbTask(), rteTask()] });

  it('trains a prompt per task in mixed batches, clipped by the norm over both: equal to the same steps by hand', async () => {
    twoTask = await runTraining({ mixture: clipped() }, { ...inLibrary(home), onProgress: (e) => events.push(e) });
    expect(twoTask).toMatchObject({ status: 'completed', steps: 8, shared_prompt: false });
    expect(twoTask.tasks.map((t) => [t.task, t.train_examples])).toEqual([
      ['cb', 40],
      ['rte', 48],
    ]);
    const db = openLibrary(libraryPath(home));
    try {
      for (const t of twoTask.tasks) {
        expect(t.best).not.toBeNull();
        const stored = requirePrompt(db, t.prompt_id!);
        expect([stored.taskId, stored.runId, stored.name]).toEqual([t.task_id, twoTask.run_id, `mixture ${twoTask.run_id} · ${t.task}`]);
      }
      expect(twoTask.tasks[0].task_id).not.toBe(twoTask.tasks[1].task_id);
    } finally {
      db.close();
    }

    const config = MixtureConfigSchema.parse(clipped());
    const model = await loadPromptModel(tinyModel, {
      device: 'cpu',
      threads: 1,
      weights: twoTask.weights,
      cacheDir: path.join(home, 'cache'),
    });
    try {
      const { tokenizer, tasks } = await loadRunData(config, inLibrary(home));
      const pool = tasks.flatMap((t) => t.train.examples);
      const taskOf = tasks.flatMap((t, k) => t.train.examples.map(() => k));
      const d = model.config.dModel;
      const prompts = tasks.map((t, k) => ({
        length: 4,
        data: initPrompt(parseInit('vocab'), {
          length: 4,
          dModel: d,
          vocabSize: model.config.vocabSize,
          seed: 3 + k,
          embeddings: (ids) => model.embeddings(ids),
          encode: (x) => tokenizer.encode(x),
          eosId: tokenizer.eosId,
          labelTargets: t.labelTargets,
        }).prompt.data,
      }));
      const optimizers = prompts.map(() => createOptimizer({ kind: 'adafactor' }, 4, d));
      const order = new DataOrder(
        pool.map((e) => e.input.length),
        8,
        3,
        true,
      );
      const norms: number[] = [];
      for (let step = 0; step < 8; step++) {
        const batch = order.next();
        const promptIndex = batch.map((i) => taskOf[i]);
        const r = await model.trainStepMixed(
          { prompts, promptIndex },
          { inputs: batch.map((i) => pool[i].input), targets: batch.map((i) => pool[i].target) },
        );
        const norm = Math.sqrt(r.gradPrompts.reduce((s, g) => g.reduce((t, x) => t + x * x, s), 0));
        norms.push(norm);
        const scale = Math.fround(1e-3 / (norm + 1e-6));
        r.gradPrompts.forEach(
          (g, k) =>
            promptIndex.includes(k) &&
            optimizers[k].step(
              prompts[k].data,
              g.map((x) => x * scale),
            ),
        );
      }
      const saved = checkpointPrompts(twoTask.run_id);
      expect(same(saved[0], prompts[0].data) && same(saved[1], prompts[1].data)).toBe(true);
      // The step events report that norm before clipping, and a time estimate from the steps after the first (which
      // also builds the sessions and made early estimates 3–4× too long): the median of their times.
      const steps = ofKind(events, 'step');
      expect(steps.map((e) => e.gradNorm)).toEqual(norms);
      const seconds = steps.map((e) => 8 / e.examplesPerS);
      expect([steps[0].stepS, steps[0].etaS]).toEqual([null, null]);
      expect(steps[1].stepS).toBeCloseTo(seconds[1], 9);
      expect(steps[2].stepS).toBeCloseTo((seconds[1] + seconds[2]) / 2, 9);
      for (const e of steps.slice(1)) expect(e.etaS).toBeCloseTo(e.stepS! * (e.steps - e.step), 9);
    } finally {
      await model.dispose();
    }
  });

  it('pauses between steps and goes on to the same prompts', async () => {
    let paused = false;
    const seen: TrainingEvent['kind'][] = [];
    const held = await runTraining(
      { mixture: clipped() },
      {
        ...inLibrary(home),
        pause: () => paused,
        // Pausing after step 3; the 'paused' event lets it go on, so the loop waits on no timer.
        onProgress: (e) => {
          seen.push(e.kind);
          if (e.kind === 'step' && e.step === 3) paused = true;
          if (e.kind === 'paused') paused = false;
        },
      },
    );
    expect(seen.filter((k) => k === 'paused' || k === 'resumed')).toEqual(['paused', 'resumed']);
    expect(held.tasks.map((t) => t.best)).toEqual(twoTask.tasks.map((t) => t.best));
  });

  it('a cancelled mixture continues bit for bit', async () => {
    const controller = new AbortController();
    const cut = await runTraining(
      { mixture: clipped() },
      { ...inLibrary(home), signal: controller.signal, onProgress: (e) => e.kind === 'step' && e.step === 3 && controller.abort() },
    );
    expect(cut).toMatchObject({ status: 'cancelled', steps: 3 });
    expect(cut.tasks.every((t) => t.prompt_id === null)).toBe(true);
    const resumed = (await runTraining({ resume: cut.run_id }, { ...inLibrary(home) })) as MixtureResult;
    expect(resumed).toMatchObject({ status: 'completed', steps: 8, first_loss: twoTask.first_loss, last_loss: twoTask.last_loss });
    const [a, b] = [checkpointPrompts(resumed.run_id), checkpointPrompts(twoTask.run_id)];
    expect(same(a[0], b[0]) && same(a[1], b[1])).toBe(true);
    expect(resumed.tasks.map((t) => t.best)).toEqual(twoTask.tasks.map((t) => t.best));
  });

  it('with one task, per-task and shared mixtures train exactly as plain training does', async () => {
    // Three runs: three steps and the one evaluation at the end each are enough to tell the paths apart.
    const short = { ...common, steps: 3, evalEvery: 100 };
    const plain = await runTraining(
      {
        config: {
          ...short,
          train: { dataset: cb },
          task: { template: 'premise: {premise} hypothesis: {hypothesis}', labelColumn: 'label' },
        },
      },
      { ...inLibrary(home) },
    );
    const expected = checkpointPrompts(plain.run_id)[0];
    for (const sharedPrompt of [true, false]) {
      const one = await runTraining({ mixture: { ...short, sharedPrompt, tasks: [cbTask()] } }, { ...inLibrary(home) });
      expect(one.first_loss).toBe(plain.first_loss);
      expect(same(checkpointPrompts(one.run_id)[0], expected)).toBe(true);
    }
  });

  it("trains one shared prompt on the union, kept by the mean of the tasks' metrics", async () => {
    const result = await runTraining({ mixture: { ...common, sharedPrompt: true, tasks: [cbTask(), rteTask()] } }, { ...inLibrary(home) });
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

  it('evaluates at --eval-steps with --max-new-tokens, stops with patience, and judges each task against its baselines', async () => {
    const events: TrainingEvent[] = [];
    // A learning rate too small to change any prediction: every evaluation ties the first, so patience 2 stops at step 4.
    const config: MixtureConfigInput = {
      ...common,
      steps: 40,
      evalEvery: 3,
      evalSteps: [2, 4, 6],
      evalAtStart: true,
      patience: 2,
      maxNewTokens: 2,
      optimizer: { kind: 'adam', lr: 1e-9 },
      tasks: [cbTask(), rteTask()],
    };
    const result = await runTraining({ mixture: config }, { ...inLibrary(home), onProgress: (e) => events.push(e) });
    expect([result.status, result.steps]).toEqual(['early-stopped', 4]);
    const evals = ofKind(events, 'eval');
    expect(evals.map((e) => [e.task, e.step, e.improved])).toEqual([
      [0, 0, true],
      [1, 0, true],
      [0, 2, false],
      [1, 2, false],
      [0, 4, false],
      [1, 4, false],
    ]);
    const outputs = evals.flatMap((e) => e.metrics.firstOutputs);
    expect(Math.max(...outputs.map((o) => o.length))).toBe(2);

    // Majority label of each validation file, as Python reads it (CB: JSON lines; RTE: TSV without quoting).
    const script = `import csv,json,sys,collections
cb=[json.loads(l)["label"] for l in open(sys.argv[1]) if l.strip()]
rte=[r["label"] for r in csv.DictReader(open(sys.argv[2],newline=""),delimiter="\\t",quoting=csv.QUOTE_NONE)]
print(json.dumps([[*collections.Counter(x).most_common(1)[0],len(x)] for x in (cb,rte)]))`;
    const majority = JSON.parse(execFileSync('python3', ['-c', script, files.cbVal, files.rteDev], { encoding: 'utf8' })) as [
      string,
      number,
      number,
    ][];
    result.tasks.forEach((t, k) => {
      const [label, n, total] = majority[k];
      expect([t.baselines.majority!.label, t.baselines.majority!.share]).toEqual([String(label), Number((n / total).toFixed(6))]);
      expect(t.baselines.zero_shot).toEqual(evals[k].summary);
      expect(t.metric_reason).toContain('(auto)');
      // The kept prompt's warnings are those its evaluation reported.
      expect(t.warnings).toEqual(evals.find((e) => e.task === k && e.step === t.best_step)!.warnings);
    });
  });

  it('halves the micro-batch when the device runs out of memory, keeping the mixed batch and its prompts', async () => {
    const config = MixtureConfigSchema.parse({ ...common, steps: 2, tasks: [cbTask(), rteTask()] });
    const real = await loadPromptModel(tinyModel, { device: 'cpu', threads: 1 });
    try {
      const { tasks } = await loadRunData(config, inLibrary(home));
      const loopTasks = tasks.map((t) => loopTask(t, config));
      const sizes: number[] = [];
      // Only the allocation failure is simulated: every step still runs on the real engine.
      const failing: PromptModel = Object.assign(Object.create(real), {
        trainStepMixed: (...args: Parameters<PromptModel['trainStepMixed']>) => {
          sizes.push(args[1].inputs.length);
          if (args[1].inputs.length > 2) throw new Error('Failed to allocate memory for requested buffer of size 123');
          return real.trainStepMixed(...args);
        },
      });
      const run = async (m: PromptModel) => {
        const optimizers = loopTasks.map(() => createOptimizer(config.optimizer, 4, real.config.dModel));
        const init = loopTasks.map(() => new Float32Array(4 * real.config.dModel).fill(0.1));
        const state = initialState(config, init, optimizers, loopTasks);
        const notices: string[] = [];
        await trainLoop(
          { model: m, config, optimizers, tasks: loopTasks, state, runDir: temp('sprout-mixture-oom-') },
          { onProgress: (e) => e.kind === 'notice' && notices.push(e.message) },
        );
        return { state, notices };
      };
      const reduced = await run(failing);
      expect(sizes.slice(0, 3)).toEqual([8, 4, 2]);
      expect(reduced.state.microBatchSize).toBe(2);
      expect(reduced.notices).toEqual([
        expect.stringMatching(/Out of memory with 8 .* continuing with 4 .* batch of 8/),
        expect.stringMatching(/with 4 .* continuing with 2/),
      ]);
      const normal = await run(real);
      normal.state.prompts.forEach((p, k) =>
        p.data.forEach((v, i) => expect(Math.abs(v - reduced.state.prompts[k].data[i])).toBeLessThan(1e-4)),
      );
    } finally {
      await real.dispose();
    }
  });
});
