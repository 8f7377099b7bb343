import { closeSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { crc32 } from 'node:zlib';
import { SproutError } from '../errors.js';
import { restrictedUnpickle, type TensorRef } from './pickle.js';
import { readExactly } from './read-exactly.js';
import { DTYPE_BYTES, writeSafetensorsStreamed, type StreamedTensor } from './safetensors.js';
import { checkCrc, readZipDirectory, readZipEntry, type ZipEntry } from './zip.js';
import { refuseSpecialFile } from '../file-kind.js';

const MAX_PICKLE_BYTES = 64 << 20;
const CHUNK = 4 << 20;

/** A damaged archive, worded for the checkpoint it is. */
const zipFailure = (file: string) => (message: string) =>
  new SproutError('bad-zip', message, { file, hint: 'The file is damaged or not a PyTorch checkpoint; download it again.' });

function bad(file: string, message: string): never {
  throw new SproutError('bad-pytorch-checkpoint', message, {
    file,
    hint: 'Download the model again, or use its model.safetensors if the repository has one.',
  });
}

/** Reads the state dict of a torch.save zip archive (PyTorch ≥ 1.6): tensor name → where its data lies. */
export function readPytorchStateDict(file: string): { tensors: Map<string, TensorRef>; storages: Map<string, ZipEntry> } {
  const head = Buffer.alloc(4);
  refuseSpecialFile(file, 'bad-checkpoint', 'weights file');
  const fd = openSync(file, 'r');
  try {
    readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (head.readUInt32LE(0) !== 0x04034b50) {
    bad(file, 'This pytorch_model.bin uses the legacy (pre-1.6) PyTorch format, which Sprout does not read.');
  }
  const fail = zipFailure(file);
  const entries = readZipDirectory(file, fail);
  const pickles = [...entries.keys()].filter((name) => /^[^/]+\/data\.pkl$/.test(name));
  if (pickles.length !== 1) bad(file, 'The archive has no single <name>/data.pkl: it is not a torch.save file.');
  const prefix = pickles[0].slice(0, -'data.pkl'.length);
  const byteorder = entries.get(`${prefix}byteorder`);
  if (byteorder && readZipEntry(file, byteorder, 16, fail).toString() !== 'little') bad(file, 'The checkpoint was saved big-endian.');
  const root = restrictedUnpickle(readZipEntry(file, entries.get(pickles[0])!, MAX_PICKLE_BYTES, fail), file);
  if (!(root instanceof Map)) bad(file, 'The checkpoint does not hold a state dict (a dict of tensors).');
  const tensors = new Map<string, TensorRef>();
  const storages = new Map<string, ZipEntry>();
  for (const [name, value] of root) {
    if (typeof name !== 'string' || (value as TensorRef)?.kind !== 'tensor')
      bad(file, `State dict entry ${JSON.stringify(name)} is not a tensor.`);
    const tensor = value as TensorRef;
    const entry = entries.get(`${prefix}data/${tensor.storage.key}`);
    const elementBytes = DTYPE_BYTES[tensor.storage.dtype];
    if (!entry || entry.size < tensor.storage.numel * elementBytes) bad(file, `The storage of tensor "${name}" is missing or too short.`);
    const numel = tensor.shape.reduce((a, b) => a * b, 1);
    // The converted tensor takes numel elements: a view over more elements than its storage holds (stride 0, or
    // strides that overlap) would let a small file set the allocation size. No saved checkpoint needs one.
    if (numel > tensor.storage.numel) {
      bad(
        file,
        `Tensor "${name}" has shape [${tensor.shape.join(', ')}], ${numel} values, but its storage holds only ${tensor.storage.numel}.`,
      );
    }
    const last = numel === 0 ? 0 : tensor.offset + tensor.shape.reduce((sum, d, i) => sum + (d - 1) * tensor.stride[i], 0) + 1;
    if (last > tensor.storage.numel) bad(file, `Tensor "${name}" reaches past the end of its storage.`);
    tensors.set(name, tensor);
    storages.set(tensor.storage.key, entry);
  }
  return { tensors, storages };
}

function isContiguous(t: TensorRef): boolean {
  let expected = 1;
  for (let i = t.shape.length - 1; i >= 0; i--) {
    if (t.shape[i] !== 1 && t.stride[i] !== expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

/**
 * Streams `total` bytes from `start` to `sink` in chunks and returns their CRC-32, so that a stored member is checked
 * on the way through rather than read twice.
 */
function streamStored(file: string, start: number, total: number, sink: (chunk: Uint8Array) => void): number {
  const fd = openSync(file, 'r');
  let crc = 0;
  try {
    for (let done = 0; done < total; done += CHUNK) {
      const chunk = Buffer.alloc(Math.min(CHUNK, total - done));
      readExactly(fd, chunk, start + done, () => bad(file, 'The file ends inside a storage.'));
      crc = crc32(chunk, crc);
      sink(chunk);
    }
  } finally {
    closeSync(fd);
  }
  return crc;
}

/** `checked`: the stored members whose CRC-32 has been compared, so a storage shared by many views is read once for it. */
function streamTensor(file: string, t: TensorRef, entry: ZipEntry, sink: (chunk: Uint8Array) => void, checked: Set<ZipEntry>): void {
  const el = DTYPE_BYTES[t.storage.dtype];
  const numel = t.shape.reduce((a, b) => a * b, 1);
  if (numel === 0) return;
  if (entry.method === 0 && isContiguous(t)) {
    const total = numel * el;
    const whole = t.offset === 0 && total === entry.size;
    if (!whole && !checked.has(entry))
      checkCrc(
        entry,
        streamStored(file, entry.dataOffset, entry.size, () => {}),
        zipFailure(file),
      );
    checked.add(entry);
    const crc = streamStored(file, entry.dataOffset + t.offset * el, total, sink);
    if (whole) checkCrc(entry, crc, zipFailure(file));
    return;
  }
  // Strided (e.g. a transposed view) or compressed: gather element by element from the whole storage.
  const storage = readZipEntry(file, entry, entry.size, zipFailure(file));
  const out = Buffer.alloc(numel * el);
  const index = new Array<number>(t.shape.length).fill(0);
  for (let i = 0; i < numel; i++) {
    let source = t.offset;
    for (let d = 0; d < index.length; d++) source += index[d] * t.stride[d];
    storage.copy(out, i * el, source * el, source * el + el);
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < t.shape[d]) break;
      index[d] = 0;
    }
  }
  sink(out);
}

export type PytorchStateDict = ReturnType<typeof readPytorchStateDict>;

/**
 * Converts a pytorch_model.bin state dict to a safetensors file with the same names, dtypes and values,
 * streaming contiguous tensors so that large checkpoints never sit in memory. `keep` drops names (e.g. tied
 * duplicates of shared.weight). Returns the names written.
 */
export function convertPytorchBin(binFile: string, outFile: string, keep: (name: string) => boolean = () => true): string[] {
  return writeStateDict(binFile, readPytorchStateDict(binFile), outFile, keep);
}

/** The safetensors file of a state dict already read (and checked) by readPytorchStateDict. */
export function writeStateDict(
  binFile: string,
  { tensors, storages }: PytorchStateDict,
  outFile: string,
  keep: (name: string) => boolean = () => true,
): string[] {
  const checked = new Set<ZipEntry>();
  const streamed: StreamedTensor[] = [...tensors]
    .filter(([name]) => keep(name))
    .map(([name, t]) => ({
      name,
      dtype: t.storage.dtype,
      shape: t.shape,
      write: (sink) => streamTensor(binFile, t, storages.get(t.storage.key)!, sink, checked),
    }));
  writeSafetensorsStreamed(outFile, streamed, { format: 'pt', sprout_converted_from: basename(binFile) });
  return streamed.map((t) => t.name);
}
