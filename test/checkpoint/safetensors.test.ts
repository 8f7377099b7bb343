import fc from 'fast-check';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  DTYPE_BYTES,
  MAX_HEADER_BYTES,
  readSafetensorsFile,
  readSafetensorsHeader,
  readTensorF32,
  writeSafetensors,
  type TensorEntry,
} from '../../main/checkpoint/safetensors.js';
import { SproutError } from '../../main/errors.js';
import { fixture, tempDir } from './helpers.js';

const dir = tempDir();
let counter = 0;
function fileWith(bytes: Uint8Array): string {
  const file = join(dir, `f${counter++ % 16}.safetensors`);
  writeFileSync(file, bytes);
  return file;
}

function build(header: unknown, dataBytes: number, lengthOverride?: bigint): Uint8Array {
  const json = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const prefix = Buffer.alloc(8);
  prefix.writeBigUInt64LE(lengthOverride ?? BigInt(json.length));
  return Buffer.concat([prefix, json, Buffer.alloc(dataBytes, 7)]);
}

/** The invariants every accepted header must satisfy. */
function checkAccepted(file: string, tensors: Map<string, TensorEntry>): void {
  const size = statSync(file).size;
  const sorted = [...tensors.values()].sort((a, b) => a.offset - b.offset);
  let end = 0;
  for (const t of sorted) {
    expect(t.offset).toBeGreaterThanOrEqual(8);
    expect(t.offset + t.length).toBeLessThanOrEqual(size);
    expect(t.length).toBe(t.shape.reduce((a, b) => a * b, 1) * DTYPE_BYTES[t.dtype]);
    if (t.length > 0) {
      expect(t.offset).toBeGreaterThanOrEqual(end);
      end = t.offset + t.length;
    }
  }
}

function readOrSproutError(file: string): void {
  let tensors: Map<string, TensorEntry>;
  try {
    tensors = readSafetensorsHeader(file);
  } catch (error) {
    expect(error).toBeInstanceOf(SproutError);
    expect((error as SproutError).code).toBe('bad-safetensors');
    return;
  }
  checkAccepted(file, tensors);
}

describe('safetensors', () => {
  it('reads the fixture headers (HF layout) and writes the same layout back byte for byte', () => {
    const src = join(fixture('tiny-t5-v1_0'), 'model.safetensors');
    const { tensors, metadata } = readSafetensorsFile(src);
    expect(tensors.size).toBe(47);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.get('shared.weight')).toMatchObject({ dtype: 'F32', shape: [32128, 64], length: 32128 * 64 * 4 });
    const copy = join(tempDir(), 'model.safetensors');
    writeSafetensors(
      copy,
      [...tensors.values()].map((t) => ({ name: t.name, dtype: 'F32', shape: t.shape, data: readTensorF32(t) })),
      metadata,
    );
    expect(readFileSync(copy).equals(readFileSync(src))).toBe(true);
  });

  it('pads the header to a multiple of 8 and handles zero-sized tensors', () => {
    const file = join(tempDir(), 'x.safetensors');
    writeSafetensors(file, [
      { name: 'b', dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
      { name: 'a', dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
      { name: 'c', dtype: 'F32', shape: [], data: Float32Array.from([9]) },
    ]);
    const bytes = readFileSync(file);
    const n = Number(bytes.readBigUInt64LE(0));
    expect(n % 8).toBe(0);
    expect(Object.keys(JSON.parse(bytes.subarray(8, 8 + n).toString()))).toEqual(['a', 'b', 'c']);
    const tensors = readSafetensorsHeader(file);
    expect([...readTensorF32(tensors.get('b')!)]).toEqual([1, 2, 3, 4, 5, 6]);
    expect([...readTensorF32(tensors.get('c')!)]).toEqual([9]);
    expect(readTensorF32(tensors.get('a')!).length).toBe(0);
  });

  it('rejects specific broken files with clear messages', () => {
    const ok = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(3), /starts with an 8-byte header length/],
      [build(ok, 8, 2n ** 64n - 1n), /header claims 18446744073709551615 bytes/],
      [build(ok, 8, BigInt(MAX_HEADER_BYTES + 1)), /more than the file/],
      [build('{"x": [', 8), /not valid UTF-8 JSON/],
      [build('[1,2]', 0), /not a JSON object/],
      [build({ x: { dtype: 'F33', shape: [2], data_offsets: [0, 8] } }, 8), /unknown dtype "F33"/],
      [build({ x: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }, 8), /needs 12 bytes but data_offsets span 8/],
      [build({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } }, 4), /outside the 4 bytes of data/],
      [build({ x: { dtype: 'F32', shape: [2], data_offsets: [8, 0] } }, 8), /invalid|outside/],
      [
        build({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, y: { dtype: 'I32', shape: [2], data_offsets: [4, 12] } }, 12),
        /overlap/,
      ],
      [build({ x: { dtype: 'F32', shape: [-2], data_offsets: [0, 8] } }, 8), /invalid shape/],
      [build({ x: { dtype: 'F32', shape: [2 ** 40, 2 ** 40], data_offsets: [0, 8] } }, 8), /larger than the file/],
      [build({ __metadata__: { format: 1 } }, 0), /__metadata__ must map strings to strings/],
    ];
    for (const [bytes, message] of cases) {
      const file = fileWith(bytes);
      let error: unknown;
      try {
        readSafetensorsHeader(file);
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toBeInstanceOf(SproutError);
      expect((error as Error).message).toMatch(message);
    }
  });
});

const dtypes = Object.keys(DTYPE_BYTES);
const entry = fc.record({
  dtype: fc.oneof(fc.constantFrom(...dtypes), fc.string({ maxLength: 4 }), fc.integer()),
  shape: fc.oneof(
    fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }),
    fc.array(fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 53)), { maxLength: 3 }),
  ),
  data_offsets: fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 200 })),
    fc.array(fc.oneof(fc.integer(), fc.double(), fc.constant(2 ** 64), fc.string({ maxLength: 2 })), { maxLength: 3 }),
  ),
});

describe('readSafetensorsHeader fuzzed (seeded): every file is accepted with sound entries or refused with a SproutError', () => {
  it('random headers with lying offsets, overlaps, wrong dtypes and shapes', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6 }), fc.oneof(entry, fc.jsonValue()), { maxKeys: 5 }),
        fc.integer({ min: 0, max: 256 }),
        (header, dataBytes) => {
          readOrSproutError(fileWith(build(header, dataBytes)));
        },
      ),
      { seed: 42, numRuns: 2000 },
    );
  });

  it('valid files with a corrupted header length or random bytes flipped in the header', () => {
    const valid = build(
      {
        __metadata__: { format: 'pt' },
        a: { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] },
        b: { dtype: 'BF16', shape: [4], data_offsets: [16, 24] },
      },
      24,
    );
    fc.assert(
      fc.property(
        fc.option(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { nil: undefined }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        (length, flips, truncate) => {
          const bytes = Uint8Array.from(valid);
          if (length !== undefined) new DataView(bytes.buffer).setBigUint64(0, length, true);
          for (const [at, value] of flips) bytes[8 + (at % (bytes.length - 8))] = value;
          readOrSproutError(fileWith(truncate === undefined ? bytes : bytes.subarray(0, truncate % bytes.length)));
        },
      ),
      { seed: 4242, numRuns: 2000 },
    );
  });

  it('arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => readOrSproutError(fileWith(bytes))),
      { seed: 99, numRuns: 1000 },
    );
  });
});
