import { execFileSync } from 'node:child_process';
import { inLibrary } from '../../main/library/run-records.js';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFamily, type T5Family } from '../../main/checkpoint/families.js';
import { generateCheckpoint, planCheckpoint, type GeneratedDtype } from '../../main/checkpoint/generate.js';
import type { WeightFormat } from '../../main/checkpoint/shards.js';
import { convertedFolderFor, inspectModel } from '../../main/hub/inspect.js';
import { PROMPT_TENSOR } from '../../main/train/run-store.js';
import { runTraining, type TrainingResult } from '../../main/train/run.js';
import { readTensorFile } from '../../main/train/tensor-file.js';
import { fixture, fixtures, repoRoot, tempDir } from './helpers.js';

/**
 * Every public T5 layout, generated small, is read by an independent reader (python3, no Sprout code), loads,
 * validates and trains: the same losses as the single-file float32 checkpoint of the same seed, bit for bit for
 * float32 in any layout, within 1e-2 for float16/bfloat16.
 */
const SHAPE = { numLayers: 2, dModel: 64, dFf: 128, numHeads: 4, dKv: 16 };
/** Small enough that shared.weight (8 MB) and the blocks land in several shards. */
const SHARD_BYTES = 3_000_000;
const sst2 = join(fixtures, '../data/sst2/train.tsv');
const tokenizerFrom = fixture('tiny-t5-v1_1');

interface Layout {
  format: WeightFormat;
  sharded: boolean;
  dtype: GeneratedDtype;
}
const layouts: Layout[] = (['safetensors', 'bin'] as const).flatMap((format) =>
  [false, true].flatMap((sharded) => (['F32', 'F16', 'BF16'] as const).map((dtype) => ({ format, sharded, dtype }))),
);
const families: [string, T5Family][] = [
  ['tied (t5-small)', findFamily('t5-small')!],
  ['untied (flan-t5-small)', findFamily('flan-t5-small')!],
];

