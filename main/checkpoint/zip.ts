/**
 * A zip archive's directory and members. A PyTorch checkpoint (torch.save) and an Excel workbook are both zip
 * archives: each caller words the errors for its file (`ZipFailure`), since "damaged zip member" tells a person less
 * than "this workbook is damaged".
 */
import { createReadStream, closeSync, fstatSync, openSync } from 'node:fs';
import { crc32, createInflateRaw, inflateRawSync } from 'node:zlib';
import { SproutError } from '../errors.js';
import { readExactly } from './read-exactly.js';
import { refuseSpecialFile } from '../file-kind.js';

/** One member of a zip archive, located but not read. */
export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflated. PyTorch stores everything uncompressed. */
  method: number;
  compressedSize: number;
  size: number;
  /** Absolute offset of the member's (possibly compressed) bytes in the archive. */
  dataOffset: number;
  /** CRC-32 of the uncompressed bytes. */
  crc: number;
}

/** The error for a damaged archive, given what is wrong (a sentence). */
export type ZipFailure = (message: string) => SproutError;

const MAX_ENTRIES = 1 << 20;
const MAX_DIRECTORY_BYTES = 256 << 20;
const MAX_DEFLATE_RATIO = 1032;

function readAt(fd: number, position: number, length: number, fail: ZipFailure): Buffer {
  const buffer = Buffer.alloc(length);
  readExactly(fd, buffer, position, () => {
    throw fail(`The file ends early (wanted ${length} bytes at offset ${position}).`);
  });
  return buffer;
}

function u64(buffer: Buffer, at: number, fail: ZipFailure): number {
  const value = buffer.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw fail('A zip64 size or offset is out of range.');
  return Number(value);
}

/** Reads the central directory (zip64 included, as PyTorch writes for archives over 4 GB and any writer may). */
export function readZipDirectory(file: string, fail: ZipFailure): Map<string, ZipEntry> {
  refuseSpecialFile(file, 'file-unreadable');
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const { count, directorySize, directoryOffset } = locateDirectory(fd, size, fail);
    if (count > MAX_ENTRIES || directorySize > MAX_DIRECTORY_BYTES || directoryOffset + directorySize > size) {
      throw fail('The zip directory is larger than the file or implausibly large.');
    }
    const directory = readAt(fd, directoryOffset, directorySize, fail);
    const entries = new Map<string, ZipEntry>();
    let at = 0;
    for (let i = 0; i < count; i++) {
      const { entry, next } = readCentralEntry(directory, at, i, fail);
      at = next;
      entries.set(entry.name, locateMemberData(fd, size, entry, fail));
    }
    return entries;
  } finally {
    closeSync(fd);
  }
}

/** Where the central directory is and how many entries it holds. */
interface DirectoryLocation {
  count: number;
  directorySize: number;
  directoryOffset: number;
}

/** The sizes and offset of a member that may be 0xFFFFFFFF in the central directory, standing for a zip64 value. */
interface Zip64Fields {
  size: number;
  compressedSize: number;
  localOffset: number;
}

/** A central directory entry, with zip64 values applied. */
interface CentralEntry extends Zip64Fields {
  name: string;
  method: number;
  crc: number;
}

/** Finds the end-of-directory record in the file's tail, and the zip64 record it defers to where a field overflowed. */
function locateDirectory(fd: number, size: number, fail: ZipFailure): DirectoryLocation {
  const tailLength = Math.min(size, 65_557);
  const tail = readAt(fd, size - tailLength, tailLength, fail);
  const eocd = findEndOfDirectory(tail);
  if (eocd < 0) throw fail('No zip end-of-directory record: the file is not a zip archive, or it is cut short.');
  const count = tail.readUInt16LE(eocd + 10);
  const directorySize = tail.readUInt32LE(eocd + 12);
  const directoryOffset = tail.readUInt32LE(eocd + 16);
  const locatorAt = size - tailLength + eocd - 20;
  if ((count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff) && locatorAt >= 0) {
    return readZip64Location(fd, locatorAt, size, fail);
  }
  return { count, directorySize, directoryOffset };
}

/** The offset of the last end-of-directory signature in `tail`, or -1. */
function findEndOfDirectory(tail: Buffer): number {
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === 0x06054b50) return i;
  }
  return -1;
}

