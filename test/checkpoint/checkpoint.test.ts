import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  expectedTensors,
  openCheckpoint,
  parameterCount,
  readTensorF32,
  writeRandomT5Checkpoint,
} from '../../main/checkpoint/checkpoint.js';
import { parseT5Config } from '../../main/checkpoint/config.js';
import { findFamily } from '../../main/checkpoint/families.js';
import { generateCheckpoint } from '../../main/checkpoint/generate.js';
import { convertedFolderFor } from '../../main/hub/inspect.js';
import { readSafetensorsHeader, writeSafetensorsStreamed, type TensorEntry } from '../../main/checkpoint/safetensors.js';
import { SproutError } from '../../main/errors.js';
import { fixture, tempDir } from './helpers.js';

const tokenizerFiles = ['tokenizer.json', 'spiece.model', 'tokenizer_config.json', 'special_tokens_map.json'];

function copyModel(from: string, to: string, files = ['config.json', 'model.safetensors', ...tokenizerFiles]): void {
  mkdirSync(to, { recursive: true });
  for (const f of files) copyFileSync(join(from, f), join(to, f));
}

/** Rewrites a float32 safetensors file with every tensor converted by `encode` to `dtype`. */
function rewrite(src: Map<string, TensorEntry>, file: string, dtype: 'F16' | 'BF16', encode: (x: number) => number): void {
  writeSafetensorsStreamed(
    file,
    [...src.values()].map((t) => ({
      name: t.name,
      dtype,
      shape: t.shape,
      write: (sink) => {
        const values = readTensorF32(t);
        const out = new Uint16Array(values.length);
        for (let i = 0; i < values.length; i++) out[i] = encode(values[i]);
        sink(new Uint8Array(out.buffer));
      },
    })),
  );
}

const bytesOf = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);
const toBf16 = (x: number): number => {
  scratch[0] = x;
  return scratchBits[0] >>> 16;
};

describe('openCheckpoint on the fixtures', () => {
  it.each([
    ['tiny-t5-v1_0', 47, 'relu', true],
    ['tiny-t5-v1_1', 61, 'gated-gelu', false],
    ['mini-t5-pretrained', 75, 'gated-gelu', false],
  ] as const)('%s: %i tensors, %s, tied=%s', async (name, count, ff, tied) => {
    const ckpt = await openCheckpoint(fixture(name), { castCacheDir: tempDir() });
    expect(ckpt.tensors.size).toBe(count);
    expect(ckpt.config.feedForward).toBe(ff);
    expect(ckpt.config.tieWordEmbeddings).toBe(tied);
    expect([...ckpt.tensors.keys()].sort()).toEqual([...expectedTensors(ckpt.config).keys()].sort());
    expect(ckpt.tokenizerDir).toBe(fixture(name));
    for (const entry of ckpt.tensors.values()) {
      expect(entry.dtype).toBe('F32');
      expect(entry.file).toBe(join(fixture(name), 'model.safetensors'));
    }
  });

  it('mini-t5-pretrained has the parameter count its README states', async () => {
    const ckpt = await openCheckpoint(fixture('mini-t5-pretrained'), { castCacheDir: tempDir() });
    expect(parameterCount(ckpt.config)).toBe(9_996_672);
  });

  it('reads a tensor range exactly (layer norm weights of v1_0 lie in U(0.5, 1.5))', async () => {
    const ckpt = await openCheckpoint(fixture('tiny-t5-v1_0'), { castCacheDir: tempDir() });
    const ln = readTensorF32(ckpt.tensors.get('encoder.final_layer_norm.weight')!);
    expect(ln.length).toBe(64);
    expect(Math.min(...ln)).toBeGreaterThanOrEqual(0.5);
    expect(Math.max(...ln)).toBeLessThanOrEqual(1.5);
    const bias = readTensorF32(ckpt.tensors.get('encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight')!);
    expect(bias.length).toBe(32 * 4);
  });
});

