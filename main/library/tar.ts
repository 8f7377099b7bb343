/**
 * A minimal POSIX ustar reader and writer, enough for Sprout's library archives (regular files and folders), so
 * that any tar tool opens them. Data is copied in chunks; a whole archive never sits in memory.
 */
import { closeSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { SproutError } from '../errors.js';

const BLOCK = 512;
const CHUNK = 1 << 20;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 155);
    if (cut <= 0 || Buffer.byteLength(name.slice(cut + 1)) > 100) throw new Error(`Archive entry name too long: ${name}`);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(0o644, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(Math.floor(mtime / 1000), 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}

/**
 * Copies `length` bytes of `fd`, from `position` on, to the end of `out`, through `buffer`; a file that ends first
 * (it shrank since its size was read) calls `ended`, which throws.
 */
function copyBytes(fd: number, position: number, length: number, out: number, buffer: Buffer, ended: () => never): void {
  for (let done = 0; done < length;) {
    const n = readSync(fd, buffer, 0, Math.min(CHUNK, length - done), position + done);
    if (n === 0) ended();
    writeAll(out, buffer.subarray(0, n));
    done += n;
  }
}

/** Appends one file to the archive: its header, its bytes, and padding to a whole block. */
function appendEntry(out: number, entry: { name: string; source: string }, buffer: Buffer): void {
  const src = openSync(entry.source, 'r');
  try {
    const st = fstatSync(src);
    writeAll(out, header(entry.name, st.size, st.mtimeMs));
    copyBytes(src, 0, st.size, out, buffer, () => {
      throw new Error(`${entry.source} shrank while being archived`);
    });
    writeAll(out, Buffer.alloc((BLOCK - (st.size % BLOCK)) % BLOCK));
  } finally {
    closeSync(src);
  }
}

/** Writes `entries` (archive name → file on disk) as a tar file at `file`. */
export function writeTar(file: string, entries: { name: string; source: string }[]): void {
  const out = openSync(file, 'w');
  try {
    const buffer = Buffer.alloc(CHUNK);
    for (const entry of entries) appendEntry(out, entry, buffer);
    writeAll(out, Buffer.alloc(2 * BLOCK));
  } finally {
    closeSync(out);
  }
}

function field(h: Buffer, offset: number, length: number): string {
  const raw = h.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end === -1 ? length : end).toString('utf8');
}

function parseOctal(h: Buffer, offset: number, length: number, file: string): number {
  const text = field(h, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw bad(file, `a header field holds "${text}", not an octal number`);
  return text === '' ? 0 : parseInt(text, 8);
}

/** A file without a tar header where the archive starts: another kind of file, chosen by mistake. */
function notTar(file: string): SproutError {
  return new SproutError('bad-archive', 'This file is not a Sprout library archive: it is not even a tar file.', {
    file,
    hint: 'Choose the .tar file that `sprout library export-all` (the app: Library → Whole library → Back up) wrote.',
    uiHint: 'Choose the .tar file a backup wrote (Library → Whole library → Back up).',
  });
}

function bad(file: string, what: string): SproutError {
  return new SproutError('bad-archive', `The archive is damaged or not a Sprout library archive: ${what}.`, { file });
}

/**
 * The path an archive entry would be written to under `targetDir`, or an error when it would land anywhere else
 * (absolute names, `..` segments, drive letters, backslashes).
 */
export function safeEntryPath(targetDir: string, name: string, archive: string): string {
  const parts = name.split('/').filter((p) => p !== '' && p !== '.');
  if (
    name.includes('\\') ||
    name.includes('\0') ||
    isAbsolute(name) ||
    /^[A-Za-z]:/.test(name) ||
    parts.includes('..') ||
    parts.length === 0
  ) {
    throw bad(archive, `entry "${name}" would be written outside the folder it is unpacked into`);
  }
  const root = resolve(targetDir);
  const target = resolve(root, ...parts);
  const rel = relative(root, target);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel) || rel.split(sep).includes('..')) {
    throw bad(archive, `entry "${name}" would be written outside the folder it is unpacked into`);
  }
  return target;
}

/**
 * Unpacks the regular files and folders of a tar file into `targetDir`; links and devices are refused, as is
 * any entry that would be written outside `targetDir`. Returns the archive names of the files written.
 */
export function extractTar(file: string, targetDir: string): string[] {
  const fd = openSync(file, 'r');
  const written: string[] = [];
  try {
    const size = fstatSync(fd).size;
    const h = Buffer.alloc(BLOCK);
    const buffer = Buffer.alloc(CHUNK);
    let position = 0;
    for (;;) {
      if (position + BLOCK > size) throw position === 0 ? notTar(file) : bad(file, 'it ends in the middle of an entry');
      readSync(fd, h, 0, BLOCK, position);
      position += BLOCK;
      if (h.every((b) => b === 0)) break;
      if (position === BLOCK && h.toString('latin1', 257, 262) !== 'ustar') throw notTar(file);
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i];
      if (parseOctal(h, 148, 8, file) !== sum) throw bad(file, `the header at byte ${position - BLOCK} has a wrong checksum`);
      const type = String.fromCharCode(h[156] || 0x30);
      const prefix = field(h, 345, 155);
      const name = prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100);
      const length = parseOctal(h, 124, 12, file);
      if (position + length > size) throw bad(file, `entry "${name}" runs past the end of the file`);
      if (type === 'g' || type === 'x') {
        // pax headers (a GNU or bsdtar repack) carry only attributes Sprout does not need.
      } else if (type === '5') {
        mkdirSync(safeEntryPath(targetDir, name, file), { recursive: true });
      } else if (type === '0' || type === '7') {
        const target = safeEntryPath(targetDir, name, file);
        mkdirSync(dirname(target), { recursive: true });
        let out: number;
        try {
          out = openSync(target, 'wx');
        } catch (error) {
          throw bad(
            file,
            `entry "${name}" cannot be written (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; a repeated name?)`,
          );
        }
        try {
          copyBytes(fd, position, length, out, buffer, () => {
            throw bad(file, `entry "${name}" runs past the end of the file`);
          });
        } finally {
          closeSync(out);
        }
        written.push(name);
      } else {
        throw bad(file, `entry "${name}" is a link or special file (type ${type}), which a library archive never holds`);
      }
      position += Math.ceil(length / BLOCK) * BLOCK;
    }
  } finally {
    closeSync(fd);
  }
  return written;
}
