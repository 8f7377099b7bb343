/**
 * Dropout for the frozen model during prompt training (SPoT trains with 0.1), with masks made inside the graph
 * from (seed, site, element index) by an integer hash. The same seed gives the same masks on every run, so a
 * resumed training run repeats its masks exactly, and no mask ever crosses the JS boundary.
 *
 * The hash is uint32 multiply-add with wraparound, and nothing else: WebGPU has no int64 arithmetic and no Mod
 * kernel, and uint32 overflow wraps the same way on every provider. Squaring carries the low bits into the high
 * ones, and the uniform draw reads the high bits (a float32 keeps the top 24 of 32).
 */
import { dtypeCode, type Graph, type Tensor } from './builder.js';
import * as op from './ops.js';

const PRIME = 2147483647; // 2^31 - 1: the seed is reduced modulo it in int64 (a scalar, computed once)
const GOLDEN = 2654435761; // Knuth's multiplicative hash constant, ~2^32 / phi

export class Dropout {
  private site = 0;
  private readonly keepScale: Tensor;

  /** `rate` [] float32 and `seed` [] int64 are graph inputs, so one graph serves every step. */
  constructor(
    private readonly g: Graph,
    private readonly rate: Tensor,
    private readonly seed: Tensor,
  ) {
    this.keepScale = g.emitRaw('Div', [g.scalar(1), g.emitRaw('Sub', [g.scalar(1), rate], {}, [], 'float32')], {}, [], 'float32');
  }

  /** x * mask / (1 - rate), a fresh mask per call site; the gradient flows through the same mask. */
  apply(x: Tensor): Tensor {
    const mask = this.mask(x);
    return op.mul(x, x.dtype === mask.dtype ? mask : op.cast(mask, x.dtype));
  }

  private mask(x: Tensor): Tensor {
    const g = this.g;
    const u32 = (v: number) => g.constant([v], 'uint32', []);
    const mulU = (a: Tensor, b: Tensor) => g.emitRaw('Mul', [a, b], {}, a.shape, 'uint32');
    const addU = (a: Tensor, b: Tensor) => g.emitRaw('Add', [a, b], {}, a.shape, 'uint32');
    const site = ++this.site;
    // key = (seed * 16807 + site * 1000003) mod PRIME, as a uint32 scalar
    const i64 = (v: number) => g.constant([v], 'int64', []);
    const seedMod = g.emitRaw('Mod', [this.seed, i64(PRIME)], {}, [], 'int64');
    const mixed = g.emitRaw('Add', [g.emitRaw('Mul', [seedMod, i64(16807)], {}, [], 'int64'), i64(site * 1000003)], {}, [], 'int64');
    const key = g.emitRaw(
      'Cast',
      [g.emitRaw('Mod', [mixed, i64(PRIME)], {}, [], 'int64')],
      op.attrs({ to: dtypeCode.uint32 }),
      [],
      'uint32',
    );
    // index [x.shape] uint32: 0, 1, 2, ... in row-major order
    const shape = op.shapeOf(x);
    const count = g.emitRaw('ReduceProd', [op.toInt(shape, 'int32')], op.attrs({ keepdims: 0 }), [], 'int32');
    const flat = g.emitRaw('Range', [g.constant([0], 'int32', []), count, g.constant([1], 'int32', [])], {}, ['n'], 'int32');
    const index = g.emitRaw(
      'Cast',
      [g.emitRaw('Reshape', [flat, shape], {}, x.shape, 'int32')],
      op.attrs({ to: dtypeCode.uint32 }),
      x.shape,
      'uint32',
    );
    const h1 = addU(mulU(index, u32(GOLDEN)), key);
    const h2 = addU(mulU(h1, h1), key);
    const h3 = addU(mulU(h2, h2), h1);
    const uniform = g.emitRaw(
      'Div',
      [g.emitRaw('Cast', [h3], op.attrs({ to: dtypeCode.float32 }), x.shape, 'float32'), g.scalar(2 ** 32)],
      {},
      x.shape,
      'float32',
    );
    const keep = g.emitRaw('GreaterOrEqual', [uniform, this.rate], {}, x.shape, 'bool');
    return g.emitRaw('Where', [keep, this.keepScale, g.scalar(0)], {}, x.shape, 'float32');
  }
}
