import { Graph, type Tensor } from '../../main/graph/builder.js';
import * as op from '../../main/graph/ops.js';
import { createSession, floatTensor, type Feeds } from '../../main/runtime/session.js';
import { mulberry32 } from '../../main/random.js';

/** Deterministic pseudo-random numbers for test inputs. */
export const rng = mulberry32;

export function randomArray(n: number, rand: () => number, lo = -1, hi = 1): Float64Array {
  return Float64Array.from({ length: n }, () => lo + (hi - lo) * rand());
}

export interface GradCheck {
  analytic: Float64Array;
  numeric: Float64Array;
  maxRelError: number;
}

/**
 * Builds loss = sum(f(x) * r) in float64 for a random weighting r, gets d loss/dx from our autodiff, and
 * compares it with central finite differences of the same graph's loss.
 */
export async function gradCheck(
  shape: number[],
  f: (x: Tensor, g: Graph) => Tensor,
  options: { seed?: number; x?: Float64Array; eps?: number; extraFeeds?: Feeds; extraInputs?: (g: Graph) => void } = {},
): Promise<GradCheck> {
  const rand = rng(options.seed ?? 1);
  const size = shape.reduce((a, b) => a * b, 1);
  const x0 = options.x ?? randomArray(size, rand);
  const graph = new Graph('gradcheck', 'float64');
  const x = graph.input('x', 'float64', shape, { requiresGrad: true });
  options.extraInputs?.(graph);
  const y = f(x, graph);
  const outSize = y.shape.reduce<number>((a, d) => a * (d as number), 1);
  const r = graph.constant(Array.from(randomArray(outSize, rand)), 'float64', y.shape as number[]);
  const loss = op.reduceSum(op.mul(y, r), [...Array(y.rank).keys()], false);
  const [dx] = graph.backward(loss, [x]);
  graph.output(loss, 'loss');
  graph.output(dx, 'dx');
  const session = await createSession(graph.encode(), { threads: 1 });
  const run = async (xv: Float64Array) => {
    const out = await session.run({ x: floatTensor(xv, shape), ...options.extraFeeds });
    return { loss: (out.loss.data as Float64Array)[0], dx: out.dx.data as Float64Array };
  };
  const { dx: analytic } = await run(x0);
  const eps = options.eps ?? 1e-6;
  const numeric = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const plus = Float64Array.from(x0);
    plus[i] += eps;
    const minus = Float64Array.from(x0);
    minus[i] -= eps;
    numeric[i] = ((await run(plus)).loss - (await run(minus)).loss) / (2 * eps);
  }
  let maxRelError = 0;
  const scale = Math.max(1e-3, ...Array.from(numeric, Math.abs));
  for (let i = 0; i < size; i++) maxRelError = Math.max(maxRelError, Math.abs(analytic[i] - numeric[i]) / scale);
  await session.release();
  return { analytic: Float64Array.from(analytic), numeric, maxRelError };
}