function readIndependently(
  dir: string,
  reference?: string,
): {
  index: { metadata: { total_size: number }; weight_map: Record<string, string> } | null;
  files: Record<
    string,
    { kind: string; tensors: Record<string, { dtype: string; shape: number[]; storage: string | null; sha256: string }> }
  >;
  misplaced: string[];
  rounding_mismatches?: Record<string, number>;
} {
  const args = [join(repoRoot, 'test/checkpoint/read_checkpoint.py'), dir, ...(reference ? ['--reference', reference] : [])];
  return JSON.parse(execFileSync('python3', args, { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

const home = tempDir('sprout-layouts-');
const previousHome = process.env.SPROUT_HOME;
beforeAll(() => {
  // The float32 cast of half weights goes to <SPROUT_HOME>/cache/cast.
  process.env.SPROUT_HOME = home;
});
afterAll(() => {
  if (previousHome === undefined) delete process.env.SPROUT_HOME;
  else process.env.SPROUT_HOME = previousHome;
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});
/** Folders of generated, converted and cast weights (about 1 GB in all), removed at the end. */
const scratch: string[] = [home];

function train(model: string): Promise<TrainingResult> {
  const dataDir = tempDir('sprout-layouts-run-');
  scratch.push(dataDir);
  return runTraining(
    {
      config: {
        model,
        device: 'cpu',
        threads: 1,
        train: { file: sst2, header: true, quoting: 'none', limit: 24 },
        task: { template: '{sentence}', labelColumn: 'label', verbalizer: { 0: 'negative', 1: 'positive' } },
        promptLength: 3,
        batchSize: 4,
        steps: 3,
        checkpointEvery: 1000,
      },
    },
    inLibrary(dataDir),
  );
}

const promptOf = (result: TrainingResult): Float32Array =>
  readTensorFile(result.prompt_file).tensors.get(PROMPT_TENSOR)!.data as Float32Array;

describe.each(families)('%s: every layout loads, validates and trains like the single float32 file', (_, family) => {
  const root = tempDir('sprout-layouts-gen-');
  const converted = tempDir('sprout-layouts-conv-');
  scratch.push(root, converted);
  const dirOf = (l: Layout): string => join(root, `${l.format}-${l.sharded ? 'sharded' : 'single'}-${l.dtype}`);
  const generate = (l: Layout): string => {
    generateCheckpoint(dirOf(l), {
      family,
      shape: SHAPE,
      dtype: l.dtype,
      format: l.format,
      shardBytes: l.sharded ? SHARD_BYTES : undefined,
      seed: 11,
      tokenizerFrom,
    });
    return dirOf(l);
  };
  const reference = { format: 'safetensors', sharded: false, dtype: 'F32' } as const;
  let referenceRun: TrainingResult;
  const runs = new Map<string, TrainingResult>();

  beforeAll(async () => {
    referenceRun = await train(generate(reference));
  });

  it.each(layouts)('$format, sharded $sharded, $dtype', async (layout) => {
    const dir = generate(layout);
    const found = readIndependently(dir, dirOf(reference));
    const names = Object.keys(found.files).sort();
    if (layout.sharded) {
      expect(names.length).toBeGreaterThan(2);
      expect(names[0]).toBe(
        layout.format === 'safetensors'
          ? `model-00001-of-0000${names.length}.safetensors`
          : `pytorch_model-00001-of-0000${names.length}.bin`,
      );
      expect(found.index).not.toBeNull();
      expect(found.misplaced).toEqual([]);
      expect(Object.keys(found.index!.weight_map).sort()).toEqual(
        Object.values(found.files)
          .flatMap((f) => Object.keys(f.tensors))
          .sort(),
      );
    } else {
      expect(names).toEqual([layout.format === 'safetensors' ? 'model.safetensors' : 'pytorch_model.bin']);
      expect(found.index).toBeNull();
    }
    const tensors = Object.assign({}, ...Object.values(found.files).map((f) => f.tensors)) as Record<
      string,
      { dtype: string; storage: string | null; sha256: string }
    >;
    expect(new Set(Object.values(tensors).map((t) => t.dtype))).toEqual(new Set([layout.dtype]));
    // Half weights are the float32 reference rounded to nearest even, element for element.
    expect(Object.values(found.rounding_mismatches!).reduce((a, b) => a + b, 0)).toBe(0);
    if (layout.format === 'bin') {
      // torch.save keeps the tied copies of shared.weight as views of its storage, as transformers' .bin files do.
      expect(tensors['encoder.embed_tokens.weight'].sha256).toBe(tensors['shared.weight'].sha256);
      expect(tensors['lm_head.weight'].sha256 === tensors['shared.weight'].sha256).toBe(family.config.tie_word_embeddings !== false);
    } else {
      expect(tensors['encoder.embed_tokens.weight']).toBeUndefined();
      expect('lm_head.weight' in tensors).toBe(family.config.tie_word_embeddings === false);
    }
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config.torch_dtype).toBe({ F32: 'float32', F16: 'float16', BF16: 'bfloat16' }[layout.dtype]);

    const folder = convertedFolderFor(dir, converted);
    const inspected = await inspectModel(folder, { castCacheDir: join(home, 'cache', 'cast') });
    expect(inspected.summary).toMatchObject({
      dModel: 64,
      encoderLayers: 2,
      decoderLayers: 2,
      tiedEmbeddings: family.config.tie_word_embeddings !== false,
    });
    const files = new Set([...inspected.checkpoint.tensors.values()].map((t) => t.file));
    if (layout.dtype === 'F32' && layout.format === 'safetensors') {
      // Nothing copied: the graph reads each tensor from its own shard.
      expect([...files].every((f) => f.startsWith(`${dir}/`))).toBe(true);
      expect(files.size).toBe(layout.sharded ? names.length : 1);
    }
    if (layout.format === 'bin') {
      // Converted once, shard by shard (a shard holding only tied copies of shared.weight has nothing left).
      expect([...files].every((f) => f.startsWith(`${folder}/`) || layout.dtype !== 'F32')).toBe(true);
      expect(files.size > 1).toBe(layout.dtype === 'F32' && layout.sharded);
    }
    const result = await train(folder);
    runs.set(`${layout.format}-${layout.sharded}-${layout.dtype}`, result);
    expect(result.status).toBe('completed');
    expect(Number.isFinite(result.first_loss) && Number.isFinite(result.last_loss)).toBe(true);
    if (layout.dtype === 'F32') {
      expect(result.first_loss).toBe(referenceRun.first_loss);
      expect(result.last_loss).toBe(referenceRun.last_loss);
      expect(Buffer.from(promptOf(result).buffer).equals(Buffer.from(promptOf(referenceRun).buffer))).toBe(true);
    } else {
      expect(Math.abs(result.first_loss! - referenceRun.first_loss!) / referenceRun.first_loss!).toBeLessThan(1e-2);
      expect(Math.abs(result.last_loss! - referenceRun.last_loss!) / referenceRun.last_loss!).toBeLessThan(1e-2);
      expect(Buffer.from(promptOf(result).buffer).equals(Buffer.from(promptOf(referenceRun).buffer))).toBe(false);
      // The same half weights in another layout train identically.
      const twin = runs.get(`safetensors-false-${layout.dtype}`);
      if (twin) expect(Buffer.from(promptOf(result).buffer).equals(Buffer.from(promptOf(twin).buffer))).toBe(true);
    }
  });
});

describe('the families table reproduces the Hub layouts', () => {
  it('flan-t5-xl: two shards of 9.45 GB and 1.95 GB in both formats, index naming every tensor', () => {
    const family = findFamily('flan-t5-xl')!;
    for (const format of ['safetensors', 'bin'] as const) {
      const plan = planCheckpoint({ family, format });
      expect(plan.shards.map((s) => s.name)).toEqual(
        format === 'safetensors'
          ? ['model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']
          : ['pytorch_model-00001-of-00002.bin', 'pytorch_model-00002-of-00002.bin'],
      );
      // Bytes on disk: each storage once (tied copies are views of shared.weight in the same shard).
      const gb = plan.shards.map((s) => [...new Map(s.tensors.map((t) => [t.storage, t.bytes])).values()].reduce((a, b) => a + b, 0) / 1e9);
      expect(gb[0]).toBeCloseTo(9.45, 2);
      expect(gb[1]).toBeCloseTo(1.95, 2);
      expect(plan.config).toMatchObject({
        dModel: 2048,
        dFf: 5120,
        numHeads: 32,
        numLayers: 24,
        feedForward: 'gated-gelu',
        tieWordEmbeddings: false,
      });
    }
  });

  it('single-file repositories stay single at full size (t5-v1_1-xl: one 11.4 GB pytorch_model.bin)', () => {
    const plan = planCheckpoint({ family: findFamily('t5-v1_1-xl')! });
    expect(plan.shards.map((s) => s.name)).toEqual(['pytorch_model.bin']);
    expect(plan.totalBytes).toBe(2_849_757_184 * 4);
    expect(planCheckpoint({ family: findFamily('t5-small')! }).shards.map((s) => s.name)).toEqual(['model.safetensors']);
  });

  it('a generated folder has exactly the files the Hub repository would have for it', () => {
    const dir = tempDir();
    const result = generateCheckpoint(dir, {
      family: findFamily('flan-t5-xl')!,
      shape: SHAPE,
      shardBytes: 5_000_000,
      format: 'bin',
      tokenizerFrom,
    });
    expect(readdirSync(dir).sort()).toEqual(
      [
        ...result.files,
        'config.json',
        'generation_config.json',
        'special_tokens_map.json',
        'spiece.model',
        'tokenizer.json',
        'tokenizer_config.json',
      ].sort(),
    );
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      model_type: 't5',
      d_model: 64,
      num_layers: 2,
      num_decoder_layers: 2,
      d_kv: 16,
      feed_forward_proj: 'gated-gelu',
      dense_act_fn: 'gelu_new',
      is_gated_act: true,
      tie_word_embeddings: false,
      vocab_size: 32128,
    });
  });
});
