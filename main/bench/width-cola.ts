/**
 * `npm run bench -- width-cola`: prompt tuning of ../shared/fixtures/mini-t5-pretrained on CoLA's training set
 * (original TSV) for 300 steps at batch 32, once with float32 and once with int8 weights; the int8 run's final
 * training loss must be within 5% of the float32 run's. Reads ../shared, so it is a development benchmark.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TrainingConfigInput } from '../train/config.js';
import { runTraining } from '../train/run.js';
import type { WeightWidth } from '../weights/width.js';

/** CoLA as Sprout trains it: sentence (column 3) → unacceptable/acceptable (column 1), 20-row prompt, Adafactor. */
export function colaTrainingConfig(model: string, file: string, weights: WeightWidth, steps: number, batchSize: number): TrainingConfigInput {
  return {
    model,
    device: 'cpu',
    weights,
    threads: 2,
    train: { file, format: 'tsv', header: false, quoting: 'none' },
    task: { template: '{3}', labelColumn: '1', verbalizer: { 0: 'unacceptable', 1: 'acceptable' } },
    steps,
    batchSize,
    evalEvery: steps,
    checkpointEvery: steps,
    seed: 0,
  };
}

export async function benchWidthCola(repoRoot: string): Promise<Record<string, unknown>> {
  const shared = resolve(repoRoot, '../shared');
  const home = mkdtempSync(join(tmpdir(), 'sprout-width-cola-'));
  const run = (weights: WeightWidth) =>
    runTraining({ config: colaTrainingConfig(join(shared, 'fixtures/mini-t5-pretrained'), join(shared, 'data/cola/in_domain_train.tsv'), weights, 300, 32) }, { dataDir: home });
  const t0 = performance.now();
  const fp32 = await run('fp32');
  const t1 = performance.now();
  const int8 = await run('int8');
  const t2 = performance.now();
  const relative = Math.abs(int8.last_loss! - fp32.last_loss!) / fp32.last_loss!;
  return {
    benchmark: 'width-cola',
    steps: 300,
    batch: 32,
    fp32: { first_loss: fp32.first_loss, last_loss: fp32.last_loss, seconds: Math.round((t1 - t0) / 1000) },
    int8: { first_loss: int8.first_loss, last_loss: int8.last_loss, seconds: Math.round((t2 - t1) / 1000) },
    last_loss_relative_difference: Number(relative.toFixed(4)),
    within_5_percent: relative <= 0.05,
  };
}
