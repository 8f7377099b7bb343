import { crc32 } from 'node:zlib';
import { writeFileAtomically, type PositionalWriter } from './atomic-file.js';
import type { Dtype } from './safetensors.js';

/**
 * Writes what torch.save(state_dict) writes (PyTorch ≥ 1.6 zip format): archive/data.pkl, a protocol-2 pickle
 * built from the opcodes PyTorch's pickler emits; archive/byteorder; one archive/data/<key> member per storage,
 * stored uncompressed and 64-byte aligned; archive/version. Storages are streamed, so an 11 GB file never sits
 * in memory; zip64 records are written where offsets pass 4 GiB, as PyTorch does.
 */
export interface SavedTensor {
  name: string;
  /** Storage key; tensors sharing a storage (tied weights) name the same key. */
  storage: string;
  storageType?: string;
  /** Element offset into the storage. */
  offset?: number;
  shape: number[];
  stride?: number[];
}

export const STORAGE_TYPES: Partial<Record<Dtype, string>> = { F32: 'FloatStorage', F16: 'HalfStorage', BF16: 'BFloat16Storage' };

class Pickler {
  private parts: Buffer[] = [];
  private memo = 0;
  private globals = new Map<string, number>();

  op(...bytes: number[]): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }
  put(): this {
    const i = this.memo++;
    return i < 256 ? this.op(0x71, i) : this.op(0x72, ...u32(i));
  }
  get(i: number): this {
    return i < 256 ? this.op(0x68, i) : this.op(0x6a, ...u32(i));
  }
  int(x: number): this {
    if (x >= 0 && x < 256) return this.op(0x4b, x);
    if (x >= 0 && x < 65536) return this.op(0x4d, x & 0xff, x >> 8);
    if (x >= -(2 ** 31) && x < 2 ** 31) return this.op(0x4a, ...u32(x >>> 0));
    const bytes: number[] = [];
    let v = BigInt(x);
    while (v > 0n || (bytes.length > 0 && bytes[bytes.length - 1] & 0x80)) {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    }
    return this.op(0x8a, bytes.length, ...bytes);
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.op(0x58, ...u32(b.length));
    this.parts.push(b);
    return this.put();
  }
  global(module: string, name: string): this {
    const key = `${module}\n${name}\n`;
    const known = this.globals.get(key);
    if (known !== undefined) return this.get(known);
    this.op(0x63);
    this.parts.push(Buffer.from(key));
    this.globals.set(key, this.memo);
    return this.put();
  }
  tuple(items: number[]): this {
    if (items.length === 0) return this.op(0x29);
    if (items.length > 3) this.op(0x28);
    for (const x of items) this.int(x);
    return (items.length <= 3 ? this.op([0, 0x85, 0x86, 0x87][items.length]) : this.op(0x74)).put();
  }
  bytes(): Buffer {
    return Buffer.concat(this.parts);
  }
}

function u32(x: number): number[] {
  return [x & 0xff, (x >>> 8) & 0xff, (x >>> 16) & 0xff, (x >>> 24) & 0xff];
}

export function contiguousStride(shape: number[]): number[] {
  const stride = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) stride[i] = stride[i + 1] * shape[i + 1];
  return stride;
}

/** The data.pkl of a state dict (an OrderedDict of tensors with its _metadata), given each storage's element count. */
export function statePickle(tensors: SavedTensor[], storageSizes: Map<string, number>): Buffer {
  const p = new Pickler().op(0x80, 2);
  p.global('collections', 'OrderedDict').op(0x29, 0x52).put().op(0x28);
  for (const t of tensors) {
    p.str(t.name);
    p.global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    p.op(0x28)
      .str('storage')
      .global('torch', t.storageType ?? 'FloatStorage')
      .str(t.storage)
      .str('cpu')
      .int(storageSizes.get(t.storage)!)
      .op(0x74)
      .put()
      .op(0x51);
    p.int(t.offset ?? 0)
      .tuple(t.shape)
      .tuple(t.stride ?? contiguousStride(t.shape))
      .op(0x89);
    p.global('collections', 'OrderedDict').op(0x29, 0x52).put();
    p.op(0x74).put().op(0x52).put();
  }
  p.op(0x75);
  // state_dict._metadata, set through BUILD as pickle does for an OrderedDict with attributes.
  p.op(0x7d).put().op(0x28).str('_metadata').global('collections', 'OrderedDict').op(0x29, 0x52).put();
  p.op(0x28).str('').op(0x7d).put().op(0x28).str('version').int(1).op(0x75).op(0x75).op(0x75).op(0x62);
  return p.op(0x2e).bytes();
}

