import { describe, expect, it } from 'vitest';
import { Graph } from '../../main/graph/builder.js';
import * as op from '../../main/graph/ops.js';
import { buildTrainGraph } from '../../main/graph/t5/graphs.js';
import { createSession, floatTensor } from '../../main/runtime/session.js';
import { fixtureConfig, noBytes } from './shape-only.js';

describe('a model holds only the nodes its outputs depend on (onnxruntime runs every node, read or not)', () => {
  it('leaves an unread node out, so that it never runs', async () => {
    const g = new Graph('unread');
    const x = g.input('x', 'float32', [2, 3]);
    g.output(op.relu(x), 'y');
    op.reshape(x, [4, 5], [4, 5]); // read by nothing; run, it would fail: 6 elements are not 4 × 5
    expect(g.nodes.map((n) => n.opType)).toEqual(['Relu', 'Identity', 'Reshape']);
    expect(g.liveNodes().map((n) => n.opType)).toEqual(['Relu', 'Identity']);
    const session = await createSession(g.encode(), { threads: 1 });
    const { y } = await session.run({ x: floatTensor(Float32Array.of(-1, 2, -3, 4, -5, 6), [2, 3]) });
    expect(Array.from(y.data as Float32Array)).toEqual([0, 2, 0, 4, 0, 6]);
    await session.release();
  });

  it("drops from a training step the forward values of layer 0's prompt-row projections, which only the backward reads", () => {
    const P = 4;
    for (const compute of ['float32', 'float16'] as const) {
      const g = buildTrainGraph(fixtureConfig('tiny-t5-v1_1'), noBytes, P, 'shared', false, compute);
      const live = new Set(g.liveNodes());
      const unread = g.nodes.filter((n) => !live.has(n));
      // q, k and v of the prompt rows [P, d] (each weight cast to float16 first in a float16 step), and their norm.
      const projections = unread.filter((n) => n.opType === 'Gemm');
      expect(projections.map((n) => g.values.get(n.outputs[0])!.shape[0])).toEqual([P, P, P]);
      // What stays is read: every kept node feeds an output or a kept node.
      const read = new Set([...g.outputs.map((o) => o.name), ...[...live].flatMap((n) => n.inputs)]);
      expect([...live].filter((n) => !n.outputs.some((o) => read.has(o)))).toEqual([]);
    }
  });
});
