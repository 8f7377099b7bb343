/**
 * The entries of a ZIP archive, read from its central directory, and a stream of one entry's bytes. Just what a
 * workbook needs (an .xlsx is a ZIP of XML parts): stored and deflated entries, no encryption, no ZIP64 (Excel's
 * own limit of 1,048,576 rows keeps a sheet far below 4 GiB).
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
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

const END_OF_DIRECTORY = 0x06054b50;
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
    if (end < 0 || tail.readUInt32LE(end) !== END_OF_DIRECTORY) throw bad('its table of contents is missing: the file may be cut short');
    const count = tail.readUInt16LE(end + 10);
    const directorySize = tail.readUInt32LE(end + 12);
    const directoryOffset = tail.readUInt32LE(end + 16);
    if (count === 0xffff || directoryOffset === 0xffffffff) throw bad('it is a ZIP64 archive, larger than a workbook Sprout reads');
    if (directoryOffset + directorySize > size) throw bad('its table of contents points past its end: the file may be cut short');
    const directory = Buffer.alloc(directorySize);
    await handle.read(directory, 0, directorySize, directoryOffset);
    return parseDirectory(directory, count, bad);
  } finally {
    await handle.close();
  }
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
    entries.set(name, {
      name,
      method: directory.readUInt16LE(at + 10),
      crc: directory.readUInt32LE(at + 16),
      compressedSize: directory.readUInt32LE(at + 20),
      headerOffset: directory.readUInt32LE(at + 42),
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