/** One member of a stored (uncompressed) zip archive, whose bytes are produced in pieces. */
export interface ZipMember {
  name: string;
  size: number;
  /** Must call `sink` with exactly `size` bytes in total. */
  write(sink: (chunk: Uint8Array) => void): void;
}

const MAX32 = 0xffffffff;

/**
 * Writes a stored zip archive with every member's data 64-byte aligned (padding in an extra field, as PyTorch's
 * writer does), into a temporary file renamed into place when complete. `zip64: 'always'` writes zip64 records
 * even where 32-bit fields would do (to exercise readers on small files).
 */
export function writeZipStored(file: string, members: ZipMember[], options: { zip64?: 'auto' | 'always' } = {}): void {
  const always = options.zip64 === 'always';
  writeFileAtomically(file, (out) => {
    const central = members.map((member) => writeMember(out, member, always));
    writeCentralDirectory(out, central, always);
  });
}

/** Writes one member's local header and data, then returns its central directory header. */
function writeMember(out: PositionalWriter, member: ZipMember, always: boolean): Buffer {
  const name = Buffer.from(member.name);
  const localOffset = out.position;
  const bigSize = always || member.size >= MAX32;
  out.put(localHeader(name, member.size, localOffset, bigSize));
  const crc = writeMemberData(out, member);
  // The CRC is known only once the data is written, so it is patched into the local header afterwards.
  const crcBytes = Buffer.alloc(4);
  crcBytes.writeUInt32LE(crc);
  out.putAt(crcBytes, localOffset + 14);
  return centralHeader(name, member.size, crc, localOffset, bigSize, always || localOffset >= MAX32);
}

/** A local file header whose extra fields pad the data that follows it to a 64-byte boundary. */
function localHeader(name: Buffer, size: number, localOffset: number, bigSize: boolean): Buffer {
  const sizeExtra = bigSize ? 20 : 0;
  const base = localOffset + 30 + name.length + sizeExtra + 4;
  const pad = (64 - (base % 64)) % 64;
  const local = Buffer.alloc(30 + name.length + sizeExtra + 4 + pad);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(bigSize ? 45 : 20, 4);
  local.writeUInt32LE(bigSize ? MAX32 : size, 18);
  local.writeUInt32LE(bigSize ? MAX32 : size, 22);
  local.writeUInt16LE(name.length, 26);
  local.writeUInt16LE(local.length - 30 - name.length, 28);
  name.copy(local, 30);
  let extra = 30 + name.length;
  if (bigSize) {
    local.writeUInt16LE(0x0001, extra);
    local.writeUInt16LE(16, extra + 2);
    local.writeBigUInt64LE(BigInt(size), extra + 4);
    local.writeBigUInt64LE(BigInt(size), extra + 12);
    extra += 20;
  }
  local.writeUInt16LE(0x4246, extra);
  local.writeUInt16LE(pad, extra + 2);
  return local;
}

/** Streams a member's bytes, checking it wrote the size it declared; returns their CRC-32. */
function writeMemberData(out: PositionalWriter, member: ZipMember): number {
  const start = out.position;
  let crc = 0;
  member.write((chunk) => {
    crc = crc32(chunk, crc);
    out.put(chunk);
  });
  if (out.position - start !== member.size)
    throw new Error(`Zip member ${member.name} wrote ${out.position - start} bytes, expected ${member.size}`);
  return crc >>> 0;
}

