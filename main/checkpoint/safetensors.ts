import { closeSync, fstatSync, openSync } from 'node:fs';
import { resolve } from 'node:path';
import { writeFileAtomically } from './atomic-file.js';
import { readExactly } from './read-exactly.js';
import { SproutError } from '../errors.js';
import { refuseSpecialFile } from '../file-kind.js';

/** Element types of the safetensors format and their sizes in bytes. */
export const DTYPE_BYTES = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  F8_E4M3: 1,
  F8_E5M2: 1,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
} as const;
export type Dtype = keyof typeof DTYPE_BYTES;

export interface TensorEntry {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Absolute path of the file holding the data. */
  file: string;
  /** Absolute byte offset of the data in `file`. */
  offset: number;
  /** Bytes of data: product(shape) × dtype size. */
  length: number;
}

/** A real header is a few hundred KB even for t5-11b; the cap stops a corrupt length from allocating gigabytes. */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

function bad(file: string, message: string): never {
  throw new SproutError('bad-safetensors', message, {
    file,
    hint: 'The file is not a valid safetensors file (damaged or incomplete download?); download or export it again.',
  });
}

function readAt(fd: number, buffer: Uint8Array, position: number, file: string): void {
  readExactly(fd, buffer, position, () => bad(file, `The file ends early (wanted ${buffer.length} bytes at offset ${position}).`));
}

function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.hasOwn(DTYPE_BYTES, value);
}

