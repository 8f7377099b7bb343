/**
 * The entries of a ZIP archive, read from its central directory, and a stream of one entry's bytes. Just what a
 * workbook needs (an .xlsx is a ZIP of XML parts): stored and deflated entries, no encryption; ZIP64 records where a
 * writer uses them (the ZIP format lets any writer, whatever the size; one that streams parts of unknown size may).
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { crc32, createInflateRaw } from 'node:zlib';
import { SproutError } from '../errors.js';

export interface ZipEntry {
  name: string;
  /** 0: stored, 8: deflated. */
  method: number;
  compressedSize: number;
  /** The CRC-32 of the uncompressed bytes. */
  crc: number;
  /** Where the entry's local header starts. */
  headerOffset: number;
}

const ZIP64_END = 0x06064b50;
const ZIP64_LOCATOR = 0x07064b50;
/** A 16- or 32-bit field holding this says: the value is in the ZIP64 record. */
const IN_ZIP64 = { u16: 0xffff, u32: 0xffffffff };
const DIRECTORY_ENTRY = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
/** The end record (22 bytes) and the longest comment it may carry. */
const END_SEARCH = 22 + 0xffff;

/** Every entry of the archive by name; `bad` words the error for a damaged archive. */
export async function zipEntries(file: string, bad: (why: string) => SproutError): Promise<Map<string, ZipEntry>> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const tailLength = Math.min(size, END_SEARCH);
    const tail = Buffer.alloc(tailLength);
    await handle.read(tail, 0, tailLength, size - tailLength);
    const end = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
    if (end < 0 || end + 22 > tail.length) throw bad('its table of contents is missing: the file may be cut short');
    let place = { count: tail.readUInt16LE(end + 10), size: tail.readUInt32LE(end + 12), offset: tail.readUInt32LE(end + 16) };
    if (place.count === IN_ZIP64.u16 || place.size === IN_ZIP64.u32 || place.offset === IN_ZIP64.u32) {
      place = await zip64Directory(handle, size - tailLength + end, bad);
    }
    const { count, size: directorySize, offset: directoryOffset } = place;
    if (directoryOffset + directorySize > size) throw bad('its table of contents points past its end: the file may be cut short');
    const directory = Buffer.alloc(directorySize);
    await handle.read(directory, 0, directorySize, directoryOffset);
    return parseDirectory(directory, count, bad);
  } finally {
    await handle.close();
  }
}

/** Where the central directory is, from the ZIP64 end record that the locator just before the end record points to. */
async function zip64Directory(handle: FileHandle, endAt: number, bad: (why: string) => SproutError) {
  const damaged = () => bad('its ZIP64 table of contents is damaged');
  const locator = Buffer.alloc(20);
  await handle.read(locator, 0, 20, Math.max(0, endAt - 20));
  if (endAt < 20 || locator.readUInt32LE(0) !== ZIP64_LOCATOR) throw damaged();
  const record = Buffer.alloc(56);
  const { bytesRead } = await handle.read(record, 0, 56, safeNumber(locator.readBigUInt64LE(8), damaged));
  if (bytesRead < 56 || record.readUInt32LE(0) !== ZIP64_END) throw damaged();
  return {
    count: safeNumber(record.readBigUInt64LE(32), damaged),
    size: safeNumber(record.readBigUInt64LE(40), damaged),
    offset: safeNumber(record.readBigUInt64LE(48), damaged),
  };
}

function safeNumber(value: bigint, damaged: () => SproutError): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw damaged();
  return Number(value);
}

/**
 * An entry's sizes and offset, from its ZIP64 extra field (id 1) where the directory's 32-bit fields say so: the
 * field holds, in this order, only the values marked.
 */
