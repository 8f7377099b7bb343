import { describe, expect, it } from 'vitest';
import type { Graph } from '../../main/graph/builder.js';
import { buildTrainGraph } from '../../main/graph/t5/graphs.js';
import { fixtureConfig, noBytes } from './shape-only.js';

// That both paths compute the same gradient is checked with weights in test/runtime (mixed-batch: the per-example
// path against this one; any-config-gradient: finite differences; hf-reference). This checks which path a graph takes.
const cfg = fixtureConfig('tiny-t5-v1_1');
const P = 4;

/** The leading dimension of the gradient each backward product with layer 0's q, k and v weights reads. */
function backwardRows(g: Graph): (string | number)[] {
  return ['q', 'k', 'v'].flatMap((n) =>
    g.nodes
      .filter((node) => node.opType === 'MatMul' && node.inputs[1] === `encoder.block.0.layer.0.SelfAttention.${n}.weight`)
      .map((node) => g.values.get(node.inputs[0])!.shape[0]),
  );
}

describe("encoder layer 0's backward", () => {
  it('projects the gradient on the prompt rows alone when the batch shares one prompt and nothing is dropped', () => {
    expect(backwardRows(buildTrainGraph(cfg, noBytes, P))).toEqual([P, P, P]);
  });

  it('keeps the op-by-op path, over every row, with dropout or a prompt per example', () => {
    for (const g of [buildTrainGraph(cfg, noBytes, P, 'shared', true), buildTrainGraph(cfg, noBytes, P, 'perExample')]) {
      const rows = backwardRows(g);
      expect(rows).toHaveLength(3);
      expect(rows.every((r) => r !== P)).toBe(true);
    }
  });
});