describe('openCheckpoint reports broken folders by name', () => {
  it('a missing and an unexpected tensor', async () => {
    const dir = tempDir();
    copyModel(fixture('tiny-t5-v1_0'), dir);
    const src = readSafetensorsHeader(join(fixture('tiny-t5-v1_0'), 'model.safetensors'));
    writeSafetensorsStreamed(
      join(dir, 'model.safetensors'),
      [...src.values()]
        .filter((t) => t.name !== 'decoder.block.1.layer.2.DenseReluDense.wo.weight')
        .map((t) => ({
          ...t,
          name: t.name === 'encoder.final_layer_norm.weight' ? 'encoder.final_norm.weight' : t.name,
          write: (sink) => sink(new Uint8Array(readTensorF32(t).buffer)),
        })),
    );
    const error = await openCheckpoint(dir, { castCacheDir: tempDir() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SproutError);
    expect((error as SproutError).code).toBe('checkpoint-mismatch');
    expect((error as Error).message).toContain(
      'missing tensors: encoder.final_layer_norm.weight, decoder.block.1.layer.2.DenseReluDense.wo.weight',
    );
    expect((error as Error).message).toContain('unexpected tensors: encoder.final_norm.weight');
  });

  it('a config whose shapes disagree with the weights', async () => {
    const dir = tempDir();
    copyModel(fixture('tiny-t5-v1_1'), dir);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, d_ff: 97 }));
    await expect(openCheckpoint(dir, { castCacheDir: tempDir() })).rejects.toThrow(
      /wrong shapes: encoder\.block\.0\.layer\.1\.DenseReluDense\.wi_0\.weight is \[96, 64\] but config\.json implies \[97, 64\]/,
    );
  });

  it('ignores tied duplicates that older save_pretrained versions wrote', async () => {
    const dir = tempDir();
    copyModel(fixture('tiny-t5-v1_0'), dir);
    const src = readSafetensorsHeader(join(fixture('tiny-t5-v1_0'), 'model.safetensors'));
    const shared = src.get('shared.weight')!;
    const copies = ['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', 'lm_head.weight'].map((name) => ({ ...shared, name }));
    writeSafetensorsStreamed(
      join(dir, 'model.safetensors'),
      [...src.values(), ...copies].map((t) => ({ ...t, write: (sink) => sink(new Uint8Array(readTensorF32(t).buffer)) })),
    );
    const ckpt = await openCheckpoint(dir, { castCacheDir: tempDir() });
    expect(ckpt.tensors.size).toBe(47);
    expect(ckpt.tensors.has('lm_head.weight')).toBe(false);
  });

  it('no tokenizer, no weights, no folder', async () => {
    const dir = tempDir();
    copyModel(fixture('tiny-t5-v1_0'), dir, ['config.json', 'model.safetensors']);
    await expect(openCheckpoint(dir, { castCacheDir: tempDir() })).rejects.toThrow(/no tokenizer \(tokenizer\.json or spiece\.model\)/);
    copyFileSync(join(fixture('tiny-t5-v1_0'), 'spiece.model'), join(dir, 'spiece.model'));
    await expect(openCheckpoint(dir, { castCacheDir: tempDir() })).resolves.toBeDefined();
    rmSync(join(dir, 'model.safetensors'));
    await expect(openCheckpoint(dir, { castCacheDir: tempDir() })).rejects.toThrow(
      /neither model\.safetensors nor model\.safetensors\.index\.json/,
    );
    await expect(openCheckpoint(join(dir, 'nope'))).rejects.toThrow(/does not exist/);
  });
});

