import { SproutError } from '../errors.js';
import type { Dtype } from './safetensors.js';

/**
 * A pickle reader that understands only what torch.save writes for a state dict: standard containers, tensor
 * rebuilds (torch._utils._rebuild_tensor_v2), storage types in persistent ids, and collections.OrderedDict.
 * Nothing is ever called or imported: every other global, and every opcode that builds arbitrary objects,
 * is refused, so a malicious pickle cannot run code.
 */

export interface StorageRef {
  kind: 'storage';
  dtype: Dtype;
  key: string;
  numel: number;
}

export interface TensorRef {
  kind: 'tensor';
  storage: StorageRef;
  offset: number;
  shape: number[];
  stride: number[];
}

const STORAGE_DTYPES: Record<string, Dtype> = {
  FloatStorage: 'F32',
  HalfStorage: 'F16',
  BFloat16Storage: 'BF16',
  DoubleStorage: 'F64',
  LongStorage: 'I64',
  IntStorage: 'I32',
  ShortStorage: 'I16',
  CharStorage: 'I8',
  ByteStorage: 'U8',
  BoolStorage: 'BOOL',
};

class Global {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
}
class Tuple {
  constructor(readonly items: unknown[]) {}
}

/** A dict with str keys as unpickled; OrderedDict and dict are both Maps. */
export type PickleDict = Map<unknown, unknown>;

function refuse(file: string, message: string): never {
  throw new SproutError('unsafe-pickle', message, {
    file,
    hint:
      'Sprout only reads plain PyTorch state dicts (tensors in dicts).' +
      ' Convert the checkpoint to safetensors with trusted tools, or use a model from a source you trust.',
  });
}

function allowGlobal(module: string, name: string, file: string): Global {
  const ok =
    (module === 'torch._utils' && name === '_rebuild_tensor_v2') ||
    (module === 'collections' && name === 'OrderedDict') ||
    (module === 'torch' && Object.hasOwn(STORAGE_DTYPES, name));
  if (!ok) refuse(file, `The pickle wants to use ${module}.${name}, which a state dict never needs; refusing to load it.`);
  return new Global(module, name);
}

function intList(value: unknown, what: string, file: string): number[] {
  const items = value instanceof Tuple ? value.items : undefined;
  if (!items || !items.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0))
    refuse(file, `A tensor has an invalid ${what}.`);
  return items as number[];
}

function rebuildTensor(args: unknown, file: string): TensorRef {
  const items = args instanceof Tuple ? args.items : [];
  const [storage, offset, size, stride] = items;
  if (
    items.length < 6 ||
    items.length > 7 ||
    (storage as StorageRef)?.kind !== 'storage' ||
    typeof offset !== 'number' ||
    !Number.isSafeInteger(offset) ||
    offset < 0
  ) {
    refuse(file, '_rebuild_tensor_v2 was called with unexpected arguments.');
  }
  const shape = intList(size, 'shape', file);
  const strides = intList(stride, 'stride', file);
  if (shape.length !== strides.length) refuse(file, 'A tensor has a shape and strides of different lengths.');
  return { kind: 'tensor', storage: storage as StorageRef, offset, shape, stride: strides };
}

function persistentLoad(pid: unknown, file: string): StorageRef {
  const items = pid instanceof Tuple ? pid.items : [];
  const [tag, type, key, , numel] = items;
  if (
    items.length !== 5 ||
    tag !== 'storage' ||
    !(type instanceof Global) ||
    type.module !== 'torch' ||
    typeof key !== 'string' ||
    !/^\w+$/.test(key) ||
    typeof numel !== 'number' ||
    !Number.isSafeInteger(numel) ||
    numel < 0
  ) {
    refuse(file, 'The pickle has a persistent id that is not a PyTorch storage.');
  }
  return { kind: 'storage', dtype: STORAGE_DTYPES[type.name], key, numel };
}

/** The pickle's bytes and the read position; every read refuses a pickle that ends early. */
class PickleBytes {
  at = 0;
  private readonly view: DataView;

