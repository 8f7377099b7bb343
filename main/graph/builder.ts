import { toHalf } from '../checkpoint/to-half.js';
import {
  DataType,
  encodeModel,
  type AttributeValue,
  type DataTypeCode,
  type Dim,
  type NodeValue,
  type TensorValue,
  type ValueInfo,
} from './onnx-proto.js';

/** Where a graph runs: onnxruntime's CPU provider, or any provider (see Graph). */
export type GraphTarget = 'cpu' | 'any';

export type DType = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'uint32' | 'int8' | 'uint8' | 'bool';
export type { Dim };

export const dtypeCode: Record<DType, DataTypeCode> = {
  float32: DataType.FLOAT,
  float64: DataType.DOUBLE,
  float16: DataType.FLOAT16,
  int64: DataType.INT64,
  int32: DataType.INT32,
  uint32: DataType.UINT32,
  bool: DataType.BOOL,
  bfloat16: DataType.BFLOAT16,
  int8: DataType.INT8,
  uint8: DataType.UINT8,
};

/** A value in the graph being built. `requiresGrad` marks values that depend on a differentiated input. */
export class Tensor {
  constructor(
    readonly graph: Graph,
    readonly name: string,
    readonly dtype: DType,
    readonly shape: Dim[],
    readonly requiresGrad: boolean,
  ) {}

  get rank(): number {
    return this.shape.length;
  }
}

/** Returns, for each input that requires a gradient, d(loss)/d(input) given d(loss)/d(output). */
export type Vjp = (grad: Tensor, needs: boolean[]) => (Tensor | null | false)[];

interface TapeEntry {
  output: Tensor;
  inputs: Tensor[];
  vjp: Vjp;
  opType: string;
}

export type Attrs = Record<string, AttributeValue>;

/**
 * Builds an ONNX graph op by op and records, for each op whose inputs depend on a differentiated input,
 * its vector-Jacobian product, so that `backward` can emit the gradient as further ordinary ONNX nodes.
 */
export class Graph {
  readonly nodes: NodeValue[] = [];
  readonly initializers: TensorValue[] = [];
  readonly inputs: ValueInfo[] = [];
  readonly outputs: ValueInfo[] = [];
  /** The dtype and shape of every named value (inputs, initializers, node outputs): what placement checks read. */
  readonly values = new Map<string, { dtype: DType; shape: Dim[] }>();
  private readonly tape: TapeEntry[] = [];
  private readonly names = new Map<string, number>();
  private readonly constants = new Map<string, Tensor>();
  private recording = true;
  private differentiated = false;

  /**
   * `float` is the dtype of every floating-point value: float32 for models, float64 for gradient checks.
   * `target` 'cpu': the graph runs on onnxruntime's CPU provider, so ops may take its contrib kernels (see matmulT);
   * 'any' keeps to what every provider runs.
   */
  constructor(
    readonly name: string,
    readonly float: 'float32' | 'float64' = 'float32',
    readonly target: GraphTarget = 'any',
  ) {}

  fresh(prefix: string): string {
    const n = this.names.get(prefix) ?? 0;
    this.names.set(prefix, n + 1);
    return n === 0 ? prefix : `${prefix}_${n}`;
  }

  /** Whether any input is differentiated: the graph computes a gradient. */
  get differentiates(): boolean {
    return this.differentiated;
  }

  input(name: string, dtype: DType, shape: Dim[], options: { requiresGrad?: boolean } = {}): Tensor {
    this.differentiated ||= options.requiresGrad ?? false;
    this.inputs.push({ name, dataType: dtypeCode[dtype], shape });
    this.names.set(name, 1);
    this.values.set(name, { dtype, shape });
    return new Tensor(this, name, dtype, shape, options.requiresGrad ?? false);
  }

  output(t: Tensor, name: string): Tensor {
    const out = this.push('Identity', [t], {}, t.shape, t.dtype, false, name);
    this.outputs.push({ name, dataType: dtypeCode[t.dtype], shape: t.shape });
    return out;
  }