function parseEntry(name: string, raw: unknown, file: string, dataStart: number, dataSize: number): TensorEntry {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    bad(file, `Tensor "${name}" has no {dtype, shape, data_offsets} object.`);
  const { dtype, shape, data_offsets: offsets } = raw as Record<string, unknown>;
  if (!isDtype(dtype)) bad(file, `Tensor "${name}" has unknown dtype ${JSON.stringify(dtype)}.`);
  if (!Array.isArray(shape) || shape.length > 16 || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    bad(file, `Tensor "${name}" has an invalid shape ${JSON.stringify(shape)}.`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    bad(file, `Tensor "${name}" has invalid data_offsets ${JSON.stringify(offsets)}.`);
  }
  const [begin, end] = offsets as [number, number];
  if (begin > end || end > dataSize) {
    bad(file, `Tensor "${name}" has data_offsets [${begin}, ${end}] outside the ${dataSize} bytes of data.`);
  }
  let elements = 1;
  for (const d of shape as number[]) {
    elements *= d;
    if (elements > dataSize) bad(file, `Tensor "${name}" with shape ${JSON.stringify(shape)} is larger than the file.`);
  }
  const length = elements * DTYPE_BYTES[dtype];
  if (end - begin !== length) {
    bad(file, `Tensor "${name}" (${dtype} ${JSON.stringify(shape)}) needs ${length} bytes but data_offsets span ${end - begin}.`);
  }
  return { name, dtype, shape: [...(shape as number[])], file, offset: dataStart + begin, length };
}

/** Reads and validates a safetensors header; no tensor data is read. */
export function readSafetensorsHeader(file: string): Map<string, TensorEntry> {
  return readSafetensorsFile(file).tensors;
}

/** The header's tensors and its __metadata__ strings. */
export function readSafetensorsFile(file: string): { tensors: Map<string, TensorEntry>; metadata: Record<string, string> } {
  const path = resolve(file);
  refuseSpecialFile(path, 'file-unreadable', 'weights file');
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    throw new SproutError('file-unreadable', `Cannot open the weights file: ${(error as Error).message}.`, { file: path });
  }
  try {
    const size = fstatSync(fd).size;
    if (size < 8) bad(path, `The file has ${size} bytes; a safetensors file starts with an 8-byte header length.`);
    const lengthBytes = new Uint8Array(8);
    readAt(fd, lengthBytes, 0, path);
    const headerLength = new DataView(lengthBytes.buffer).getBigUint64(0, true);
    if (headerLength > BigInt(Math.min(MAX_HEADER_BYTES, size - 8))) {
      bad(
        path,
        `The header claims ${headerLength} bytes, more than the file (${size} bytes) or the ${MAX_HEADER_BYTES}-byte limit allows.`,
      );
    }
    const n = Number(headerLength);
    const headerBytes = new Uint8Array(n);
    readAt(fd, headerBytes, 8, path);
    let header: unknown;
    try {
      header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(headerBytes));
    } catch (error) {
      bad(path, `The header is not valid UTF-8 JSON: ${(error as Error).message}.`);
    }
    if (typeof header !== 'object' || header === null || Array.isArray(header)) bad(path, 'The header is not a JSON object.');
    const dataStart = 8 + n;
    const dataSize = size - dataStart;
    const tensors = new Map<string, TensorEntry>();
    let metadata: Record<string, string> = {};
    for (const [name, raw] of Object.entries(header)) {
      if (name === '__metadata__') {
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
          bad(path, '__metadata__ must map strings to strings.');
        }
        metadata = { ...(raw as Record<string, string>) };
        continue;
      }
      tensors.set(name, parseEntry(name, raw, path, dataStart, dataSize));
    }
    const ranges = [...tensors.values()].filter((t) => t.length > 0).sort((a, b) => a.offset - b.offset);
    for (let i = 1; i < ranges.length; i++) {
      const prev = ranges[i - 1];
      if (ranges[i].offset < prev.offset + prev.length) bad(path, `Tensors "${prev.name}" and "${ranges[i].name}" overlap.`);
    }
    return { tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

/** Reads one F32 tensor's bytes (only that range of the file). */
export function readTensorF32(entry: TensorEntry): Float32Array {
  if (entry.dtype !== 'F32') {
    throw new SproutError('bad-dtype', `Tensor "${entry.name}" is ${entry.dtype}, expected F32.`, { file: entry.file });
  }
  return new Float32Array(readTensorBytes(entry).buffer);
}

/** A tensor's raw little-endian bytes, in a fresh (hence aligned) ArrayBuffer. */
export function readTensorBytes(entry: TensorEntry): Uint8Array {
  const bytes = new Uint8Array(new ArrayBuffer(entry.length));
  const fd = openSync(entry.file, 'r');
  try {
    readAt(fd, bytes, entry.offset, entry.file);
  } finally {
    closeSync(fd);
  }
  return bytes;
}

/** A tensor to be written whose bytes are produced in pieces, so that large models never sit in one buffer. */
export interface StreamedTensor {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Must call `sink` with exactly product(shape) × dtype-size bytes in total, little-endian. */
  write(sink: (chunk: Uint8Array) => void): void;
}

/**
 * Writes a safetensors file the way Hugging Face does (keys sorted, data in key order, header padded with
 * spaces to a multiple of 8), into a temporary file renamed into place only when complete.
 */
export function writeSafetensorsStreamed(file: string, tensors: StreamedTensor[], metadata?: Record<string, string>): void {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  let offset = 0;
  for (const t of sorted) {
    if (Object.hasOwn(header, t.name)) throw new Error(`Duplicate tensor name ${t.name}`);
    const length = t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype];
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + length] };
    offset += length;
  }
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const padded = Math.ceil(json.length / 8) * 8;
  json = Buffer.concat([json, Buffer.alloc(padded - json.length, 0x20)]);
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(BigInt(json.length));

  writeFileAtomically(file, (out) => {
    out.put(prefix);
    out.put(json);
    for (const t of sorted) {
      const start = out.position;
      t.write((chunk) => out.put(chunk));
      const expected = (header[t.name] as { data_offsets: number[] }).data_offsets;
      if (out.position - start !== expected[1] - expected[0]) {
        throw new Error(`Tensor ${t.name} wrote ${out.position - start} bytes, expected ${expected[1] - expected[0]}`);
      }
    }
  });
}

/** Writes float32 tensors held in memory (tests, PEFT export, small conversions). */
export function writeSafetensors(
  file: string,
  tensors: { name: string; dtype: 'F32'; shape: number[]; data: Float32Array }[],
  metadata?: Record<string, string>,
): void {
  writeSafetensorsStreamed(
    file,
    tensors.map((t) => {
      const expected = t.shape.reduce((a, b) => a * b, 1);
      if (t.data.length !== expected) throw new Error(`Tensor ${t.name} has ${t.data.length} values, shape needs ${expected}`);
      return {
        name: t.name,
        dtype: t.dtype,
        shape: t.shape,
        write: (sink) => sink(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
      };
    }),
    metadata,
  );
}
