import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { readSafetensorsHeader, readTensorF32, type TensorEntry } from '../../main/checkpoint/safetensors.js';
import { fixture } from './helpers.js';

/**
 * Writes what torch.save(state_dict) writes (PyTorch ≥ 1.6 zip format): archive/data.pkl as a protocol-2
 * pickle built from the same opcodes PyTorch's pickler emits, storages as archive/data/<key> stored
 * uncompressed and 64-byte aligned, plus archive/version and archive/byteorder.
 */
export interface SavedTensor {
  name: string;
  storage: string;
  storageType?: string;
  offset?: number;
  shape: number[];
  stride?: number[];
}

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

function contiguousStride(shape: number[]): number[] {
  const stride = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) stride[i] = stride[i + 1] * shape[i + 1];
  return stride;
}

export function statePickle(tensors: SavedTensor[], storageSizes: Map<string, number>): Buffer {
  const p = new Pickler().op(0x80, 2);
  p.global('collections', 'OrderedDict').op(0x29, 0x52).put().op(0x28);
  for (const t of tensors) {
    p.str(t.name);
    p.global('torch._utils', '_rebuild_tensor_v2').op(0x28);
    p.op(0x28).str('storage').global('torch', t.storageType ?? 'FloatStorage').str(t.storage).str('cpu').int(storageSizes.get(t.storage)!).op(0x74).put().op(0x51);
    p.int(t.offset ?? 0).tuple(t.shape).tuple(t.stride ?? contiguousStride(t.shape)).op(0x89);
    p.global('collections', 'OrderedDict').op(0x29, 0x52).put();
    p.op(0x74).put().op(0x52).put();
  }
  p.op(0x75);
  // state_dict._metadata, set through BUILD as pickle does for an OrderedDict with attributes.
  p.op(0x7d).put().op(0x28).str('_metadata').global('collections', 'OrderedDict').op(0x29, 0x52).put();
  p.op(0x28).str('').op(0x7d).put().op(0x28).str('version').int(1).op(0x75).op(0x75).op(0x75).op(0x62);
  return p.op(0x2e).bytes();
}

export function zipStored(entries: [string, Buffer][]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const nameBytes = Buffer.from(name);
    const base = offset + 30 + nameBytes.length + 4;
    const pad = (64 - (base % 64)) % 64;
    const extra = Buffer.alloc(4 + pad);
    extra.writeUInt16LE(0x4246, 0);
    extra.writeUInt16LE(pad, 2);
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(data.length, 20);
    header.writeUInt32LE(data.length, 24);
    header.writeUInt16LE(nameBytes.length, 28);
    header.writeUInt32LE(offset, 42);
    central.push(header, nameBytes);
    parts.push(local, nameBytes, extra, data);
    offset += 30 + nameBytes.length + extra.length + data.length;
  }
  const directory = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...parts, directory, end]);
}

export function torchSave(tensors: SavedTensor[], storages: Map<string, Buffer>, elementBytes = 4): Buffer {
  const sizes = new Map([...storages].map(([k, v]) => [k, v.length / elementBytes]));
  return zipStored([
    ['archive/data.pkl', statePickle(tensors, sizes)],
    ['archive/byteorder', Buffer.from('little')],
    ...[...storages].map(([key, data]): [string, Buffer] => [`archive/data/${key}`, data]),
    ['archive/version', Buffer.from('3\n')],
  ]);
}

/**
 * The v1_0 fixture as HF's save_pretrained(safe_serialization=False) would store it, plus the layouts torch
 * produces in the wild: tied embeddings sharing shared.weight's storage, one weight stored transposed (a
 * non-contiguous view), and the layer norms packed into one storage at different offsets.
 */
export function fixtureAsPytorchBin(): Buffer {
  const source = readSafetensorsHeader(join(fixture('tiny-t5-v1_0'), 'model.safetensors'));
  const bytes = (t: TensorEntry): Buffer => Buffer.from(readTensorF32(t).buffer);
  const tensors: SavedTensor[] = [];
  const storages = new Map<string, Buffer>();
  const norms = [...source.values()].filter((t) => t.name.endsWith('layer_norm.weight'));
  storages.set('norms', Buffer.concat(norms.map(bytes)));
  norms.forEach((t, i) => tensors.push({ name: t.name, storage: 'norms', offset: i * 64, shape: t.shape }));
  let key = 0;
  for (const t of source.values()) {
    if (t.name.endsWith('layer_norm.weight')) continue;
    const storage = String(key++);
    if (t.name === 'encoder.block.1.layer.0.SelfAttention.o.weight') {
      const [rows, cols] = t.shape;
      const w = readTensorF32(t);
      const transposed = new Float32Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) transposed[c * rows + r] = w[r * cols + c];
      storages.set(storage, Buffer.from(transposed.buffer));
      tensors.push({ name: t.name, storage, shape: t.shape, stride: [1, rows] });
      continue;
    }
    storages.set(storage, bytes(t));
    tensors.push({ name: t.name, storage, shape: t.shape });
    if (t.name === 'shared.weight') {
      for (const tied of ['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', 'lm_head.weight']) tensors.push({ name: tied, storage, shape: t.shape });
    }
  }
  return torchSave(tensors, storages);
}