  /**
   * A frozen weight whose bytes stay in a file beside the model (ONNX external data). `overridable` also lists it
   * as a graph input: onnxruntime then never constant-folds the ops that read it, so a Cast or DequantizeLinear
   * of a narrow weight runs per step on a transient buffer instead of becoming a float32 copy at session creation.
   */
  externalWeight(
    name: string,
    dims: number[],
    external: { location: string; offset: number; length: number },
    dtype: DType = 'float32',
    overridable = false,
  ): Tensor {
    const existing = this.constants.get(`w:${name}`);
    if (existing) return existing;
    this.initializers.push({ name, dataType: dtypeCode[dtype], dims, external });
    if (overridable) this.inputs.push({ name, dataType: dtypeCode[dtype], shape: dims });
    this.values.set(name, { dtype, shape: dims });
    const t = new Tensor(this, name, dtype, dims, false);
    this.constants.set(`w:${name}`, t);
    return t;
  }

  /** A small constant stored in the graph itself (scalars, shapes, axes). */
  constant(values: ArrayLike<number> | ArrayLike<bigint>, dtype: DType, dims: number[]): Tensor {
    const key = `${dtype}:${dims.join('x')}:${Array.from(values as ArrayLike<number>, String).join(',')}`;
    const cached = this.constants.get(key);
    if (cached) return cached;
    const name = this.fresh('const');
    this.initializers.push({ name, dataType: dtypeCode[dtype], dims, raw: encodeValues(values, dtype) });
    this.values.set(name, { dtype, shape: dims });
    const t = new Tensor(this, name, dtype, dims, false);
    this.constants.set(key, t);
    return t;
  }

  scalar(value: number, dtype: DType = this.float): Tensor {
    return this.constant([value], dtype, []);
  }

  ints(values: number[]): Tensor {
    return this.constant(values, 'int64', [values.length]);
  }

  /** Emits an op that has no gradient rule. Fails loudly if an input depends on a differentiated input. */
  emitRaw(opType: string, inputs: (Tensor | null)[], attrs: Attrs, shape: Dim[], dtype: DType, name?: string, domain?: string): Tensor {
    // Shape reads only dimensions, never values, so it carries no gradient and may see any input.
    if (this.recording && opType !== 'Shape') {
      const tracked = inputs.find((t) => t?.requiresGrad);
      if (tracked) {
        throw new Error(`${opType} has no gradient rule, but its input ${tracked.name} depends on a differentiated input`);
      }
    }
    return this.push(opType, inputs, attrs, shape, dtype, false, name, domain);
  }

  /**
   * Values computed in the forward pass only for a gradient to read (a ReLU's mask): emitted without recording,
   * so their ops need no gradient rule and carry none.
   */
  forGradient<T>(f: () => T): T {
    const was = this.recording;
    this.recording = false;
    try {
      return f();
    } finally {
      this.recording = was;
    }
  }

  /**
   * An op made of several nodes, differentiated as one: `f` emits the forward nodes untracked and `vjp` gives the
   * gradients of `inputs`, so the backward keeps alive only what `vjp` reads, not every intermediate of `f`.
   */
  composite(inputs: Tensor[], f: () => Tensor, vjp: Vjp): Tensor {
    const value = this.forGradient(f);
    if (!this.recording || !inputs.some((t) => t.requiresGrad)) return value;
    const out = new Tensor(this, value.name, value.dtype, value.shape, true);
    this.tape.push({ output: out, inputs, vjp, opType: 'composite' });
    return out;
  }

  /** Emits a differentiable op: `vjp` gives the gradients of its inputs, recorded only when some input needs one. */
  emit(opType: string, inputs: Tensor[], attrs: Attrs, shape: Dim[], dtype: DType, vjp: Vjp, domain?: string): Tensor {
    const needsGrad = this.recording && inputs.some((t) => t.requiresGrad);
    const out = this.push(opType, inputs, attrs, shape, dtype, needsGrad, undefined, domain);
    if (needsGrad) this.tape.push({ output: out, inputs, vjp, opType });
    return out;
  }

  private push(
    opType: string,
    inputs: (Tensor | null)[],
    attrs: Attrs,
    shape: Dim[],
    dtype: DType,
    requiresGrad: boolean,
    name?: string,
    domain?: string,
  ): Tensor {
    const outName = name ?? this.fresh(opType.toLowerCase());
    this.nodes.push({
      opType,
      inputs: inputs.map((t) => t?.name ?? ''),
      outputs: [outName],
      name: `n${this.nodes.length}`,
      attributes: attrs,
      ...(domain ? { domain } : {}),
    });
    this.values.set(outName, { dtype, shape });
    return new Tensor(this, outName, dtype, shape, requiresGrad);
  }