  constructor(
    readonly data: Uint8Array,
    readonly file: string,
  ) {
    this.view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  need(n: number): void {
    if (this.at + n > this.data.length) refuse(this.file, 'The pickle ends early.');
  }

  skip(n: number): void {
    this.need(n);
    this.at += n;
  }

  u8(): number {
    this.need(1);
    return this.data[this.at++];
  }

  u16(): number {
    this.need(2);
    const n = this.view.getUint16(this.at, true);
    this.at += 2;
    return n;
  }

  i32(): number {
    this.need(4);
    const n = this.view.getInt32(this.at, true);
    this.at += 4;
    return n;
  }

  u32(): number {
    this.need(4);
    const n = this.view.getUint32(this.at, true);
    this.at += 4;
    return n;
  }

  /** BINFLOAT is the one big-endian field. */
  f64(): number {
    this.need(8);
    const n = this.view.getFloat64(this.at, false);
    this.at += 8;
    return n;
  }

  /** LONG1: a little-endian two's-complement integer of a length byte's size; tensor sizes must stay exact. */
  long1(): number {
    const n = this.u8();
    this.need(n);
    let value = 0n;
    for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(this.data[this.at + i]);
    if (n > 0 && this.data[this.at + n - 1] & 0x80) value -= 1n << BigInt(8 * n);
    this.at += n;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER))
      refuse(this.file, 'The pickle holds an integer too large for a tensor size.');
    return Number(value);
  }

  text(n: number, encoding: 'utf8' | 'latin1'): string {
    this.need(n);
    const s = Buffer.from(this.data.buffer, this.data.byteOffset + this.at, n).toString(encoding);
    this.at += n;
    return s;
  }

  /** BINSTRING's length is signed. */
  binString(): string {
    const n = this.i32();
    if (n < 0) refuse(this.file, 'The pickle has a negative string length.');
    return this.text(n, 'latin1');
  }

  /** A newline-ended field of GLOBAL. */
  line(): string {
    const end = this.data.indexOf(0x0a, this.at);
    if (end < 0) refuse(this.file, 'The pickle ends inside a GLOBAL.');
    const s = this.text(end - this.at, 'utf8');
    this.at += 1; // the newline
    return s;
  }
}

/** The unpickler's stack, marks and memo; every operation refuses what a state dict's pickle never does. */
class PickleMachine {
  readonly stack: unknown[] = [];
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, unknown>();

  constructor(readonly file: string) {}

  push(value: unknown): void {
    this.stack.push(value);
  }

  pop(): unknown {
    const { stack, marks } = this;
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1]))
      refuse(this.file, 'The pickle pops from an empty stack.');
    return stack.pop();
  }

  mark(): void {
    this.marks.push(this.stack.length);
  }

  popMark(): unknown[] {
    const start = this.marks.pop();
    if (start === undefined) refuse(this.file, 'The pickle closes a mark it never opened.');
    return this.stack.splice(start);
  }

  top(): unknown {
    if (this.stack.length === 0) refuse(this.file, 'The pickle reads an empty stack.');
    return this.stack[this.stack.length - 1];
  }

  memoPut(index: number): void {
    this.memo.set(index, this.top());
  }

  /** MEMOIZE's index: the next free one. */
  memoNext(): void {
    this.memoPut(this.memo.size);
  }

  memoGet(index: number): void {
    if (!this.memo.has(index)) refuse(this.file, `The pickle refers to memo entry ${index} that does not exist.`);
    this.stack.push(this.memo.get(index));
  }

  append(items: unknown[], op: 'APPEND' | 'APPENDS'): void {
    const list = this.top();
    if (!Array.isArray(list)) refuse(this.file, `${op} to a non-list.`);
    list.push(...items);
  }

  setItems(items: unknown[]): void {
    const target = this.top();
    if (!(target instanceof Map) || items.length % 2) refuse(this.file, 'The pickle sets items on something that is not a dict.');
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  }

  global(module: unknown, name: unknown): void {
    if (typeof module !== 'string' || typeof name !== 'string') refuse(this.file, 'STACK_GLOBAL without strings.');
    this.stack.push(allowGlobal(module, name, this.file));
  }

  /** REDUCE: the only calls are a tensor rebuild and an empty OrderedDict. */
  reduce(): void {
    const args = this.pop();
    const fn = this.pop();
    if (!(fn instanceof Global)) refuse(this.file, 'The pickle calls something that is not an allowed function.');
    if (fn.name === '_rebuild_tensor_v2') this.stack.push(rebuildTensor(args, this.file));
    else if (fn.name === 'OrderedDict' && args instanceof Tuple && args.items.length === 0) this.stack.push(new Map());
    else refuse(this.file, `The pickle calls ${fn.module}.${fn.name} in a way a state dict never does.`);
  }

  /** BUILD: only OrderedDict's attribute dict (torch keeps state_dict._metadata there), ignored. */
  build(): void {
    const state = this.pop();
    if (!(this.top() instanceof Map) || !(state instanceof Map || state === null))
      refuse(this.file, 'The pickle sets the state of an object a state dict never has.');
  }
}

