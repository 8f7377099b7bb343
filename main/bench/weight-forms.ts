/**
 * `npm run bench -- weight-forms`: how a frozen weight W [out, in] can enter the graph, measured on the two
 * products prompt tuning needs per linear layer: y = x Wᵀ (forward) and dx = g W (backward). t5-base's
 * feed-forward shape (768 → 3072, and back), 672 rows (batch 8 × 84 encoder tokens). The engine's choice of
 * int8 form (main/weights/entry.ts) is the fastest row here; this benchmark is why.
 */
import { Graph, Tensor } from '../graph/builder.js';
import { CONTRIB_DOMAIN } from '../graph/onnx-proto.js';
import * as op from '../graph/ops.js';
import { createSession, floatTensor } from '../runtime/session.js';
import { mulberry32 } from '../random.js';
import { median, time } from './measure.js';

const N = 672;
const SHAPES: [number, number][] = [
  [3072, 768],
  [768, 3072],
]; // [out, in]
const BLOCK = 32;

interface Form {
  name: string;
  prepack: boolean;
  build: (g: Graph, x: Tensor, grad: Tensor, w: Float32Array, out: number, inn: number, tag: string) => [Tensor, Tensor];
}

function raw(g: Graph, name: string, bytes: Uint8Array, dtype: 'float32' | 'int8' | 'uint8', dims: number[]): Tensor {
  g.initializers.push({ name, dataType: ({ float32: 1, uint8: 2, int8: 3 } as const)[dtype], dims, raw: bytes });
  return new Tensor(g, name, dtype, dims, false);
}

/** Symmetric per-row int8: q[r, c] = round(w[r, c] / s[r]), s[r] = max |w[r, :]| / 127. */
function rowInt8(w: Float32Array, rows: number, cols: number): { q: Int8Array; s: Float32Array } {
  const q = new Int8Array(rows * cols);
  const s = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    let m = 0;
    for (let c = 0; c < cols; c++) m = Math.max(m, Math.abs(w[r * cols + c]));
    s[r] = m / 127 || 1;
    for (let c = 0; c < cols; c++) q[r * cols + c] = Math.round(w[r * cols + c] / s[r]);
  }
  return { q, s };
}

/** MatMulNBits' layout for 8 bits: B [rows, cols/BLOCK, BLOCK] uint8 (q + 128), scales [rows * cols/BLOCK]. */
function blockUint8(w: Float32Array, rows: number, cols: number): { q: Uint8Array; s: Float32Array } {
  const q = new Uint8Array(rows * cols);
  const s = new Float32Array((rows * cols) / BLOCK);
  for (let b = 0; b < s.length; b++) {
    let m = 0;
    for (let i = 0; i < BLOCK; i++) m = Math.max(m, Math.abs(w[b * BLOCK + i]));
    s[b] = m / 127 || 1;
    for (let i = 0; i < BLOCK; i++) q[b * BLOCK + i] = Math.round(w[b * BLOCK + i] / s[b]) + 128;
  }
  return { q, s };
}

function transposed(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c];
  return t;
}

function nbits(g: Graph, a: Tensor, w: Float32Array, rows: number, cols: number, tag: string, level: number): Tensor {
  const { q, s } = blockUint8(w, rows, cols);
  const B = raw(g, `${tag}_b`, q, 'uint8', [rows, cols / BLOCK, BLOCK]);
  const S = raw(g, `${tag}_s`, new Uint8Array(s.buffer), 'float32', [s.length]);
  return g.emitRaw(
    'MatMulNBits',
    [a, B, S],
    {
      K: { kind: 'int', value: cols },
      N: { kind: 'int', value: rows },
      bits: { kind: 'int', value: 8 },
      block_size: { kind: 'int', value: BLOCK },
      accuracy_level: { kind: 'int', value: level },
    },
    [a.shape[0], rows],
    'float32',
    undefined,
    CONTRIB_DOMAIN,
  );
}

