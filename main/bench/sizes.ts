/**
 * `npm run bench -- sizes`: one row per model size × weight width — peak RSS, session build time, train-step
 * time (batch 8, 64 input + 20 prompt + 4 target tokens) and scoring rows/s (2 candidates, batch 8) — on random
 * checkpoints of the real shapes (main/checkpoint/generate.ts), and for t5-base and t5-large a row of int8
 * compute (`width` int8-compute: scoring with int8 products, which label and evaluate offer; it trains nothing,
 * so its train step is null). Each row runs in a process of its own, so its peak RSS is its own; each size's
 * checkpoint and converted weights live in a temporary folder deleted after it.
 * SPROUT_SIZES=base,large limits the sizes; SPROUT_SIZES_WIDTHS=int8,int8-compute the rows. A run limited so
 * keeps the other rows of the results file it replaces (a full run takes hours; one row, minutes).
 */
import { STEP } from './engine.js';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFamily } from '../checkpoint/families.js';
import { generateCheckpoint, type GeneratedDtype } from '../checkpoint/generate.js';
import { loadPromptModel } from '../runtime/model.js';
import type { ComputeChoice, WeightWidth } from '../weights/width.js';
import { median, peakRssMb, randomIds, time } from './measure.js';

/** A row's weights: a width (float compute), or int8 compute (its own int8 weights). */
type Row = WeightWidth | 'int8-compute';

interface Size {
  name: string;
  family: string;
  /** dtype the checkpoint is written in: XL as bf16 (as its users download it), so the folder stays under 12 GB. */
  dtype: GeneratedDtype;
  widths: Row[];
}

/** The widths measured with float compute (fp16 weights compute as bf16 does on the CPU), then int8 compute. */
const FLOAT_WIDTHS: WeightWidth[] = ['fp32', 'bf16', 'int8'];
const ROWS: Row[] = [...FLOAT_WIDTHS, 'int8-compute'];

const SIZES: Size[] = [
  { name: 'base', family: 't5-base', dtype: 'F32', widths: ROWS },
  { name: 'large', family: 't5-large', dtype: 'F32', widths: ROWS },
  { name: 'xl', family: 'flan-t5-xl', dtype: 'BF16', widths: ['int8'] },
];

function loadSpec(row: Row): { width: WeightWidth; compute: ComputeChoice } {
  return row === 'int8-compute' ? { width: 'int8', compute: 'int8' } : { width: row, compute: 'float' };
}

/**
 * One row, in this process: load at `width`, one-token step (session), full steps, scoring. With `convertOnly`
 * it only builds the weight cache: conversion happens once per model and width, in a process of its own here, so
 * that a row's peak RSS is what a run on converted weights takes.
 */
export async function sizesRow(
  dir: string,
  row: { width: WeightWidth; compute: ComputeChoice },
  size: string,
  convertOnly = false,
): Promise<Record<string, unknown>> {
  const { B, L, P, T } = STEP;
  const t0 = performance.now();
  const model = await loadPromptModel(dir, { device: 'cpu', weights: row.width, compute: row.compute, cacheDir: join(dir, 'cache') });
  const prepareMs = performance.now() - t0;
  if (convertOnly) {
    await model.dispose();
    return { convert_ms: Math.round(prepareMs), convert_peak_rss_mb: peakRssMb() };
  }
  const prompt = { length: P, data: model.embeddings(randomIds(P, 5000, 1)) };
  const batch = {
    inputs: Array.from({ length: B }, (_, b) => randomIds(L - 1, 32000, b).concat(1)),
    targets: Array.from({ length: B }, (_, b) => randomIds(T - 1, 32000, 99 + b).concat(1)),
  };
  const candidates = [
    [9961, 1],
    [29452, 1],
  ];
  const t1 = performance.now();
  // The session first built: the train graph's, or for int8 compute (which only scores) the score graph's.
  await (row.compute === 'int8'
    ? model.score(prompt, [[5, 1]], candidates)
    : model.trainStep(prompt, { inputs: [[5, 1]], targets: [[1]] }));
  const sessionMs = performance.now() - t1;
  const steps: number[] = [];
  if (row.compute === 'float') {
    await model.trainStep(prompt, batch);
    for (let i = 0; i < 2; i++) steps.push(await time(() => model.trainStep(prompt, batch)));
  }
  await model.score(prompt, batch.inputs, candidates);
  const scoreMs = await time(() => model.score(prompt, batch.inputs, candidates));
  await model.dispose();
  return {
    size,
    width: row.compute === 'int8' ? 'int8-compute' : row.width,
    weights_mb: Math.round(model.weightBytes / 1e6),
    prepare_ms: Math.round(prepareMs),
    session_build_ms: Math.round(sessionMs),
    train_step_ms: steps.length ? Math.round(median(steps)) : null,
    score_rows_per_s: Number((B / (scoreMs / 1000)).toFixed(2)),
    peak_rss_mb: peakRssMb(),
  };
}