describe('sharded checkpoints', () => {
  it('reads shards through model.safetensors.index.json', async () => {
    const dir = tempDir();
    copyModel(fixture('tiny-t5-v1_1'), dir, ['config.json', ...tokenizerFiles]);
    const src = [...readSafetensorsHeader(join(fixture('tiny-t5-v1_1'), 'model.safetensors')).values()];
    const shards = [src.filter((t) => t.name.startsWith('encoder')), src.filter((t) => !t.name.startsWith('encoder'))];
    const weightMap: Record<string, string> = {};
    shards.forEach((tensors, i) => {
      const name = `model-0000${i + 1}-of-00002.safetensors`;
      writeSafetensorsStreamed(
        join(dir, name),
        tensors.map((t) => ({ ...t, write: (sink) => sink(new Uint8Array(readTensorF32(t).buffer)) })),
      );
      for (const t of tensors) weightMap[t.name] = name;
    });
    writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }));
    const ckpt = await openCheckpoint(dir, { castCacheDir: tempDir() });
    expect(ckpt.tensors.size).toBe(61);
    expect(ckpt.tensors.get('lm_head.weight')!.file).toBe(join(dir, 'model-00002-of-00002.safetensors'));
    const original = readTensorF32(src.find((t) => t.name === 'lm_head.weight')!);
    expect(bytesOf(readTensorF32(ckpt.tensors.get('lm_head.weight')!)).equals(bytesOf(original))).toBe(true);

    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { ...weightMap, 'shared.weight': '../elsewhere.safetensors' } }),
    );
    await expect(openCheckpoint(dir, { castCacheDir: tempDir() })).rejects.toThrow(/not a \.safetensors file in this folder/);
  });
});

describe('a missing shard is a clear error naming the file', () => {
  const shape = { numLayers: 2, dModel: 32, dFf: 48, numHeads: 2, dKv: 16 };
  it.each(['safetensors', 'bin'] as const)('%s', async (format) => {
    const dir = tempDir();
    const { files } = generateCheckpoint(dir, {
      family: findFamily('flan-t5-xl')!,
      shape,
      format,
      shardBytes: 2_000_000,
      tokenizerFrom: fixture('tiny-t5-v1_1'),
    });
    const lost = files[1];
    rmSync(join(dir, lost));
    const open = async (): Promise<unknown> =>
      format === 'bin' ? convertedFolderFor(dir, tempDir()) : openCheckpoint(dir, { castCacheDir: tempDir() });
    const error = (await open().catch((e: unknown) => e)) as SproutError;
    expect(error).toBeInstanceOf(SproutError);
    expect(error.code).toBe('missing-shard');
    expect(error.details.file).toBe(join(dir, lost));
    expect(error.message).toContain(`the folder does not have: ${lost}.`);
    expect(error.message).toContain('sprout model download REPO');
  });
});

describe('float16 and bfloat16 checkpoints are cast once to float32', () => {
  it('bfloat16: values are the truncated float32 values, and the sidecar is reused', async () => {
    const dir = tempDir();
    copyModel(fixture('tiny-t5-v1_0'), dir, ['config.json', ...tokenizerFiles]);
    const src = readSafetensorsHeader(join(fixture('tiny-t5-v1_0'), 'model.safetensors'));
    rewrite(src, join(dir, 'model.safetensors'), 'BF16', toBf16);
    const cache = tempDir();
    const ckpt = await openCheckpoint(dir, { castCacheDir: cache });
    const sidecars = readdirSync(cache);
    expect(sidecars).toHaveLength(1);
    for (const [name, entry] of ckpt.tensors) {
      expect(entry.dtype).toBe('F32');
      expect(entry.file).toBe(join(cache, sidecars[0]));
      const original = readTensorF32(src.get(name)!);
      const cast = readTensorF32(entry);
      const expected = new Float32Array(new Uint32Array(original.length).map((_, i) => toBf16(original[i]) << 16).buffer);
      expect(bytesOf(cast).equals(bytesOf(expected))).toBe(true);
    }
    const mtime = statSync(join(cache, sidecars[0])).mtimeMs;
    await openCheckpoint(dir, { castCacheDir: cache });
    expect(statSync(join(cache, sidecars[0])).mtimeMs).toBe(mtime);
  });

  it('float16: within half precision of the original, including subnormals', async () => {
    const dir = tempDir();
    copyModel(fixture('tiny-t5-v1_1'), dir, ['config.json', ...tokenizerFiles]);
    const src = readSafetensorsHeader(join(fixture('tiny-t5-v1_1'), 'model.safetensors'));
    // Round to nearest half via the float16 grid (no Float16Array on Node 20).
    const toF16 = (x: number): number => {
      const sign = x < 0 ? 0x8000 : 0;
      const a = Math.abs(x);
      if (a < 2 ** -14) return sign | Math.round(a / 2 ** -24);
      const e = Math.floor(Math.log2(a));
      const m = Math.round((a / 2 ** e - 1) * 1024);
      return m === 1024 ? sign | ((e + 16) << 10) : sign | ((e + 15) << 10) | m;
    };
    rewrite(src, join(dir, 'model.safetensors'), 'F16', toF16);
    const ckpt = await openCheckpoint(dir, { castCacheDir: tempDir() });
    const name = 'decoder.block.1.layer.2.DenseReluDense.wi_1.weight';
    const original = readTensorF32(src.get(name)!);
    const cast = readTensorF32(ckpt.tensors.get(name)!);
    let worst = 0;
    for (let i = 0; i < original.length; i++)
      worst = Math.max(worst, Math.abs(cast[i] - original[i]) / Math.max(Math.abs(original[i]), 2 ** -14));
    expect(worst).toBeLessThanOrEqual(2 ** -11);
    expect(worst).toBeGreaterThan(0);
  });
});

