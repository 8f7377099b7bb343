/**
 * Runs on users' disks were checkpointed before single tasks and mixtures shared one loop: a single-task
 * checkpoint of format 1 (one prompt under unsuffixed names) and a mixture checkpoint (a prompt per task, no
 * patience or micro-batch state). Each is written here the way the Sprout of that time wrote it, from a run cut at
 * step 5, and must resume to the prompts an uninterrupted run ends with, bit for bit.
 */
import { inLibrary } from '../../main/library/run-records.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { importDataset } from '../../main/library/import-dataset.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { CHECKPOINT_FILE, CONFIG_FILE, loadCheckpoint, runDir } from '../../main/train/run-store.js';
import { runTraining, type MixtureResult, type TrainingResult } from '../../main/train/run.js';
import { writeTensorFile, type NamedTensor } from '../../main/train/tensor-file.js';
import type { TrainerState } from '../../main/train/trainer-state.js';
import { shared, tinyModel } from './fixtures.js';

const common = {
  model: tinyModel,
  device: 'cpu' as const,
  threads: 1,
  promptLength: 4,
  batchSize: 8,
  steps: 12,
  evalEvery: 6,
  evalBatchSize: 16,
  seed: 5,
  checkpointEvery: 100,
};
const same = (a: Float32Array, b: Float32Array) =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
const optimizerMeta = (p: TrainerState['prompts'][number]) => ({
  kind: p.optimizer.kind,
  step: p.optimizer.step,
  tensors: Object.keys(p.optimizer.tensors),
});
const rows = (name: string, data: Float32Array): NamedTensor => ({ name, shape: [4, data.length / 4], data });

/** The checkpoint and config.json of format 1 (before mixtures shared the loop). */
function writeSingleTaskFormat1(dir: string, s: TrainerState): void {
  const [p] = s.prompts;
  const tensors: NamedTensor[] = [rows('prompt', p.data), { name: 'losses', shape: [s.losses.length], data: Float32Array.from(s.losses) }];
  for (const [name, data] of Object.entries(p.optimizer.tensors)) tensors.push({ name: `optimizer.${name}`, shape: [data.length], data });
  if (p.best) tensors.push(rows('best_prompt', p.best.prompt));
  if (p.taskEmbedding) tensors.push(rows('task_embedding', p.taskEmbedding.prompt));
  const state = {
    step: s.step,
    optimizer: optimizerMeta(p),
    order: s.order,
    best: p.best && { step: p.best.step, value: p.best.value },
    taskEmbeddingStep: p.taskEmbedding?.step ?? null,
    evals: s.evals.map((e) => ({ step: e.step, metrics: e.metrics })),
    zeroShot: s.zeroShot[0],
    sinceImprovement: s.sinceImprovement,
    pendingEval: s.pendingEval,
    microBatchSize: s.microBatchSize,
    examplesSeen: s.examplesSeen,
    trainSeconds: s.trainSeconds,
  };
  writeTensorFile(path.join(dir, CHECKPOINT_FILE), tensors, { sprout: 'training-checkpoint', state: JSON.stringify(state) });
  const stored = JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8'));
  const {
    tasks: [task],
    init: [init],
    ...rest
  } = stored;
  writeFileSync(path.join(dir, CONFIG_FILE), JSON.stringify({ ...rest, task, init }));
}

/** A mixture checkpoint as runMixture wrote it. */
function writeMixtureFormat(dir: string, s: TrainerState): void {
  const tensors: NamedTensor[] = [{ name: 'losses', shape: [s.losses.length], data: Float32Array.from(s.losses) }];
  s.prompts.forEach((p, k) => {
    tensors.push(rows(`prompt.${k}`, p.data));
    for (const [name, data] of Object.entries(p.optimizer.tensors))
      tensors.push({ name: `optimizer.${k}.${name}`, shape: [data.length], data });
    if (p.best) tensors.push(rows(`best_prompt.${k}`, p.best.prompt));
  });
  const evals = [0, 1].map((task) => s.evals.filter((e) => e.task === task).map((e) => ({ step: e.step, metrics: e.metrics })));
  const state = {
    step: s.step,
    order: s.order,
    prompts: s.prompts.map((p) => ({ optimizer: optimizerMeta(p), best: p.best && { step: p.best.step, value: p.best.value } })),
    evals,
    examplesSeen: s.examplesSeen,
    trainSeconds: s.trainSeconds,
  };
  writeTensorFile(path.join(dir, CHECKPOINT_FILE), tensors, { sprout: 'mixture-checkpoint', state: JSON.stringify(state) });
  const stored = JSON.parse(readFileSync(path.join(dir, CONFIG_FILE), 'utf8'));
  writeFileSync(
    path.join(dir, CONFIG_FILE),
    JSON.stringify({ runId: stored.runId, mixture: true, created: stored.created, config: stored.config }),
  );
}

