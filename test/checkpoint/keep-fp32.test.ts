/**
 * A float16 checkpoint as recent transformers saves one: T5's `_keep_in_fp32_modules = ["wo"]` keeps the feed-forward
 * output weights in float32 when the model is loaded in float16, so `save_pretrained` writes a file whose tensors are
 * F16 except every `…DenseReluDense.wo.weight`, which is F32. The file is written by python3 (json, struct, numpy)
 * from a generated float32 checkpoint, not by Sprout. It must load at every width and train like the float32 file.
 */
import { inLibrary } from '../../main/library/run-records.js';
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../main/checkpoint/checkpoint.js';
import { findFamily } from '../../main/checkpoint/families.js';
import { generateCheckpoint } from '../../main/checkpoint/generate.js';
import { runTraining, type TrainingResult } from '../../main/train/run.js';
import type { WeightWidth } from '../../main/weights/width.js';
import { fixture, fixtures, tempDir } from './helpers.js';

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});
const temp = (prefix: string) => {
  const dir = tempDir(prefix);
  scratch.push(dir);
  return dir;
};

const REWRITE = `
import json, struct, sys
import numpy as np
src, dst = sys.argv[1], sys.argv[2]
raw = open(src, 'rb').read()
n = struct.unpack('<Q', raw[:8])[0]
header = json.loads(raw[8:8 + n])
header.pop('__metadata__', None)
out_header, blobs, offset = {}, [], 0
for name in sorted(header):
    meta = header[name]
    a = np.frombuffer(raw[8 + n + meta['data_offsets'][0]:8 + n + meta['data_offsets'][1]], dtype='<f4')
    keep = name.endswith('.wo.weight')
    blob = (a if keep else a.astype('<f2')).tobytes()
    out_header[name] = {'dtype': 'F32' if keep else 'F16', 'shape': meta['shape'], 'data_offsets': [offset, offset + len(blob)]}
    blobs.append(blob)
    offset += len(blob)
out_header['__metadata__'] = {'format': 'pt'}
text = json.dumps(out_header, separators=(',', ':')).encode()
text += b' ' * (-len(text) % 8)
with open(dst, 'wb') as f:
    f.write(struct.pack('<Q', len(text)) + text + b''.join(blobs))
print(json.dumps(sorted({v['dtype'] for k, v in out_header.items() if k != '__metadata__'})))
`;

function train(model: string, weights: WeightWidth): Promise<TrainingResult> {
  return runTraining(
    {
      config: {
        model,
        device: 'cpu',
        threads: 1,
        weights,
        train: { file: join(fixtures, '../data/sst2/train.tsv'), header: true, quoting: 'none', limit: 24 },
        task: { template: '{sentence}', labelColumn: 'label', verbalizer: { 0: 'negative', 1: 'positive' } },
        promptLength: 3,
        batchSize: 4,
        steps: 3,
        checkpointEvery: 1000,
      },
    },
    inLibrary(temp('sprout-keepfp32-run-')),
  );
}

describe('a float16 checkpoint that keeps its wo weights in float32', () => {
  const reference = temp('sprout-keepfp32-ref-');
  generateCheckpoint(reference, {
    family: findFamily('flan-t5-small')!,
    shape: { numLayers: 2, dModel: 64, dFf: 128, numHeads: 4, dKv: 16 },
    dtype: 'F32',
    seed: 5,
    tokenizerFrom: fixture('tiny-t5-v1_1'),
  });
  const mixed = temp('sprout-keepfp32-mixed-');
  for (const file of readdirSync(reference)) if (file !== 'model.safetensors') copyFileSync(join(reference, file), join(mixed, file));
  const dtypes = JSON.parse(
    execFileSync('python3', ['-c', REWRITE, join(reference, 'model.safetensors'), join(mixed, 'model.safetensors')], { encoding: 'utf8' }),
  );

  it('is the layout described: F16 tensors, F32 wo weights', async () => {
    expect(dtypes).toEqual(['F16', 'F32']);
    const checkpoint = await openCheckpoint(mixed, { keepDtypes: true });
    const wo = [...checkpoint.tensors].filter(([name]) => name.endsWith('.wo.weight'));
    expect(wo.length).toBe(4);
    expect(new Set(wo.map(([, t]) => t.dtype))).toEqual(new Set(['F32']));
    expect(new Set([...checkpoint.tensors].filter(([name]) => !name.endsWith('.wo.weight')).map(([, t]) => t.dtype))).toEqual(
      new Set(['F16']),
    );
  });

  it.each(['fp32', 'fp16', 'bf16', 'int8'] as const)('trains at %s like the float32 checkpoint', async (width) => {
    const [expected, got] = [await train(reference, width), await train(mixed, width)];
    expect(got.status).toBe('completed');
    expect(got.weights).toBe(width);
    for (const key of ['first_loss', 'last_loss'] as const)
      expect(Math.abs(got[key]! - expected[key]!) / expected[key]!).toBeLessThan(1e-2);
  });
});