const forms: Form[] = [
  {
    name: 'fp32 Gemm / MatMul',
    prepack: false,
    build: (g, x, grad, w, out, inn, tag) => {
      const W = raw(g, `${tag}_w`, new Uint8Array(w.buffer), 'float32', [out, inn]);
      return [
        g.emitRaw('Gemm', [x, W], { transB: { kind: 'int', value: 1 } }, [N, out], 'float32'),
        g.emitRaw('MatMul', [grad, W], {}, [N, inn], 'float32'),
      ];
    },
  },
  {
    name: 'int8 per-row DequantizeLinear → Gemm / MatMul',
    prepack: false,
    build: (g, x, grad, w, out, inn, tag) => {
      const { q, s } = rowInt8(w, out, inn);
      const Q = raw(g, `${tag}_q`, new Uint8Array(q.buffer), 'int8', [out, inn]);
      const S = raw(g, `${tag}_s`, new Uint8Array(s.buffer), 'float32', [out]);
      const dq = () => g.emitRaw('DequantizeLinear', [Q, S], { axis: { kind: 'int', value: 0 } }, [out, inn], 'float32');
      return [
        g.emitRaw('Gemm', [x, dq()], { transB: { kind: 'int', value: 1 } }, [N, out], 'float32'),
        g.emitRaw('MatMul', [grad, dq()], {}, [N, inn], 'float32'),
      ];
    },
  },
  {
    name: 'int8 per-row Cast → Gemm / MatMul, scale applied to the activations',
    prepack: false,
    build: (g, x, grad, w, out, inn, tag) => {
      const { q, s } = rowInt8(w, out, inn);
      const Q = raw(g, `${tag}_q`, new Uint8Array(q.buffer), 'int8', [out, inn]);
      const S = raw(g, `${tag}_s`, new Uint8Array(s.buffer), 'float32', [out]);
      const cast = () => g.emitRaw('Cast', [Q], { to: { kind: 'int', value: 1 } }, [out, inn], 'float32');
      const y = g.emitRaw(
        'Mul',
        [g.emitRaw('Gemm', [x, cast()], { transB: { kind: 'int', value: 1 } }, [N, out], 'float32'), S],
        {},
        [N, out],
        'float32',
      );
      return [y, g.emitRaw('MatMul', [g.emitRaw('Mul', [grad, S], {}, [N, out], 'float32'), cast()], {}, [N, inn], 'float32')];
    },
  },
  ...[false, true].map((prepack): Form => ({
    name: `int8 Wᵀ per-column: DynamicQuantizeMatMul forward, Cast → Gemm backward${prepack ? ', prepacked' : ''}`,
    prepack,
    build: (g, x, grad, w, out, inn, tag) => {
      const { q, s } = rowInt8(w, out, inn);
      const qt = new Int8Array(q.length);
      for (let r = 0; r < out; r++) for (let c = 0; c < inn; c++) qt[c * out + r] = q[r * inn + c];
      const QT = raw(g, `${tag}_qt`, new Uint8Array(qt.buffer), 'int8', [inn, out]);
      const S = raw(g, `${tag}_s`, new Uint8Array(s.buffer), 'float32', [out]);
      const y = g.emitRaw('DynamicQuantizeMatMul', [x, QT, S], {}, [N, out], 'float32', undefined, CONTRIB_DOMAIN);
      const castT = g.emitRaw('Cast', [QT], { to: { kind: 'int', value: 1 } }, [inn, out], 'float32');
      return [
        y,
        g.emitRaw(
          'Gemm',
          [g.emitRaw('Mul', [grad, S], {}, [N, out], 'float32'), castT],
          { transB: { kind: 'int', value: 1 } },
          [N, inn],
          'float32',
        ),
      ];
    },
  })),
  ...[0, 4].flatMap((level) =>
    [false, true].map((prepack): Form => ({
      name: `int8 MatMulNBits block ${BLOCK}, accuracy_level ${level}, W and Wᵀ${prepack ? ', prepacked' : ''}`,
      prepack,
      build: (g, x, grad, w, out, inn, tag) => [
        nbits(g, x, w, out, inn, `${tag}_f`, level),
        nbits(g, grad, transposed(w, out, inn), inn, out, `${tag}_b`, level),
      ],
    })),
  ),
  {
    name: 'int8 MatMulInteger with DynamicQuantizeLinear, W and Wᵀ',
    prepack: true,
    build: (g, x, grad, w, out, inn, tag) => {
      const integer = (a: Tensor, wKN: Float32Array, K: number, Nn: number, t: string) => {
        // Per-tensor scale so that it factors out of the contraction.
        let m = 0;
        for (const v of wKN) m = Math.max(m, Math.abs(v));
        const s = m / 127;
        const q = Int8Array.from(wKN, (v) => Math.round(v / s));
        const Q = raw(g, `${t}_q`, new Uint8Array(q.buffer), 'int8', [K, Nn]);
        const aq = g.emitRaw('DynamicQuantizeLinear', [a], {}, a.shape, 'uint8');
        const outs = g.nodes[g.nodes.length - 1];
        outs.outputs.push(`${aq.name}_s`, `${aq.name}_z`);
        const prod = g.emitRaw('MatMulInteger', [aq, Q, new Tensor(g, `${aq.name}_z`, 'uint8', [], false)], {}, [N, Nn], 'int64');
        const f = g.emitRaw('Cast', [prod], { to: { kind: 'int', value: 1 } }, [N, Nn], 'float32');
        const sc = g.emitRaw('Mul', [new Tensor(g, `${aq.name}_s`, 'float32', [], false), g.scalar(s)], {}, [], 'float32');
        return g.emitRaw('Mul', [f, sc], {}, [N, Nn], 'float32');
      };
      return [integer(x, transposed(w, out, inn), inn, out, `${tag}_f`), integer(grad, w, out, inn, `${tag}_b`)];
    },
  },
];

