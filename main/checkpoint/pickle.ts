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
  FloatStorage: 'F32', HalfStorage: 'F16', BFloat16Storage: 'BF16', DoubleStorage: 'F64', LongStorage: 'I64',
  IntStorage: 'I32', ShortStorage: 'I16', CharStorage: 'I8', ByteStorage: 'U8', BoolStorage: 'BOOL',
};

class Global {
  constructor(readonly module: string, readonly name: string) {}
}
class Tuple {
  constructor(readonly items: unknown[]) {}
}

/** A dict with str keys as unpickled; OrderedDict and dict are both Maps. */
export type PickleDict = Map<unknown, unknown>;

function refuse(file: string, message: string): never {
  throw new SproutError('unsafe-pickle', message, {
    file,
    hint: 'Sprout only reads plain PyTorch state dicts (tensors in dicts). Convert the checkpoint to safetensors with trusted tools, or use a model from a source you trust.',
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
  if (!items || !items.every((v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) refuse(file, `A tensor has an invalid ${what}.`);
  return items as number[];
}

function rebuildTensor(args: unknown, file: string): TensorRef {
  const items = args instanceof Tuple ? args.items : [];
  const [storage, offset, size, stride] = items;
  if (items.length < 6 || items.length > 7 || (storage as StorageRef)?.kind !== 'storage' || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
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
  if (items.length !== 5 || tag !== 'storage' || !(type instanceof Global) || type.module !== 'torch' || typeof key !== 'string' || !/^\w+$/.test(key) || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
    refuse(file, 'The pickle has a persistent id that is not a PyTorch storage.');
  }
  return { kind: 'storage', dtype: STORAGE_DTYPES[type.name], key, numel };
}

/** Unpickles `data` under the restrictions above; returns the top-level object. */
export function restrictedUnpickle(data: Uint8Array, file: string): unknown {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let at = 0;
  const need = (n: number): void => {
    if (at + n > data.length) refuse(file, 'The pickle ends early.');
  };
  const pop = (): unknown => {
    if (stack.length === 0 || (marks.length && stack.length <= marks[marks.length - 1])) refuse(file, 'The pickle pops from an empty stack.');
    return stack.pop();
  };
  const popMark = (): unknown[] => {
    const start = marks.pop();
    if (start === undefined) refuse(file, 'The pickle closes a mark it never opened.');
    return stack.splice(start);
  };
  const top = (): unknown => {
    if (stack.length === 0) refuse(file, 'The pickle reads an empty stack.');
    return stack[stack.length - 1];
  };
  const text = (n: number, encoding: 'utf8' | 'latin1'): string => {
    need(n);
    const s = Buffer.from(data.buffer, data.byteOffset + at, n).toString(encoding);
    at += n;
    return s;
  };
  const line = (): string => {
    const end = data.indexOf(0x0a, at);
    if (end < 0) refuse(file, 'The pickle ends inside a GLOBAL.');
    const s = text(end - at, 'utf8');
    at += 1; // the newline
    return s;
  };
  const u32 = (): number => {
    need(4);
    const n = view.getUint32(at, true);
    at += 4;
    return n;
  };
  const u8 = (): number => {
    need(1);
    return data[at++];
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof Map) || items.length % 2) refuse(file, 'The pickle sets items on something that is not a dict.');
    for (let i = 0; i < items.length; i += 2) target.set(items[i], items[i + 1]);
  };
  const memoPut = (index: number): void => {
    memo.set(index, top());
  };
  const memoGet = (index: number): void => {
    if (!memo.has(index)) refuse(file, `The pickle refers to memo entry ${index} that does not exist.`);
    stack.push(memo.get(index));
  };
  for (;;) {
    need(1);
    const op = data[at++];
    switch (op) {
      case 0x80: if (u8() > 5) refuse(file, 'Unknown pickle protocol.'); break; // PROTO
      case 0x95: need(8); at += 8; break; // FRAME
      case 0x2e: if (stack.length !== 1) refuse(file, 'The pickle ends with a malformed stack.'); return stack[0]; // STOP
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x29: stack.push(new Tuple([])); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: need(2); stack.push(view.getUint16(at, true)); at += 2; break; // BININT2
      case 0x4a: need(4); stack.push(view.getInt32(at, true)); at += 4; break; // BININT
      case 0x8a: { // LONG1
        const n = u8();
        need(n);
        let value = 0n;
        for (let i = n - 1; i >= 0; i--) value = (value << 8n) | BigInt(data[at + i]);
        if (n > 0 && data[at + n - 1] & 0x80) value -= 1n << BigInt(8 * n);
        at += n;
        if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) refuse(file, 'The pickle holds an integer too large for a tensor size.');
        stack.push(Number(value));
        break;
      }
      case 0x47: need(8); stack.push(view.getFloat64(at, false)); at += 8; break; // BINFLOAT
      case 0x58: stack.push(text(u32(), 'utf8')); break; // BINUNICODE
      case 0x8c: stack.push(text(u8(), 'utf8')); break; // SHORT_BINUNICODE
      case 0x55: stack.push(text(u8(), 'latin1')); break; // SHORT_BINSTRING
      case 0x54: { // BINSTRING
        need(4);
        const n = view.getInt32(at, true);
        at += 4;
        if (n < 0) refuse(file, 'The pickle has a negative string length.');
        stack.push(text(n, 'latin1'));
        break;
      }
      case 0x63: { // GLOBAL
        const module = line();
        stack.push(allowGlobal(module, line(), file));
        break;
      }
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') refuse(file, 'STACK_GLOBAL without strings.');
        stack.push(allowGlobal(module, name, file));
        break;
      }
      case 0x71: memoPut(u8()); break; // BINPUT
      case 0x72: memoPut(u32()); break; // LONG_BINPUT
      case 0x94: memoPut(memo.size); break; // MEMOIZE
      case 0x68: memoGet(u8()); break; // BINGET
      case 0x6a: memoGet(u32()); break; // LONG_BINGET
      case 0x74: stack.push(new Tuple(popMark())); break; // TUPLE
      case 0x85: stack.push(new Tuple([pop()])); break; // TUPLE1
      case 0x86: { const b = pop(); stack.push(new Tuple([pop(), b])); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); stack.push(new Tuple([pop(), b, c])); break; } // TUPLE3
      case 0x61: { const v = pop(); const list = top(); if (!Array.isArray(list)) refuse(file, 'APPEND to a non-list.'); list.push(v); break; } // APPEND
      case 0x65: { const items = popMark(); const list = top(); if (!Array.isArray(list)) refuse(file, 'APPENDS to a non-list.'); list.push(...items); break; } // APPENDS
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x30: pop(); break; // POP
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        if (!(fn instanceof Global)) refuse(file, 'The pickle calls something that is not an allowed function.');
        if (fn.name === '_rebuild_tensor_v2') stack.push(rebuildTensor(args, file));
        else if (fn.name === 'OrderedDict' && args instanceof Tuple && args.items.length === 0) stack.push(new Map());
        else refuse(file, `The pickle calls ${fn.module}.${fn.name} in a way a state dict never does.`);
        break;
      }
      case 0x62: { // BUILD: only OrderedDict's attribute dict (torch keeps state_dict._metadata there), ignored
        const state = pop();
        if (!(top() instanceof Map) || !(state instanceof Map || state === null)) refuse(file, 'The pickle sets the state of an object a state dict never has.');
        break;
      }
      case 0x51: stack.push(persistentLoad(pop(), file)); break; // BINPERSID
      default:
        refuse(file, `The pickle uses opcode 0x${op.toString(16).padStart(2, '0')} at byte ${at - 1}, which a PyTorch state dict never needs.`);
    }
  }
}