type Measured = Record<string, unknown>;

/** The earlier file's rows that this run did not measure, and this run's, in the order SIZES and ROWS declare. */
function withEarlierRows(earlierFile: string, measured: Measured[]): Measured[] {
  if (!existsSync(earlierFile)) return measured;
  const key = (r: Measured) => `${String(r.size)} ${String(r.width)}`;
  const fresh = new Set(measured.map(key));
  const earlier = (JSON.parse(readFileSync(earlierFile, 'utf8')) as { rows: Measured[] }).rows.filter((r) => !fresh.has(key(r)));
  const order = (r: Measured) => SIZES.findIndex((s) => s.name === r.size) * ROWS.length + ROWS.indexOf(r.width as Row);
  return [...earlier, ...measured].sort((a, b) => order(a) - order(b));
}

export async function benchSizes(earlierFile: string): Promise<Record<string, unknown>> {
  const only = process.env.SPROUT_SIZES?.split(',');
  const widths = process.env.SPROUT_SIZES_WIDTHS?.split(',');
  const rows: Measured[] = [];
  for (const size of SIZES.filter((s) => !only || only.includes(s.name))) {
    const dir = mkdtempSync(join(process.env.SPROUT_SIZES_DIR ?? tmpdir(), `sprout-sizes-${size.name}-`));
    try {
      const generated = generateCheckpoint(join(dir, 'model'), {
        family: findFamily(size.family)!,
        dtype: size.dtype,
        format: 'safetensors',
        tokenizerFrom: 'resources/tokenizer/t5',
      });
      for (const width of size.widths.filter((w) => !widths || widths.includes(w))) {
        process.stderr.write(`sizes: ${size.name} ${width}…\n`);
        const child = (convertOnly: boolean) =>
          JSON.parse(
            execFileSync(process.execPath, [fileURLToPath(import.meta.url), 'sizes-row'], {
              env: {
                ...process.env,
                SPROUT_BENCH_CHILD: '1',
                SPROUT_SIZES_ROW: JSON.stringify({ dir: generated.dir, ...loadSpec(width), size: size.name, convertOnly }),
              },
              stdio: ['ignore', 'pipe', 'inherit'],
            })
              .toString()
              .trim()
              .split('\n')
              .pop()!,
          ) as Record<string, unknown>;
        const conversion = child(true);
        // A row's own time and load: a limited run's rows sit beside rows measured on other days (see withEarlierRows).
        const when = { date: new Date().toISOString(), load_average: Number(loadavg()[0].toFixed(1)) };
        rows.push({
          ...child(false),
          ...conversion,
          checkpoint_mb: Math.round(generated.totalBytes / 1e6),
          checkpoint_dtype: size.dtype,
          ...when,
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const kept = only || widths ? withEarlierRows(earlierFile, rows) : rows;
  return { benchmark: 'sizes', batch: 8, input_tokens: 64, prompt_length: 20, target_tokens: 4, rows: kept };
}