export async function benchWeightForms(): Promise<Record<string, unknown>> {
  const random = mulberry32(7);
  const built: { form: Form; run?: () => Promise<unknown>; release?: () => Promise<void>; times: number[]; error?: string }[] = [];
  for (const form of forms) {
    const g = new Graph('weight_form');
    const inputs: Record<string, ReturnType<typeof floatTensor>> = {};
    SHAPES.forEach(([out, inn], k) => {
      const x = g.input(`x${k}`, 'float32', [N, inn]);
      const grad = g.input(`g${k}`, 'float32', [N, out]);
      const w = Float32Array.from({ length: out * inn }, () => (random() - 0.5) * 0.1);
      const [y, dx] = form.build(g, x, grad, w, out, inn, `l${k}`);
      g.output(op.reduceSum(y, [0, 1], false), `y${k}`);
      g.output(op.reduceSum(dx, [0, 1], false), `dx${k}`);
      inputs[`x${k}`] = floatTensor(
        Float32Array.from({ length: N * inn }, () => random() - 0.5),
        [N, inn],
      );
      inputs[`g${k}`] = floatTensor(
        Float32Array.from({ length: N * out }, () => random() - 0.5),
        [N, out],
      );
    });
    const previous = process.env.SPROUT_PREPACK;
    process.env.SPROUT_PREPACK = form.prepack ? '1' : '0';
    try {
      const session = await createSession(g.encode());
      await session.run(inputs);
      built.push({ form, run: () => session.run(inputs), release: () => session.release(), times: [] });
    } catch (error) {
      built.push({ form, times: [], error: (error as Error).message.split('\n')[0] });
    } finally {
      if (previous === undefined) delete process.env.SPROUT_PREPACK;
      else process.env.SPROUT_PREPACK = previous;
    }
  }
  // Round-robin, so that a load spike from other processes hits every form alike.
  for (let round = 0; round < 9; round++) {
    for (const b of built) if (b.run) b.times.push(await time(b.run));
  }
  const flops = SHAPES.reduce((n, [o, i]) => n + 2 * 2 * N * o * i, 0);
  const fp32 = median(built[0].times);
  const rows = built.map((b) => {
    if (!b.run) return { form: b.form.name, error: b.error };
    const ms = median(b.times);
    return {
      form: b.form.name,
      ms: Number(ms.toFixed(2)),
      gflops: Number((flops / (ms / 1000) / 1e9).toFixed(1)),
      speedup_vs_fp32: Number((fp32 / ms).toFixed(2)),
    };
  });
  await Promise.all(built.map((b) => b.release?.()));
  return { benchmark: 'weight-forms', rows_per_product: N, shapes: SHAPES, rows };
}
