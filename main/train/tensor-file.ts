/**
 * Small safetensors files the trainer writes (token cache, checkpoints, prompts): float32 and int32 tensors
 * plus string metadata, written to a temporary file, fsynced and renamed (then the folder fsynced), so a kill at
 * any moment leaves either the old file or the new one.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { SproutError } from '../errors.js';
import { readSafetensorsFile, readTensorBytes, writeSafetensorsStreamed } from '../checkpoint/safetensors.js';

export type TensorData = Float32Array | Int32Array;

export interface NamedTensor {
  name: string;
  shape: number[];
  data: TensorData;
}

export function writeTensorFile(file: string, tensors: NamedTensor[], metadata: Record<string, string>): void {
  writeSafetensorsStreamed(
    file,
    tensors.map((t) => {
      const n = t.shape.reduce((a, b) => a * b, 1);
      if (n !== t.data.length) throw new RangeError(`tensor ${t.name} has ${t.data.length} values, shape [${t.shape}] needs ${n}`);
      return {
        name: t.name,
        dtype: t.data instanceof Float32Array ? ('F32' as const) : ('I32' as const),
        shape: t.shape,
        write: (sink: (chunk: Uint8Array) => void) => sink(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
      };
    }),
    metadata,
  );
  // The rename is durable only once the folder entry is on disk too.
  const fd = openSync(dirname(file), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface TensorFile {
  file: string;
  metadata: Record<string, string>;
  tensors: Map<string, { shape: number[]; data: TensorData }>;
}

export function readTensorFile(file: string): TensorFile {
  const { tensors, metadata } = readSafetensorsFile(file);
  const out = new Map<string, { shape: number[]; data: TensorData }>();
  for (const [name, entry] of tensors) {
    if (entry.dtype !== 'F32' && entry.dtype !== 'I32') {
      throw new SproutError('bad-run-file', `Tensor "${name}" is ${entry.dtype}; Sprout's run files hold only F32 and I32.`, { file });
    }
    const bytes = readTensorBytes(entry);
    out.set(name, { shape: entry.shape, data: entry.dtype === 'F32' ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer) });
  }
  return { file, metadata, tensors: out };
}

export function requireTensor<T extends TensorData>(f: TensorFile, name: string, kind: new (n: number) => T): T {
  const t = f.tensors.get(name);
  if (!t || !(t.data instanceof kind))
    throw new SproutError('bad-run-file', `The file has no ${kind === (Float32Array as unknown) ? 'F32' : 'I32'} tensor "${name}".`, {
      file: f.file,
    });
  return t.data as T;
}