function centralHeader(name: Buffer, size: number, crc: number, localOffset: number, bigSize: boolean, bigOffset: boolean): Buffer {
  const zip64Fields = [...(bigSize ? [size, size] : []), ...(bigOffset ? [localOffset] : [])];
  const header = Buffer.alloc(46 + name.length + (zip64Fields.length ? 4 + 8 * zip64Fields.length : 0));
  header.writeUInt32LE(0x02014b50, 0);
  header.writeUInt16LE(bigSize || bigOffset ? 45 : 20, 4);
  header.writeUInt16LE(bigSize || bigOffset ? 45 : 20, 6);
  header.writeUInt32LE(crc, 16);
  header.writeUInt32LE(bigSize ? MAX32 : size, 20);
  header.writeUInt32LE(bigSize ? MAX32 : size, 24);
  header.writeUInt16LE(name.length, 28);
  header.writeUInt16LE(zip64Fields.length ? 4 + 8 * zip64Fields.length : 0, 30);
  header.writeUInt32LE(bigOffset ? MAX32 : localOffset, 42);
  name.copy(header, 46);
  if (zip64Fields.length) {
    let at = 46 + name.length;
    header.writeUInt16LE(0x0001, at);
    header.writeUInt16LE(8 * zip64Fields.length, at + 2);
    for (const value of zip64Fields) {
      header.writeBigUInt64LE(BigInt(value), at + 4);
      at += 8;
    }
  }
  return header;
}

/** Writes the central directory and its end records, zip64 ones included where a count or offset needs them. */
function writeCentralDirectory(out: PositionalWriter, central: Buffer[], always: boolean): void {
  const count = central.length;
  const directory = Buffer.concat(central);
  const directoryOffset = out.position;
  out.put(directory);
  const zip64End = always || count >= 0xffff || directoryOffset >= MAX32 || directory.length >= MAX32;
  if (zip64End) writeZip64End(out, count, directory.length, directoryOffset);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64End ? 0xffff : count, 8);
  end.writeUInt16LE(zip64End ? 0xffff : count, 10);
  end.writeUInt32LE(zip64End ? MAX32 : directory.length, 12);
  end.writeUInt32LE(zip64End ? MAX32 : directoryOffset, 16);
  out.put(end);
}

/** The zip64 end-of-directory record and the locator that points to it. */
function writeZip64End(out: PositionalWriter, count: number, directoryLength: number, directoryOffset: number): void {
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(count), 24);
  record.writeBigUInt64LE(BigInt(count), 32);
  record.writeBigUInt64LE(BigInt(directoryLength), 40);
  record.writeBigUInt64LE(BigInt(directoryOffset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(out.position), 8);
  locator.writeUInt32LE(1, 16);
  out.put(record);
  out.put(locator);
}

/** A storage of a state dict to be written: its element type and count, and its bytes in pieces. */
export interface SavedStorage {
  key: string;
  dtype: Dtype;
  numel: number;
  elementBytes: number;
  write(sink: (chunk: Uint8Array) => void): void;
}

/** Writes a torch.save file of `tensors`, whose storages' bytes come from `storages` (in key order of appearance). */
export function writeTorchSave(
  file: string,
  tensors: SavedTensor[],
  storages: SavedStorage[],
  options: { zip64?: 'auto' | 'always' } = {},
): void {
  const sizes = new Map(storages.map((s) => [s.key, s.numel]));
  const pickle = statePickle(tensors, sizes);
  const bytes =
    (b: Buffer): ZipMember['write'] =>
    (sink) =>
      sink(b);
  writeZipStored(
    file,
    [
      { name: 'archive/data.pkl', size: pickle.length, write: bytes(pickle) },
      { name: 'archive/byteorder', size: 6, write: bytes(Buffer.from('little')) },
      ...storages.map((s) => ({ name: `archive/data/${s.key}`, size: s.numel * s.elementBytes, write: s.write })),
      { name: 'archive/version', size: 2, write: bytes(Buffer.from('3\n')) },
    ],
    options,
  );
}
