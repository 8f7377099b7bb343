/**
 * Dropout for the frozen model during prompt training (SPoT trains with 0.1), with masks made inside the graph
 * from (seed, site, element index) by an integer hash. The same seed gives the same masks on every run, so a
 * resumed training run repeats its masks exactly, and no mask ever crosses the JS boundary.
 */
import type { Graph, Tensor } from './builder.js';
import * as op from './ops.js';

const PRIME = 2147483647; // 2^31 - 1: squares of residues stay below 2^62, inside int64

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
    return op.mul(x, this.mask(x));
  }

  private mask(x: Tensor): Tensor {
    const g = this.g;
    const int = (v: number) => g.constant([v], 'int64', []);
    const mod = (t: Tensor) => g.emitRaw('Mod', [t, int(PRIME)], {}, t.shape, 'int64');
    const mulI = (a: Tensor, b: Tensor) => g.emitRaw('Mul', [a, b], {}, broadcast(a, b), 'int64');
    const addI = (a: Tensor, b: Tensor) => g.emitRaw('Add', [a, b], {}, broadcast(a, b), 'int64');
    const site = ++this.site;
    const shape = op.shapeOf(x);
    const count = g.emitRaw('ReduceProd', [shape], { keepdims: { kind: 'int', value: 0 } }, [], 'int64');
    const flat = g.emitRaw('Range', [int(0), count, int(1)], {}, ['n'], 'int64');
    const index = g.emitRaw('Reshape', [flat, shape], {}, x.shape, 'int64');
    const key = mod(addI(mulI(mod(this.seed), int(16807)), int(site * 1000003)));
    const h1 = mod(addI(mulI(index, int(48271)), key));
    const h2 = mod(addI(mulI(h1, h1), key));
    const h3 = mod(addI(mulI(h2, h2), h1));
    const uniform = g.emitRaw('Div', [g.emitRaw('Cast', [h3], { to: { kind: 'int', value: 1 } }, x.shape, 'float32'), g.scalar(PRIME)], {}, x.shape, 'float32');
    const keep = g.emitRaw('GreaterOrEqual', [uniform, this.rate], {}, x.shape, 'bool');
    return g.emitRaw('Where', [keep, this.keepScale, g.scalar(0)], {}, x.shape, 'float32');
  }
}

function broadcast(a: Tensor, b: Tensor) {
  return a.rank >= b.rank ? a.shape : b.shape;
}