function zip64Fields(
  directory: Buffer,
  at: number,
  fields: { compressedSize: number; headerOffset: number; uncompressed: number },
  bad: () => SproutError,
) {
  const extraStart = at + 46 + directory.readUInt16LE(at + 28);
  const extraEnd = extraStart + directory.readUInt16LE(at + 30);
  for (let p = extraStart; p + 4 <= extraEnd; p += 4 + directory.readUInt16LE(p + 2)) {
    if (directory.readUInt16LE(p) !== 1) continue;
    let q = p + 4;
    const next = () => {
      if (q + 8 > Math.min(extraEnd, p + 4 + directory.readUInt16LE(p + 2))) throw bad();
      const value = safeNumber(directory.readBigUInt64LE(q), bad);
      q += 8;
      return value;
    };
    const uncompressed = fields.uncompressed === IN_ZIP64.u32 ? next() : fields.uncompressed;
    const compressedSize = fields.compressedSize === IN_ZIP64.u32 ? next() : fields.compressedSize;
    const headerOffset = fields.headerOffset === IN_ZIP64.u32 ? next() : fields.headerOffset;
    return { compressedSize, headerOffset, uncompressed };
  }
  throw bad();
}

function parseDirectory(directory: Buffer, count: number, bad: (why: string) => SproutError): Map<string, ZipEntry> {
  const entries = new Map<string, ZipEntry>();
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + 46 > directory.length || directory.readUInt32LE(at) !== DIRECTORY_ENTRY) throw bad('its table of contents is damaged');
    const flags = directory.readUInt16LE(at + 8);
    const nameLength = directory.readUInt16LE(at + 28);
    const skip = nameLength + directory.readUInt16LE(at + 30) + directory.readUInt16LE(at + 32);
    const name = directory.toString('utf8', at + 46, at + 46 + nameLength);
    if (flags & 1) throw bad(`its part ${name} is encrypted`);
    if (at + 46 + skip > directory.length) throw bad('its table of contents is damaged');
    let fields = {
      compressedSize: directory.readUInt32LE(at + 20),
      headerOffset: directory.readUInt32LE(at + 42),
      uncompressed: directory.readUInt32LE(at + 24),
    };
    if (Object.values(fields).includes(IN_ZIP64.u32))
      fields = zip64Fields(directory, at, fields, () => bad(`the ZIP64 sizes of its part ${name} are damaged`));
    entries.set(name, {
      name,
      method: directory.readUInt16LE(at + 10),
      crc: directory.readUInt32LE(at + 16),
      compressedSize: fields.compressedSize,
      headerOffset: fields.headerOffset,
    });
    at += 46 + skip;
  }
  return entries;
}

/**
 * The uncompressed bytes of one entry, in chunks, checked against its CRC-32 at the end (a damaged stored entry
 * decompresses without complaint); `onCompressed` sees how many compressed bytes each chunk read took, for progress.
 */
export async function* entryBytes(
  file: string,
  entry: ZipEntry,
  bad: (why: string) => SproutError,
  onCompressed?: (bytes: number) => void,
): AsyncGenerator<Buffer> {
  if (entry.method !== 0 && entry.method !== 8) throw bad(`its part ${entry.name} is compressed with method ${entry.method}, not deflate`);
  const start = await dataOffset(file, entry, bad);
  if (entry.compressedSize === 0) return;
  const raw = createReadStream(file, { start, end: start + entry.compressedSize - 1, highWaterMark: 1 << 20 });
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
      throw bad(`its part ${entry.name} does not decompress (${(error as Error).message})`);
    throw error;
  } finally {
    raw.destroy();
    stream.destroy();
  }
  if (crc !== entry.crc) throw bad(`its part ${entry.name} is damaged (its checksum does not match)`);
}

/** Where an entry's bytes start: after its local header, whose name and extra field lengths may differ from the directory's. */
async function dataOffset(file: string, entry: ZipEntry, bad: (why: string) => SproutError): Promise<number> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(30);
    const { bytesRead } = await handle.read(header, 0, 30, entry.headerOffset);
    if (bytesRead < 30 || header.readUInt32LE(0) !== LOCAL_HEADER)
      throw bad(`its part ${entry.name} is missing: the file may be cut short`);
    return entry.headerOffset + 30 + header.readUInt16LE(26) + header.readUInt16LE(28);
  } finally {
    await handle.close();
  }
}