describe('writeRandomT5Checkpoint', () => {
  it('writes a checkpoint openCheckpoint accepts, with HF-like scales', async () => {
    const dir = tempDir();
    await writeRandomT5Checkpoint(
      dir,
      {
        tokenizerFrom: fixture('tiny-t5-v1_0'),
        vocabSize: 500,
        dModel: 32,
        dKv: 8,
        numHeads: 3,
        dFf: 40,
        numLayers: 2,
        numDecoderLayers: 1,
        feedForward: 'gated-gelu',
        tieWordEmbeddings: false,
      },
      7,
    );
    const ckpt = await openCheckpoint(dir, { castCacheDir: tempDir() });
    expect(ckpt.config).toMatchObject({
      vocabSize: 500,
      dModel: 32,
      dKv: 8,
      numHeads: 3,
      dFf: 40,
      numLayers: 2,
      numDecoderLayers: 1,
      feedForward: 'gated-gelu',
      tieWordEmbeddings: false,
    });
    expect(ckpt.tensors.size).toBe(expectedTensors(ckpt.config).size);
    expect(readTensorF32(ckpt.tensors.get('encoder.final_layer_norm.weight')!)).toEqual(new Float32Array(32).fill(1));
    const std = (a: Float32Array): number => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
    expect(std(readTensorF32(ckpt.tensors.get('shared.weight')!))).toBeCloseTo(1, 1);
    expect(std(readTensorF32(ckpt.tensors.get('encoder.block.1.layer.1.DenseReluDense.wo.weight')!))).toBeCloseTo(40 ** -0.5, 1);
    expect(existsSync(join(dir, 'tokenizer.json'))).toBe(true);
    // Same seed, same bytes; another seed, other bytes.
    const again = tempDir();
    await writeRandomT5Checkpoint(
      again,
      {
        tokenizerFrom: fixture('tiny-t5-v1_0'),
        vocabSize: 500,
        dModel: 32,
        dKv: 8,
        numHeads: 3,
        dFf: 40,
        numLayers: 2,
        numDecoderLayers: 1,
        feedForward: 'gated-gelu',
        tieWordEmbeddings: false,
      },
      7,
    );
    expect(readFileSync(join(again, 'model.safetensors')).equals(readFileSync(join(dir, 'model.safetensors')))).toBe(true);
  });

  it('t5-small shape (242 MB) is written by streaming', async () => {
    const dir = tempDir();
    const before = process.memoryUsage().rss;
    await writeRandomT5Checkpoint(dir, { tokenizerFrom: fixture('tiny-t5-v1_0') }, 1);
    const grown = process.memoryUsage().rss - before;
    const ckpt = await openCheckpoint(dir, { castCacheDir: tempDir() });
    expect(parameterCount(ckpt.config)).toBe(60_506_624);
    expect(statSync(join(dir, 'model.safetensors')).size).toBeGreaterThan(60_506_624 * 4);
    expect(grown).toBeLessThan(150 * 1024 * 1024);
    expect(parseT5Config(JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')), 'x')).toEqual(ckpt.config);
    rmSync(dir, { recursive: true });
  });
});
