import { describe, expect, it } from 'vitest';
import type { Graph } from '../../main/graph/builder.js';
import { buildDecodeStepGraph, buildScoreGraph, buildTrainGraph } from '../../main/graph/t5/graphs.js';
import { fixtureConfig, noBytes } from './shape-only.js';

// What the two forms compute is checked with weights in test/runtime: hf-reference and the int8 tests run the
// CPU form (T5PromptModel builds for the provider it runs on); this checks which form each graph takes.
const cfg = fixtureConfig('tiny-t5-v1_1');

/** The attention score products q kᵀ fused on the CPU, and whether each reads its keys transposed (transB). */
function scoreProducts(g: Graph) {
  const fused = g.nodes.filter((n) => n.opType === 'FusedMatMul');
  return { fused: fused.length, transB: fused.every((n) => n.attributes.transB?.value === 1) };
}

describe('key products', () => {
  it('on the CPU, scoring and greedy decoding read keys transposed inside the product (FusedMatMul)', () => {
    const encoder = cfg.numLayers;
    const decoder = cfg.numDecoderLayers;
    // Rank scoring: encoder self-attention, decoder self- and cross-attention. Greedy steps: the decoder's
    // self-attention (its cross-attention is absorbed: see cross-attention.test.ts).
    expect(scoreProducts(buildScoreGraph(cfg, noBytes, 4, 'shared', 'float32', 'cpu'))).toEqual({
      fused: encoder + 2 * decoder,
      transB: true,
    });
    expect(scoreProducts(buildDecodeStepGraph(cfg, noBytes, 'float32', 'cpu'))).toEqual({ fused: decoder, transB: true });
  });

  it('keeps MatMul in training graphs, in half precision and for any provider', () => {
    // Training computes what it did before (see ops.matmulT); the plain model's losses (no prompt) differentiate nothing.
    expect(scoreProducts(buildTrainGraph(cfg, noBytes, 4, 'shared', false, 'float32', true, 'cpu')).fused).toBe(0);
    expect(scoreProducts(buildTrainGraph(cfg, noBytes, 4, 'perExample', true, 'float32', true, 'cpu')).fused).toBe(0);
    expect(scoreProducts(buildTrainGraph(cfg, noBytes, 0, 'shared', false, 'float32', true, 'cpu')).fused).toBe(
      cfg.numLayers + cfg.numDecoderLayers,
    );
    expect(scoreProducts(buildScoreGraph(cfg, noBytes, 4, 'shared', 'float16', 'cpu')).fused).toBe(0);
    expect(scoreProducts(buildScoreGraph(cfg, noBytes, 4, 'shared', 'float32', 'any')).fused).toBe(0);
    expect(scoreProducts(buildDecodeStepGraph(cfg, noBytes, 'float32', 'any')).fused).toBe(0);
  });
});