  /**
   * Reverse-mode differentiation of a scalar `loss` with respect to `wrt`: walks the tape backwards, asking each
   * op for its vector-Jacobian product, and sums the contributions that reach each value.
   */
  backward(loss: Tensor, wrt: Tensor[], seed?: Tensor): Tensor[] {
    const grads = new Map<Tensor, Tensor>();
    grads.set(loss, seed ?? this.scalar(1));
    this.recording = false;
    try {
      for (let i = this.tape.length - 1; i >= 0; i--) {
        const entry = this.tape[i];
        const g = grads.get(entry.output);
        if (!g) continue;
        const needs = entry.inputs.map((t) => t.requiresGrad);
        const results = entry.vjp(g, needs);
        entry.inputs.forEach((input, k) => {
          const r = results[k];
          if (!needs[k] || !r) return;
          const prev = grads.get(input);
          grads.set(input, prev ? this.push('Add', [prev, r], {}, input.shape, input.dtype, false) : r);
        });
      }
    } finally {
      this.recording = true;
    }
    return wrt.map((t) => {
      const g = grads.get(t);
      if (!g) throw new Error(`${t.name} does not influence ${loss.name}: no gradient path`);
      return g;
    });
  }

  /**
   * The nodes some output depends on, in order. onnxruntime runs every node of a model, read or not, and building
   * leaves some unread: the forward values of a composite's handles (t5/model.ts, promptAttend: layer 0's q, k and v
   * of the prompt rows and their norm, and at float16 the casts of those three weights, in every training step).
   */
  liveNodes(): NodeValue[] {
    const read = new Set(this.outputs.map((o) => o.name));
    const live: NodeValue[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const node = this.nodes[i];
      if (!node.outputs.some((o) => read.has(o))) continue;
      for (const input of node.inputs) read.add(input);
      live.push(node);
    }
    return live.reverse();
  }

  encode(): Uint8Array {
    return encodeModel({
      name: this.name,
      nodes: this.liveNodes(),
      initializers: this.initializers,
      inputs: this.inputs,
      outputs: this.outputs,
    });
  }
}

function encodeValues(values: ArrayLike<number> | ArrayLike<bigint>, dtype: DType): Uint8Array {
  const n = values.length;
  switch (dtype) {
    case 'float32':
      return new Uint8Array(Float32Array.from(values as ArrayLike<number>).buffer);
    case 'float64':
      return new Uint8Array(Float64Array.from(values as ArrayLike<number>).buffer);
    case 'int64': {
      const out = new BigInt64Array(n);
      for (let i = 0; i < n; i++) out[i] = BigInt(values[i]);
      return new Uint8Array(out.buffer);
    }
    case 'int32':
      return new Uint8Array(Int32Array.from(values as ArrayLike<number>).buffer);
    case 'uint32':
      return new Uint8Array(Uint32Array.from(values as ArrayLike<number>).buffer);
    case 'float16':
      return new Uint8Array(Uint16Array.from(values as ArrayLike<number>, halfBits).buffer);
    case 'bool':
      return Uint8Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
    case 'int8':
      return new Uint8Array(Int8Array.from(values as ArrayLike<number>).buffer);
    case 'uint8':
      return Uint8Array.from(values as ArrayLike<number>);
    case 'bfloat16':
      return new Uint8Array(toHalf(Float32Array.from(values as ArrayLike<number>), 'BF16').buffer);
  }
}

/** IEEE 754 binary16 bits of a number, rounded to nearest even (Node 20 has no Float16Array). */
export function halfBits(value: number): number {
  const bits = new Uint32Array(Float32Array.of(value).buffer)[0];
  const sign = (bits >>> 16) & 0x8000;
  const exponent = ((bits >>> 23) & 0xff) - 127 + 15;
  let mantissa = bits & 0x7fffff;
  if (((bits >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  if (exponent >= 0x1f) return sign | 0x7c00;
  if (exponent <= 0) {
    if (exponent < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - exponent;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const middle = 1 << (shift - 1);
    return sign | (half + (rest > middle || (rest === middle && half & 1) ? 1 : 0));
  }
  const half = (exponent << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  return sign | (half + (rest > 0x1000 || (rest === 0x1000 && half & 1) ? 1 : 0));
}
