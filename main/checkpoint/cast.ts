import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { SproutError } from '../errors.js';
import { filesStamp } from '../file-hash.js';
import { readExactly } from './read-exactly.js';
import { DTYPE_BYTES, readSafetensorsHeader, writeSafetensorsStreamed, type TensorEntry } from './safetensors.js';

const CASTABLE = new Set(['F16', 'BF16', 'F64']);
/** Elements converted per step, so that casting t5-large never holds a whole tensor twice. */
const CHUNK_ELEMENTS = 1 << 20;

let halfTable: Float32Array | undefined;

/** float16 bit pattern → float32 value, for all 65,536 patterns (built once). */
function halfToFloat(): Float32Array {
  if (halfTable) return halfTable;
  const table = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exponent = (h >> 10) & 0x1f;
    const mantissa = h & 0x3ff;
    if (exponent === 0) table[h] = sign * mantissa * 2 ** -24;
    else if (exponent === 31) table[h] = mantissa ? NaN : sign * Infinity;
    else table[h] = sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
  }
  halfTable = table;
  return table;
}

/** Converts `out.length` F64/F16/BF16 (or F32) little-endian values in `bytes` to float32. */
export function convertToF32(dtype: string, bytes: Uint8Array, out: Float32Array): void {
  if (dtype === 'F32') {
    out.set(new Float32Array(bytes.buffer, bytes.byteOffset, out.length));
    return;
  }
  if (dtype === 'F64') {
    const src = new Float64Array(bytes.buffer, bytes.byteOffset, out.length);
    for (let i = 0; i < out.length; i++) out[i] = src[i];
  } else if (dtype === 'F16') {
    const src = new Uint16Array(bytes.buffer, bytes.byteOffset, out.length);
    const table = halfToFloat();
    for (let i = 0; i < out.length; i++) out[i] = table[src[i]];
  } else {
    // bfloat16 is the top half of a float32.
    const src = new Uint16Array(bytes.buffer, bytes.byteOffset, out.length);
    const bits = new Uint32Array(out.buffer, out.byteOffset, out.length);
    for (let i = 0; i < out.length; i++) bits[i] = src[i] << 16;
  }
}

function sidecarName(sourceFiles: string[]): string {
  return `${filesStamp(sourceFiles).slice(0, 32)}.f32.safetensors`;
}

/**
 * Returns `tensors` as float32, in place when they all are, else every entry replaced by a float32 copy in a
 * sidecar safetensors file under `cacheDir`, float32 ones included: a graph reads its weights from one folder, and a
 * float16 checkpoint saved by recent transformers keeps its wo weights in float32 (T5's _keep_in_fp32_modules).
 * The sidecar is named after the source files' path, size and mtime, so the cast happens once and a changed source
 * gets a fresh one.
 */
export function castToF32(tensors: Map<string, TensorEntry>, cacheDir: string): Map<string, TensorEntry> {
  const entries = [...checkFloating(tensors).values()];
  if (entries.every((t) => t.dtype === 'F32')) return tensors;
  mkdirSync(cacheDir, { recursive: true });
  const sidecar = join(cacheDir, sidecarName([...new Set(entries.map((t) => t.file))].sort()));
  let cast = existsSync(sidecar) ? tryReadHeader(sidecar) : undefined;
  const complete = cast && entries.every((t) => cast!.get(t.name)?.dtype === 'F32' && sameShape(cast!.get(t.name)!.shape, t.shape));
  if (!complete) {
    writeSafetensorsStreamed(
      sidecar,
      entries.map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, write: (sink) => streamCast(t, sink) })),
      { format: 'pt' },
    );
    cast = readSafetensorsHeader(sidecar);
  }
  const result = new Map(tensors);
  for (const t of entries) result.set(t.name, cast!.get(t.name)!);
  return result;
}

/** Refuses a checkpoint holding anything but float32/float16/bfloat16/float64 tensors; returns it unchanged. */
export function checkFloating(tensors: Map<string, TensorEntry>): Map<string, TensorEntry> {
  for (const t of tensors.values()) {
    if (t.dtype !== 'F32' && !CASTABLE.has(t.dtype)) {
      throw new SproutError('bad-dtype', `Tensor "${t.name}" has dtype ${t.dtype}; model weights must be floating point.`, {
        file: t.file,
        hint: 'The checkpoint is probably quantised or not a T5 model; use a float32, float16 or bfloat16 checkpoint.',
      });
    }
  }
  return tensors;
}

function tryReadHeader(file: string): Map<string, TensorEntry> | undefined {
  try {
    return readSafetensorsHeader(file);
  } catch {
    return undefined;
  }
}

function sameShape(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

function streamCast(t: TensorEntry, sink: (chunk: Uint8Array) => void): void {
  const elementBytes = DTYPE_BYTES[t.dtype];
  const total = t.length / elementBytes;
  const fd = openSync(t.file, 'r');
  try {
    const bytes = new Uint8Array(Math.min(total, CHUNK_ELEMENTS) * elementBytes);
    for (let start = 0; start < total; start += CHUNK_ELEMENTS) {
      const count = Math.min(CHUNK_ELEMENTS, total - start);
      const view = bytes.subarray(0, count * elementBytes);
      readExactly(fd, view, t.offset + start * elementBytes, () => {
        throw new SproutError('bad-safetensors', `The file ends inside tensor "${t.name}".`, { file: t.file });
      });
      const out = new Float32Array(count);
      convertToF32(t.dtype, view, out);
      sink(new Uint8Array(out.buffer));
    }
  } finally {
    closeSync(fd);
  }
}