const STOP = 0x2e;

/** What each allowed opcode does (STOP ends the loop in restrictedUnpickle); any other opcode is refused. */
const OPCODES = new Map<number, (m: PickleMachine, b: PickleBytes) => void>([
  [
    0x80,
    (m, b) => {
      if (b.u8() > 5) refuse(b.file, 'Unknown pickle protocol.');
    },
  ], // PROTO
  [0x95, (m, b) => b.skip(8)], // FRAME
  [0x28, (m) => m.mark()], // MARK
  [0x29, (m) => m.push(new Tuple([]))], // EMPTY_TUPLE
  [0x5d, (m) => m.push([])], // EMPTY_LIST
  [0x7d, (m) => m.push(new Map())], // EMPTY_DICT
  [0x4e, (m) => m.push(null)], // NONE
  [0x88, (m) => m.push(true)], // NEWTRUE
  [0x89, (m) => m.push(false)], // NEWFALSE
  [0x4b, (m, b) => m.push(b.u8())], // BININT1
  [0x4d, (m, b) => m.push(b.u16())], // BININT2
  [0x4a, (m, b) => m.push(b.i32())], // BININT
  [0x8a, (m, b) => m.push(b.long1())], // LONG1
  [0x47, (m, b) => m.push(b.f64())], // BINFLOAT
  [0x58, (m, b) => m.push(b.text(b.u32(), 'utf8'))], // BINUNICODE
  [0x8c, (m, b) => m.push(b.text(b.u8(), 'utf8'))], // SHORT_BINUNICODE
  [0x55, (m, b) => m.push(b.text(b.u8(), 'latin1'))], // SHORT_BINSTRING
  [0x54, (m, b) => m.push(b.binString())], // BINSTRING
  [
    0x63,
    (m, b) => {
      const module = b.line();
      m.global(module, b.line());
    },
  ], // GLOBAL
  [
    0x93,
    (m) => {
      const name = m.pop();
      m.global(m.pop(), name);
    },
  ], // STACK_GLOBAL
  [0x71, (m, b) => m.memoPut(b.u8())], // BINPUT
  [0x72, (m, b) => m.memoPut(b.u32())], // LONG_BINPUT
  [0x94, (m) => m.memoNext()], // MEMOIZE
  [0x68, (m, b) => m.memoGet(b.u8())], // BINGET
  [0x6a, (m, b) => m.memoGet(b.u32())], // LONG_BINGET
  [0x74, (m) => m.push(new Tuple(m.popMark()))], // TUPLE
  [0x85, (m) => m.push(new Tuple([m.pop()]))], // TUPLE1
  [
    0x86,
    (m) => {
      const b = m.pop();
      m.push(new Tuple([m.pop(), b]));
    },
  ], // TUPLE2
  [
    0x87,
    (m) => {
      const c = m.pop();
      const b = m.pop();
      m.push(new Tuple([m.pop(), b, c]));
    },
  ], // TUPLE3
  [0x61, (m) => m.append([m.pop()], 'APPEND')], // APPEND
  [0x65, (m) => m.append(m.popMark(), 'APPENDS')], // APPENDS
  [
    0x73,
    (m) => {
      const v = m.pop();
      m.setItems([m.pop(), v]);
    },
  ], // SETITEM
  [0x75, (m) => m.setItems(m.popMark())], // SETITEMS
  [0x30, (m) => m.pop()], // POP
  [0x52, (m) => m.reduce()], // REDUCE
  [0x62, (m) => m.build()], // BUILD
  [0x51, (m) => m.push(persistentLoad(m.pop(), m.file))], // BINPERSID
]);

/** Unpickles `data` under the restrictions above; returns the top-level object. */
export function restrictedUnpickle(data: Uint8Array, file: string): unknown {
  const bytes = new PickleBytes(data, file);
  const machine = new PickleMachine(file);
  for (;;) {
    const op = bytes.u8();
    if (op === STOP) {
      if (machine.stack.length !== 1) refuse(file, 'The pickle ends with a malformed stack.');
      return machine.stack[0];
    }
    const run = OPCODES.get(op);
    if (!run)
      refuse(
        file,
        `The pickle uses opcode 0x${op.toString(16).padStart(2, '0')} at byte ${bytes.at - 1}, which a PyTorch state dict never needs.`,
      );
    run(machine, bytes);
  }
}