function readZip64Location(fd: number, locatorAt: number, size: number, fail: ZipFailure): DirectoryLocation {
  const locator = readAt(fd, locatorAt, 20, fail);
  if (locator.readUInt32LE(0) !== 0x07064b50) throw fail('The zip64 locator is missing.');
  const recordAt = u64(locator, 8, fail);
  if (recordAt + 56 > size) throw fail('The zip64 directory record lies outside the file.');
  const record = readAt(fd, recordAt, 56, fail);
  if (record.readUInt32LE(0) !== 0x06064b50) throw fail('The zip64 directory record is damaged.');
  const count = u64(record, 32, fail);
  const directorySize = u64(record, 40, fail);
  const directoryOffset = u64(record, 48, fail);
  return { count, directorySize, directoryOffset };
}

/** Reads entry `index` of the central directory at `at`; `next` is where the entry after it starts. */
function readCentralEntry(directory: Buffer, at: number, index: number, fail: ZipFailure): { entry: CentralEntry; next: number } {
  if (at + 46 > directory.length || directory.readUInt32LE(at) !== 0x02014b50) throw fail(`Zip directory entry ${index} is damaged.`);
  const flags = directory.readUInt16LE(at + 8);
  const method = directory.readUInt16LE(at + 10);
  const crc = directory.readUInt32LE(at + 16);
  const compressedSize = directory.readUInt32LE(at + 20);
  const size = directory.readUInt32LE(at + 24);
  const nameLength = directory.readUInt16LE(at + 28);
  const extraLength = directory.readUInt16LE(at + 30);
  const commentLength = directory.readUInt16LE(at + 32);
  const localOffset = directory.readUInt32LE(at + 42);
  if (at + 46 + nameLength + extraLength > directory.length) throw fail(`Zip directory entry ${index} is damaged.`);
  const name = directory.toString('utf8', at + 46, at + 46 + nameLength);
  if (flags & 1) throw fail(`Zip member "${name}" is encrypted.`);
  const extra = at + 46 + nameLength;
  const extraEnd = extra + extraLength;
  const fields = applyZip64Extra(directory, extra, extraEnd, name, { size, compressedSize, localOffset }, fail);
  return { entry: { name, method, crc, ...fields }, next: extraEnd + commentLength };
}

/** Walks the extra fields between `start` and `end`, taking 64-bit values from each zip64 field found. */
function applyZip64Extra(directory: Buffer, start: number, end: number, name: string, fields: Zip64Fields, fail: ZipFailure): Zip64Fields {
  let result = fields;
  let extra = start;
  while (extra + 4 <= end) {
    const id = directory.readUInt16LE(extra);
    const length = directory.readUInt16LE(extra + 2);
    if (id === 0x0001) result = readZip64Field(directory, extra + 4, length, name, result, fail);
    extra += 4 + length;
  }
  return result;
}

/** zip64 extra field: the 64-bit values of whichever fields are 0xFFFFFFFF, in this order. */
function readZip64Field(
  directory: Buffer,
  start: number,
  length: number,
  name: string,
  fields: Zip64Fields,
  fail: ZipFailure,
): Zip64Fields {
  let p = start;
  const next = (): number => {
    if (p + 8 > start + length) throw fail(`The zip64 field of "${name}" is too short.`);
    const value = u64(directory, p, fail);
    p += 8;
    return value;
  };
  const size = fields.size === 0xffffffff ? next() : fields.size;
  const compressedSize = fields.compressedSize === 0xffffffff ? next() : fields.compressedSize;
  const localOffset = fields.localOffset === 0xffffffff ? next() : fields.localOffset;
  return { size, compressedSize, localOffset };
}

/** Reads a member's local header to find where its data starts, and checks the entry's sizes and method. */
function locateMemberData(fd: number, fileSize: number, entry: CentralEntry, fail: ZipFailure): ZipEntry {
  const { name, method, compressedSize, size, localOffset, crc } = entry;
  if (localOffset + 30 > fileSize) throw fail(`Zip member "${name}" lies outside the file.`);
  const local = readAt(fd, localOffset, 30, fail);
  if (local.readUInt32LE(0) !== 0x04034b50) throw fail(`The local header of zip member "${name}" is damaged.`);
  const dataOffset = localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (dataOffset + compressedSize > fileSize) throw fail(`Zip member "${name}" extends past the end of the file.`);
  if (method !== 0 && method !== 8)
    throw fail(`Zip member "${name}" uses compression method ${method}; only stored and deflated are supported.`);
  if (method === 0 && compressedSize !== size) throw fail(`Zip member "${name}" is stored but its sizes differ.`);
  // Deflate expands at most 1032-fold: a larger claimed size is a lie that would size an allocation.
  if (method === 8 && size > compressedSize * MAX_DEFLATE_RATIO + 64)
    throw fail(`Zip member "${name}" claims ${size} bytes, more than its ${compressedSize} compressed bytes can hold.`);
  return { name, method, compressedSize, size, dataOffset, crc };
}

