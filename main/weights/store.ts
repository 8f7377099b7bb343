/**
 * Where each frozen weight of a checkpoint lives at the chosen width. Float widths whose dtype the checkpoint
 * already has are read straight from its files (no copy); anything else (int8 always) is converted once into a
 * cache folder under the data directory, built tensor by tensor so that an interrupted build resumes, each file
 * renamed into place only when whole, and verified against its manifest (size and sha256) every time it is used.
 * int8 compute (scoring with int8 products) has a conversion of its own: the projections as int8 Wᵀ with one scale
 * per output, the form the integer product takes (main/graph/t5/weight-entry.ts).
 */
import {
  appendFileSync,
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { castToF32, convertToF32 } from '../checkpoint/cast.js';
import { filesStamp, sha256OfFile } from '../file-hash.js';
import type { Checkpoint } from '../checkpoint/checkpoint.js';
import {
  readSafetensorsHeader,
  readTensorBytes,
  writeSafetensorsStreamed,
  type StreamedTensor,
  type TensorEntry,
} from '../checkpoint/safetensors.js';
import { SproutError } from '../errors.js';
import { toHalf } from '../checkpoint/to-half.js';
import { blockSize, quantiseBlocks, quantiseRowsTransposed } from './quantize.js';
import { isProjection } from '../checkpoint/layout.js';
import type { ComputeChoice, WeightWidth } from './width.js';
import { tempPathBeside } from '../temp-path.js';

/** Bump when the cache layout or quantisation changes, so that old caches are rebuilt rather than misread. */
const CACHE_FORMAT = 3;

export interface ExternalRef {
  location: string;
  offset: number;
  length: number;
}
export type FloatDtype = 'float32' | 'bfloat16' | 'float16';

/**
 * One frozen tensor. `float`: the tensor itself in `dtype`. `int8` (2-D weights [out, in]: linear layers and
 * the embedding): q int8 [out, in] in W's layout, one float32 scale per `block` consecutive inputs of a row:
 * scale [out, in / block] (see main/weights/quantize.ts). `int8t` (projections under int8 compute): qT int8 [in, out],
 * Wᵀ, with one float32 scale per output: scale [out].
 */
export type StoredWeight =
  | { kind: 'float'; dtype: FloatDtype; dims: number[]; data: ExternalRef }
  | { kind: 'int8'; dims: number[]; q: ExternalRef; scale: ExternalRef; block: number }
  | { kind: 'int8t'; dims: number[]; qT: ExternalRef; scale: ExternalRef };

export interface WeightStore {
  width: WeightWidth;
  /** int8: the projections are stored for integer products (`int8t`), the rest as at width int8. */
  compute: ComputeChoice;
  /** The one folder every ExternalRef.location is relative to. */
  dir: string;
  weights: Map<string, StoredWeight>;
  /** Bytes of the files the weights are read from. */
  bytes: number;
}

/** Bytes: of tensor data converted (convert), of cache files checked (verify), each against that phase's total. */
export interface PrepareProgress {
  phase: 'convert' | 'verify';
  done: number;
  total: number;
}

export interface PrepareOptions {
  /** Root of the conversion caches, e.g. <data dir>/cache. */
  cacheDir: string;
  onProgress?: (p: PrepareProgress) => void;
}

const HALF: Record<'bf16' | 'fp16', { st: 'BF16' | 'F16'; dtype: FloatDtype }> = {
  bf16: { st: 'BF16', dtype: 'bfloat16' },
  fp16: { st: 'F16', dtype: 'float16' },
};

/** What a cache folder holds: a narrow width, or the weights of int8 compute. */
type CachedForm = Exclude<WeightWidth, 'fp32'> | 'int8-products';

function ref(entry: TensorEntry): ExternalRef {
  return { location: basename(entry.file), offset: entry.offset, length: entry.length };
}

function floatStore(width: WeightWidth, tensors: Map<string, TensorEntry>, dtype: FloatDtype): WeightStore {
  const dirs = new Set([...tensors.values()].map((t) => dirname(t.file)));
  if (dirs.size !== 1) {
    throw new SproutError('checkpoint-split', `The model's weights are spread over several folders (${[...dirs].join(', ')}).`, {
      hint: 'Keep all weight files of a model in one folder.',
    });
  }
  const weights = new Map<string, StoredWeight>(
    [...tensors].map(([name, t]) => [name, { kind: 'float', dtype, dims: t.shape, data: ref(t) }]),
  );
  const bytes = [...new Set([...tensors.values()].map((t) => t.file))].reduce((n, f) => n + statSync(f).size, 0);
  return { width, compute: 'float', dir: [...dirs][0], weights, bytes };
}

/**
 * The weights of `checkpoint` (opened with keepDtypes) at `width`, converting into the cache when needed. int8
 * compute has weights of its own (int8, whatever `width`).
 */
export function prepareWeights(
  checkpoint: Checkpoint,
  width: WeightWidth,
  options: PrepareOptions,
  compute: ComputeChoice = 'float',
): WeightStore {
  const tensors = checkpoint.tensors;
  if (compute === 'int8') return convertedStore(checkpoint, 'int8-products', options);
  if (width === 'fp32') return floatStore(width, castToF32(tensors, join(options.cacheDir, 'cast')), 'float32');
  if (width !== 'int8' && [...tensors.values()].every((t) => t.dtype === HALF[width].st))
    return floatStore(width, tensors, HALF[width].dtype);
  return convertedStore(checkpoint, width, options);
}

// ---- conversion ----------------------------------------------------------------------------------------

/** 2-D weights are quantised; the relative position bias tables (tiny, added to logits) and norms stay float32. */
function quantises(name: string, dims: number[]): boolean {
  return dims.length === 2 && !name.endsWith('relative_attention_bias.weight');
}

/** The tensors of one cache file: what `form` stores for the source tensor `entry`. */
function convertTensor(entry: TensorEntry, form: CachedForm): StreamedTensor[] {
  const values = new Float32Array(entry.shape.reduce((a, b) => a * b, 1));
  convertToF32(entry.dtype, readTensorBytes(entry), values);
  if (form === 'int8-products' && isProjection(entry.name)) {
    const [rows, cols] = entry.shape;
    const { q, scale } = quantiseRowsTransposed(values, rows, cols);
    return [
      { name: 'qt', dtype: 'I8', shape: [cols, rows], write: (sink) => sink(new Uint8Array(q.buffer)) },
      { name: 'rowscale', dtype: 'F32', shape: [rows], write: (sink) => sink(new Uint8Array(scale.buffer)) },
    ];
  }
  // Under int8 compute the embedding and LM head stay float32: rows of an int8 embedding moved labels on 3.5 % more
  // SST-2 dev rows (mini-t5-instruct), and they take little of the time.
  if (form === 'int8-products')
    return [{ name: 'f32', dtype: 'F32', shape: entry.shape, write: (sink) => sink(new Uint8Array(values.buffer)) }];
  const width = form;
  if (width !== 'int8') {
    const bits = toHalf(values, HALF[width].st);
    return [{ name: 'half', dtype: HALF[width].st, shape: entry.shape, write: (sink) => sink(new Uint8Array(bits.buffer)) }];
  }
  if (!quantises(entry.name, entry.shape))
    return [{ name: 'f32', dtype: 'F32', shape: entry.shape, write: (sink) => sink(new Uint8Array(values.buffer)) }];
  const [rows, cols] = entry.shape;
  const block = blockSize(cols);
  const { q, scale } = quantiseBlocks(values, rows, cols, block);
  return [
    { name: 'q', dtype: 'I8', shape: entry.shape, write: (sink) => sink(new Uint8Array(q.buffer)) },
    { name: 'scale', dtype: 'F32', shape: [rows, cols / block], write: (sink) => sink(new Uint8Array(scale.buffer)) },
  ];
}

function outputBytes(entry: TensorEntry, form: CachedForm): number {
  const n = entry.shape.reduce((a, b) => a * b, 1);
  if (form === 'int8-products' && isProjection(entry.name)) return n + 4 * entry.shape[0];
  if (form === 'int8-products') return 4 * n;
  if (form !== 'int8') return 2 * n;
  return quantises(entry.name, entry.shape) ? n + (4 * n) / blockSize(entry.shape[1]) : 4 * n;
}

interface ManifestFile {
  file: string;
  tensor: string;
  bytes: number;
  sha256: string;
}
interface Manifest {
  format: number;
  width: CachedForm;
  source: string;
  files: ManifestFile[];
}

/** Identifies the source checkpoint: its files' real paths, sizes and modification times. */
function sourceStamp(tensors: Map<string, TensorEntry>): string {
  return filesStamp([...new Set([...tensors.values()].map((t) => t.file))].sort());
}

function readManifest(file: string): Manifest | undefined {
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    const valid =
      m &&
      m.format === CACHE_FORMAT &&
      Array.isArray(m.files) &&
      m.files.every(
        (f) =>
          typeof f.file === 'string' &&
          /^t\d{5}\.safetensors$/.test(f.file) &&
          Number.isSafeInteger(f.bytes) &&
          /^[0-9a-f]{64}$/.test(f.sha256),
      );
    return valid ? m : undefined;
  } catch {
    return undefined;
  }
}

