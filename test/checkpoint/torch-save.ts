import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readSafetensorsHeader, readTensorF32, type TensorEntry } from '../../main/checkpoint/safetensors.js';
import { statePickle, writeZipStored, type SavedTensor } from '../../main/checkpoint/torch-save.js';
import { fixture, tempDir } from './helpers.js';

/** In-memory torch.save archives for tests, written by Sprout's own writer (main/checkpoint/torch-save.ts). */
export { statePickle, type SavedTensor } from '../../main/checkpoint/torch-save.js';

export function zipStored(entries: [string, Buffer][]): Buffer {
  const file = join(tempDir(), 'archive.zip');
  writeZipStored(
    file,
    entries.map(([name, data]) => ({ name, size: data.length, write: (sink) => sink(data) })),
  );
  return readFileSync(file);
}

export function torchSave(tensors: SavedTensor[], storages: Map<string, Buffer>, elementBytes = 4): Buffer {
  const sizes = new Map([...storages].map(([k, v]) => [k, v.length / elementBytes]));
  return zipStored([
    ['archive/data.pkl', statePickle(tensors, sizes)],
    ['archive/byteorder', Buffer.from('little')],
    ...[...storages].map(([key, data]): [string, Buffer] => [`archive/data/${key}`, data]),
    ['archive/version', Buffer.from('3\n')],
  ]);
}

/**
 * The v1_0 fixture as HF's save_pretrained(safe_serialization=False) would store it, plus the layouts torch
 * produces in the wild: tied embeddings sharing shared.weight's storage, one weight stored transposed (a
 * non-contiguous view), and the layer norms packed into one storage at different offsets.
 */
export function fixtureAsPytorchBin(): Buffer {
  const source = readSafetensorsHeader(join(fixture('tiny-t5-v1_0'), 'model.safetensors'));
  const bytes = (t: TensorEntry): Buffer => Buffer.from(readTensorF32(t).buffer);
  const tensors: SavedTensor[] = [];
  const storages = new Map<string, Buffer>();
  const norms = [...source.values()].filter((t) => t.name.endsWith('layer_norm.weight'));
  storages.set('norms', Buffer.concat(norms.map(bytes)));
  norms.forEach((t, i) => tensors.push({ name: t.name, storage: 'norms', offset: i * 64, shape: t.shape }));
  let key = 0;
  for (const t of source.values()) {
    if (t.name.endsWith('layer_norm.weight')) continue;
    const storage = String(key++);
    if (t.name === 'encoder.block.1.layer.0.SelfAttention.o.weight') {
      const [rows, cols] = t.shape;
      const w = readTensorF32(t);
      const transposed = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) transposed[c * rows + r] = w[r * cols + c];
      storages.set(storage, Buffer.from(transposed.buffer));
      tensors.push({ name: t.name, storage, shape: t.shape, stride: [1, rows] });
      continue;
    }
    storages.set(storage, bytes(t));
    tensors.push({ name: t.name, storage, shape: t.shape });
    if (t.name === 'shared.weight') {
      for (const tied of ['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', 'lm_head.weight'])
        tensors.push({ name: tied, storage, shape: t.shape });
    }
  }
  return torchSave(tensors, storages);
}
