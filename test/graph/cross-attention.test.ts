import { describe, expect, it } from 'vitest';
import type { Graph } from '../../main/graph/builder.js';
import { buildDecodeStepGraph, buildScoreGraph, buildTrainGraph } from '../../main/graph/t5/graphs.js';
import { fixtureConfig, noBytes } from './shape-only.js';

// Whether the absorbed form computes what Hugging Face does is checked with weights in test/runtime (hf-reference,
// any-config-gradient, greedy decoding); this checks which form each graph takes.
const cfg = fixtureConfig('tiny-t5-v1_1');

/** The op types that read each decoder layer's cross-attention key and value weights. */
function readers(g: Graph): string[] {
  const names = Array.from({ length: cfg.numDecoderLayers }, (_, i) =>
    ['k', 'v'].map((n) => `decoder.block.${i}.layer.1.EncDecAttention.${n}.weight`),
  ).flat();
  return [...new Set(g.nodes.filter((node) => node.inputs.some((i) => names.includes(i))).map((node) => node.opType))];
}

describe('cross-attention', () => {
  it('absorbs the key and value weights into the query side in training and greedy decoding: no projection of the encoder rows', () => {
    expect(readers(buildTrainGraph(cfg, noBytes, 4))).toEqual(['Reshape']);
    expect(readers(buildTrainGraph(cfg, noBytes, 4, 'perExample', true))).toEqual(['Reshape']);
    expect(readers(buildDecodeStepGraph(cfg, noBytes))).toEqual(['Reshape']);
  });

  it('projects keys and values once per example in rank scoring, where every candidate reads them', () => {
    expect(readers(buildScoreGraph(cfg, noBytes, 4))).toEqual(['Gemm']);
  });
});