/** Entries recorded by an interrupted build: one JSON object per completed file. */
function readProgress(file: string): Map<string, ManifestFile> {
  const done = new Map<string, ManifestFile>();
  if (!existsSync(file)) return done;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    try {
      const entry = JSON.parse(line) as ManifestFile;
      if (typeof entry.tensor === 'string') done.set(entry.tensor, entry);
    } catch {
      // A line cut short by a crash: that file is simply converted again.
    }
  }
  return done;
}

function writeAtomically(file: string, text: string): void {
  const tmp = tempPathBeside(file);
  const fd = openSync(tmp, 'w');
  try {
    writeFileSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

function convertedStore(checkpoint: Checkpoint, width: CachedForm, options: PrepareOptions): WeightStore {
  const tensors = checkpoint.tensors;
  const source = sourceStamp(tensors);
  const dir = join(options.cacheDir, 'weights', `${width}-${source.slice(0, 32)}`);
  mkdirSync(dir, { recursive: true });
  const manifestFile = join(dir, 'manifest.json');
  const progressFile = join(dir, 'progress.jsonl');
  const names = [...tensors.keys()].sort();
  const expected = new Map(names.map((name, i) => [name, `t${String(i).padStart(5, '0')}.safetensors`]));
  const total = names.reduce((n, name) => n + outputBytes(tensors.get(name)!, width), 0);

  let manifest = readManifest(manifestFile);
  if (manifest && (manifest.width !== width || manifest.source !== source || manifest.files.length !== names.length)) manifest = undefined;
  if (manifest) {
    // Re-verify like a download: a file that changed since it was written is converted again, the rest kept.
    const good: ManifestFile[] = [];
    const files = manifest.files.reduce((n, f) => n + f.bytes, 0);
    let checked = 0;
    for (const f of manifest.files) {
      const path = join(dir, f.file);
      const ok =
        expected.get(f.tensor) === f.file && existsSync(path) && statSync(path).size === f.bytes && sha256OfFile(path) === f.sha256;
      if (ok) good.push(f);
      else rmSync(path, { force: true });
      checked += f.bytes;
      options.onProgress?.({ phase: 'verify', done: checked, total: files });
    }
    if (good.length !== manifest.files.length) {
      writeAtomically(progressFile, good.map((f) => JSON.stringify(f)).join('\n') + '\n');
      rmSync(manifestFile);
      manifest = undefined;
    }
  }
  if (!manifest) manifest = build();
  const weights = new Map<string, StoredWeight>();
  for (const f of manifest.files) weights.set(f.tensor, stored(tensors.get(f.tensor)!, readSafetensorsHeader(join(dir, f.file))));
  const products = width === 'int8-products';
  return {
    width: products ? 'int8' : width,
    compute: products ? 'int8' : 'float',
    dir,
    weights,
    bytes: manifest.files.reduce((n, f) => n + f.bytes, 0),
  };

  function build(): Manifest {
    const done = readProgress(progressFile);
    for (const [name, f] of done) {
      const path = join(dir, f.file);
      if (expected.get(name) !== f.file || !existsSync(path) || statSync(path).size !== f.bytes) done.delete(name);
    }
    const remaining = names.filter((n) => !done.has(n)).reduce((n, name) => n + outputBytes(tensors.get(name)!, width), 0);
    const free = Number(statfsSync(dir).bavail) * Number(statfsSync(dir).bsize);
    if (remaining > free) {
      throw new SproutError('disk-full', `Converting the weights to ${width} needs ${gb(remaining)} GB, but only ${gb(free)} GB is free.`, {
        file: dir,
        hint: 'Free some disk space, or choose --weights with a width the checkpoint already has.',
      });
    }
    let written = total - remaining;
    for (const name of names) {
      if (done.has(name)) continue;
      const file = expected.get(name)!;
      const path = join(dir, file);
      writeSafetensorsStreamed(path, convertTensor(tensors.get(name)!, width), { format: 'sprout-weights', width, tensor: name });
      const entry: ManifestFile = { file, tensor: name, bytes: statSync(path).size, sha256: sha256OfFile(path) };
      appendFileSync(progressFile, `${JSON.stringify(entry)}\n`);
      done.set(name, entry);
      written += outputBytes(tensors.get(name)!, width);
      options.onProgress?.({ phase: 'convert', done: written, total });
    }
    const result: Manifest = { format: CACHE_FORMAT, width, source, files: names.map((n) => done.get(n)!) };
    writeAtomically(manifestFile, `${JSON.stringify(result, null, 1)}\n`);
    rmSync(progressFile, { force: true });
    return result;
  }
}

function gb(bytes: number): string {
  return (bytes / 1e9).toFixed(2);
}

function stored(source: TensorEntry, file: Map<string, TensorEntry>): StoredWeight {
  const dims = source.shape;
  const get = (name: string) => {
    const entry = file.get(name);
    if (!entry)
      throw new SproutError('bad-weights-cache', `The converted weights of "${source.name}" lack "${name}".`, {
        hint: 'Delete the cache folder; Sprout converts again.',
      });
    return ref(entry);
  };
  if (file.has('half'))
    return { kind: 'float', dtype: file.get('half')!.dtype === 'BF16' ? 'bfloat16' : 'float16', dims, data: get('half') };
  if (file.has('f32')) return { kind: 'float', dtype: 'float32', dims, data: get('f32') };
  if (file.has('qt')) return { kind: 'int8t', dims, qT: get('qt'), scale: get('rowscale') };
  const scale = file.get('scale');
  const block = scale && scale.shape.length === 2 && scale.shape[1] > 0 ? dims[1] / scale.shape[1] : 0;
  if (!Number.isInteger(block) || block < 1)
    throw new SproutError('bad-weights-cache', `The int8 scales of "${source.name}" do not match its shape.`, {
      hint: 'Delete the cache folder; Sprout converts again.',
    });
  return { kind: 'int8', dims, q: get('q'), scale: get('scale'), block };
}
