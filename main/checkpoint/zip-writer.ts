/**
 * Writes a zip archive member by member, each deflated as its text streams in, so that a member far larger than
 * memory (a workbook's sheet of a million rows) never has to be held whole. A member's local header is written with
 * its sizes and checksum zeroed and patched once its data is in, rather than followed by a data descriptor, which
 * some readers handle poorly. Every member carries the same timestamp (1980-01-01, the format's first day), so the
 * same content gives the same bytes. Zip64 is not written: a member or archive past 4 GiB is refused.
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { once } from 'node:events';
import { crc32, createDeflateRaw } from 'node:zlib';

const LIMIT = 0xffffffff;
/** DOS date of 1980-01-01 (day 1, month 1, year 0 = 1980); time 00:00:00 is 0. */
const DOS_DATE = (1 << 5) | 1;
/** General purpose flag bit 11: names are UTF-8. */
const UTF8_NAMES = 1 << 11;

interface MemberFields {
  name: Buffer;
  crc: number;
  compressedSize: number;
  size: number;
}

interface WrittenEntry extends MemberFields {
  localOffset: number;
}

export class ZipWriter {
  readonly #fd: number;
  #offset = 0;
  readonly #entries: WrittenEntry[] = [];

  constructor(
    file: string,
    /** The error for an archive past 4 GiB, in the caller's words. */
    private readonly tooLarge: (what: string) => Error,
  ) {
    this.#fd = openSync(file, 'w');
  }

  /** Adds a member whose content is `chunks`, deflated. */
  async add(name: string, chunks: Iterable<string | Buffer> | AsyncIterable<string | Buffer>): Promise<void> {
    const nameBytes = Buffer.from(name, 'utf8');
    const localOffset = this.#offset;
    this.#write(localHeader({ name: nameBytes, crc: 0, compressedSize: 0, size: 0 }));
    const deflate = createDeflateRaw({ level: 6 });
    let compressedSize = 0;
    deflate.on('data', (out: Buffer) => {
      compressedSize += out.length;
      this.#write(out);
    });
    const ended = once(deflate, 'end');
    let crc = 0;
    let size = 0;
    for await (const chunk of chunks) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      crc = crc32(bytes, crc);
      size += bytes.length;
      if (!deflate.write(bytes)) await once(deflate, 'drain');
    }
    deflate.end();
    await ended;
    if (size > LIMIT || compressedSize > LIMIT || this.#offset > LIMIT) throw this.tooLarge(name);
    writeSync(this.#fd, localHeader({ name: nameBytes, crc, compressedSize, size }), 0, 30, localOffset);
    this.#entries.push({ name: nameBytes, crc, compressedSize, size, localOffset });
  }

  /** Writes the central directory and closes the file. */
  close(): void {
    const start = this.#offset;
    for (const e of this.#entries) this.#write(centralHeader(e));
    const length = this.#offset - start;
    if (this.#offset > LIMIT) throw this.tooLarge('the archive');
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0);
    end.writeUInt16LE(this.#entries.length, 8);
    end.writeUInt16LE(this.#entries.length, 10);
    end.writeUInt32LE(length, 12);
    end.writeUInt32LE(start, 16);
    this.#write(end);
    closeSync(this.#fd);
  }

  /** Closes the file without finishing it (the caller removes it). */
  abandon(): void {
    closeSync(this.#fd);
  }

  #write(bytes: Buffer): void {
    let done = 0;
    while (done < bytes.length) done += writeSync(this.#fd, bytes, done, bytes.length - done, this.#offset + done);
    this.#offset += bytes.length;
  }
}

/** Local file header (APPNOTE 4.3.7): deflated, UTF-8 name, no extra field. */
function localHeader(m: MemberFields): Buffer {
  const h = Buffer.alloc(30 + m.name.length);
  h.writeUInt32LE(0x04034b50, 0);
  sharedFields(h, 4, m);
  m.name.copy(h, 30);
  return h;
}

/** Central directory header (APPNOTE 4.3.12) of a member written by `add`. */
function centralHeader(e: WrittenEntry): Buffer {
  const h = Buffer.alloc(46 + e.name.length);
  h.writeUInt32LE(0x02014b50, 0);
  h.writeUInt16LE(20, 4); // version made by: 2.0
  sharedFields(h, 6, e);
  h.writeUInt32LE(e.localOffset, 42);
  e.name.copy(h, 46);
  return h;
}

/**
 * The fields both headers carry, in the one order APPNOTE gives them (version needed to extract through the name's
 * length, 4.4.3–4.4.10), from `at`: version 2.0, UTF-8 name, deflated, the fixed timestamp, checksum and sizes.
 */
function sharedFields(h: Buffer, at: number, m: MemberFields): void {
  h.writeUInt16LE(20, at);
  h.writeUInt16LE(UTF8_NAMES, at + 2);
  h.writeUInt16LE(8, at + 4);
  h.writeUInt16LE(0, at + 6);
  h.writeUInt16LE(DOS_DATE, at + 8);
  h.writeUInt32LE(m.crc >>> 0, at + 10);
  h.writeUInt32LE(m.compressedSize, at + 14);
  h.writeUInt32LE(m.size, at + 18);
  h.writeUInt16LE(m.name.length, at + 22);
}