/**
 * Reads a whole member into memory, checked against its CRC-32 (PyTorch stores weights uncompressed, so a flipped
 * bit in one would otherwise become a wrong weight without a word); `limit` guards against members too large to hold.
 */
export function readZipEntry(file: string, entry: ZipEntry, limit: number, fail: ZipFailure): Buffer {
  if (entry.size > limit) throw fail(`Zip member "${entry.name}" has ${entry.size} bytes, more than the ${limit} expected.`);
  const fd = openSync(file, 'r');
  let data: Buffer;
  try {
    data = uncompressed(entry, readAt(fd, entry.dataOffset, entry.compressedSize, fail), limit, fail);
  } finally {
    closeSync(fd);
  }
  checkCrc(entry, crc32(data), fail);
  return data;
}

function uncompressed(entry: ZipEntry, raw: Buffer, limit: number, fail: ZipFailure): Buffer {
  if (entry.method === 0) return raw;
  try {
    const inflated = inflateRawSync(raw, { maxOutputLength: Math.max(1, limit) });
    if (inflated.length !== entry.size) throw fail(`Zip member "${entry.name}" inflates to the wrong size.`);
    return inflated;
  } catch (error) {
    if (error instanceof SproutError) throw error;
    throw fail(`Zip member "${entry.name}" cannot be decompressed: ${(error as Error).message}.`);
  }
}

/** Refuses a member whose bytes' CRC-32, `crc`, is not the one its directory entry recorded. */
export function checkCrc(entry: ZipEntry, crc: number, fail: ZipFailure): void {
  if (crc !== entry.crc) throw fail(`Zip member "${entry.name}" is damaged: its checksum does not match.`);
}

/**
 * A member's uncompressed bytes in chunks, checked against its CRC-32 at the end (a damaged stored member reads
 * without complaint otherwise), for members too large to hold at once; `onCompressed` sees each compressed chunk's
 * size, for progress.
 */
export async function* zipEntryChunks(
  file: string,
  entry: ZipEntry,
  fail: ZipFailure,
  onCompressed?: (bytes: number) => void,
): AsyncGenerator<Buffer> {
  if (entry.compressedSize === 0) {
    if (entry.size !== 0) throw fail(`Zip member "${entry.name}" is empty but claims ${entry.size} bytes.`);
    return;
  }
  const raw = createReadStream(file, { start: entry.dataOffset, end: entry.dataOffset + entry.compressedSize - 1, highWaterMark: 1 << 20 });
  if (onCompressed) raw.on('data', (chunk) => onCompressed(chunk.length));
  const stream = entry.method === 8 ? raw.pipe(createInflateRaw()) : raw;
  raw.on('error', (error) => stream.destroy(error));
  let crc = 0;
  try {
    for await (const chunk of stream) {
      crc = crc32(chunk as Buffer, crc);
      yield chunk as Buffer;
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code?.startsWith('Z_'))
      throw fail(`Zip member "${entry.name}" cannot be decompressed: ${(error as Error).message}.`);
    throw error;
  } finally {
    raw.destroy();
    stream.destroy();
  }
  checkCrc(entry, crc, fail);
}

/**
 * What is wrong with a member's bytes (it does not inflate, or its CRC-32 does not match), as `fail` words it; undefined
 * where they read whole. Asked when a member's content makes no sense, to tell damage from a writer's mistake.
 */
export async function zipEntryDamage(file: string, entry: ZipEntry, fail: ZipFailure): Promise<SproutError | undefined> {
  try {
    for await (const _ of zipEntryChunks(file, entry, fail));
    return undefined;
  } catch (error) {
    // zipEntryChunks words every fault of the bytes through `fail`; anything else (an I/O error) is not an answer.
    if (error instanceof SproutError) return error;
    throw error;
  }
}