const cola = { file: path.join(shared, 'data/cola/in_domain_train.tsv'), header: false, quoting: 'none' as const, limit: 64 };
const colaTask = { template: '{3}', labelColumn: '1', verbalizer: { 0: 'unacceptable', 1: 'acceptable' } };

describe('checkpoints from before the one training loop', () => {
  it("a single-task checkpoint of format 1 resumes to the uninterrupted run's prompt", async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'sprout-legacy-'));
    const config = { ...common, train: cola, validation: { ...cola, limit: 8 }, task: colaTask };
    const straight = await runTraining({ config }, { ...inLibrary(home) });
    const controller = new AbortController();
    const cut = await runTraining(
      { config },
      { ...inLibrary(home), signal: controller.signal, onProgress: (e) => e.kind === 'step' && e.step === 5 && controller.abort() },
    );
    const dir = runDir(home, String(cut.run_id));
    writeSingleTaskFormat1(dir, loadCheckpoint(dir)!);
    const resumed = (await runTraining({ resume: cut.run_id }, { ...inLibrary(home) })) as TrainingResult;
    expect([resumed.status, resumed.steps, resumed.best]).toEqual(['completed', 12, straight.best]);
    expect(same(loadCheckpoint(dir)!.prompts[0].data, loadCheckpoint(runDir(home, String(straight.run_id)))!.prompts[0].data)).toBe(true);
  });

  it("a mixture checkpoint resumes to the uninterrupted mixture's prompts", async () => {
    const home = mkdtempSync(path.join(tmpdir(), 'sprout-legacy-'));
    const db = openLibrary(libraryPath(home));
    const data = (from: string) => path.join(shared, 'data', from);
    let ids: number[];
    try {
      const cb = await importDataset(db, data('cb/train.jsonl'), {
        name: 'cb',
        template: '{premise} {hypothesis}',
        labelColumn: 'label',
        validationFile: data('cb/val.jsonl'),
      });
      const rte = await importDataset(db, data('rte/train.tsv'), {
        name: 'rte',
        template: '{sentence1} {sentence2}',
        labelColumn: 'label',
        quoting: 'none',
        validationFile: data('rte/dev.tsv'),
      });
      ids = [cb.id, rte.id];
    } finally {
      db.close();
    }
    const tasks = ids.map((id, k) => ({
      name: `t${k}`,
      train: { dataset: id, limit: 40 },
      task: { template: k ? '{sentence1} {sentence2}' : '{premise} {hypothesis}', labelColumn: 'label', maxInputLength: 64 },
    }));
    const mixture = { ...common, evalLimit: 8, tasks };
    const straight = await runTraining({ mixture }, { ...inLibrary(home) });
    const controller = new AbortController();
    const cut = await runTraining(
      { mixture },
      { ...inLibrary(home), signal: controller.signal, onProgress: (e) => e.kind === 'step' && e.step === 5 && controller.abort() },
    );
    const dir = runDir(home, String(cut.run_id));
    writeMixtureFormat(dir, loadCheckpoint(dir)!);
    const resumed = (await runTraining({ resume: cut.run_id }, { ...inLibrary(home) })) as MixtureResult;
    expect([resumed.status, resumed.steps, resumed.tasks.map((t) => t.best)]).toEqual(['completed', 12, straight.tasks.map((t) => t.best)]);
    const [a, b] = [loadCheckpoint(dir)!, loadCheckpoint(runDir(home, String(straight.run_id)))!];
    expect(a.prompts.every((p, k) => same(p.data, b.prompts[k].data))).toBe(true);
  });
});
