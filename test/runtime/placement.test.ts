import { describe, expect, it } from 'vitest';
import { Graph } from '../../main/graph/builder.js';
import { Dropout } from '../../main/graph/dropout.js';
import * as op from '../../main/graph/ops.js';
import { buildDecodeStepGraph, buildEncodeGraph, buildScoreGraph, buildTrainGraph } from '../../main/graph/t5/graphs.js';
import type { KernelTable } from '../../main/runtime/kernels/types.js';
import { cpuPlacedNodes, KERNEL_TABLES } from '../../main/runtime/placement.js';
import { hasBf16Kernels } from '../../main/runtime/precision.js';
import { precisionOn } from '../../main/runtime/width-policy.js';
import { PROVIDER_ORDER } from '../../main/runtime/providers-probe.js';
import type { ProviderName } from '../../main/runtime/types.js';
import { fixtureConfig, noBytes } from '../graph/shape-only.js';

const kinds = (name: string) => {
  const cfg = fixtureConfig(name);
  return {
    train: buildTrainGraph(cfg, noBytes, 4),
    'train, no prompt': buildTrainGraph(cfg, noBytes, 0),
    'train, mixed prompts': buildTrainGraph(cfg, noBytes, 4, 'perExample'),
    'train, dropout': buildTrainGraph(cfg, noBytes, 4, 'shared', true),
    'train, mixed prompts, dropout': buildTrainGraph(cfg, noBytes, 4, 'perExample', true),
    score: buildScoreGraph(cfg, noBytes, 4),
    'score, mixed prompts': buildScoreGraph(cfg, noBytes, 4, 'perExample'),
    encode: buildEncodeGraph(cfg, noBytes, 4),
    decodeStep: buildDecodeStepGraph(cfg, noBytes),
    'train, fp16': buildTrainGraph(cfg, noBytes, 4, 'shared', false, 'float16'),
    'train, mixed prompts, dropout, fp16': buildTrainGraph(cfg, noBytes, 4, 'perExample', true, 'float16'),
    'score, fp16': buildScoreGraph(cfg, noBytes, 4, 'shared', 'float16'),
    'score, mixed prompts, fp16': buildScoreGraph(cfg, noBytes, 4, 'perExample', 'float16'),
    'encode, fp16': buildEncodeGraph(cfg, noBytes, 4, 'float16'),
    'decodeStep, fp16': buildDecodeStepGraph(cfg, noBytes, 'float16'),
  };
};

/** The bf16 graphs, for the providers that have bfloat16 kernels (main/runtime/precision.ts). */
const bf16Kinds = (name: string) => {
  const cfg = fixtureConfig(name);
  return {
    'train, bf16': buildTrainGraph(cfg, noBytes, 4, 'shared', false, 'bfloat16'),
    'train, mixed prompts, dropout, bf16': buildTrainGraph(cfg, noBytes, 4, 'perExample', true, 'bfloat16'),
    'score, bf16': buildScoreGraph(cfg, noBytes, 4, 'shared', 'bfloat16'),
    'score, mixed prompts, bf16': buildScoreGraph(cfg, noBytes, 4, 'perExample', 'bfloat16'),
    'encode, bf16': buildEncodeGraph(cfg, noBytes, 4, 'bfloat16'),
    'decodeStep, bf16': buildDecodeStepGraph(cfg, noBytes, 'bfloat16'),
  };
};

function expectGpuClean(graph: Graph, table: KernelTable): void {
  const placed = cpuPlacedNodes(graph, table);
  expect(placed.filter((p) => p.kind === 'compute')).toEqual([]);
  // What may stay on the CPU is a handful of shape numbers and the copy of an int64 result to the host.
  expect(placed.every((p) => p.kind === 'shape' || p.kind === 'output-copy')).toBe(true);
}

describe('every graph runs on the GPU providers, by their published kernel lists', () => {
  for (const model of ['tiny-t5-v1_0', 'tiny-t5-v1_1']) {
    for (const [kind, graph] of Object.entries(kinds(model))) {
      for (const table of Object.values(KERNEL_TABLES)) {
        it(`${model} ${kind} on ${table.provider}: no tensor computation left to the CPU`, () => expectGpuClean(graph, table));
      }
    }
    for (const [kind, graph] of Object.entries(bf16Kinds(model))) {
      for (const table of Object.values(KERNEL_TABLES).filter((t) => hasBf16Kernels(t.provider))) {
        it(`${model} ${kind} on ${table.provider}: no tensor computation left to the CPU`, () => expectGpuClean(graph, table));
      }
    }
  }
});

describe('bf16 compute goes where the kernels are', () => {
  it('CUDA registers bfloat16 products, WebGPU and the CPU do not; auto prefers bf16 to fp16 on CUDA', () => {
    expect(PROVIDER_ORDER.filter(hasBf16Kernels)).toEqual(['cuda']);
    expect(['cuda', 'webgpu', 'dml', 'coreml', 'cpu'].map((p) => precisionOn('auto', p as ProviderName))).toEqual([
      'bf16',
      'fp16',
      'fp16',
      'fp16',
      'fp32',
    ]);
    // What WebGPU lacks, seen in the bf16 graph itself: its products have no bfloat16 kernel.
    const lacking = cpuPlacedNodes(bf16Kinds('tiny-t5-v1_1')['score, bf16'], KERNEL_TABLES.webgpu).filter((p) => p.kind === 'compute');
    expect(lacking.some((p) => p.why === 'no MatMul kernel for bfloat16' || p.why === 'no Gemm kernel for bfloat16')).toBe(true);
  });

  it('an explicit bf16 where the provider has no kernels is refused with what to choose instead', () => {
    expect(precisionOn('bf16', 'cuda')).toBe('bf16');
    for (const provider of ['cpu', 'webgpu'] as const) {
      expect(() => precisionOn('bf16', provider)).toThrow(
        expect.objectContaining({
          code: 'precision-unsupported',
          message: expect.stringMatching(/bf16 compute needs bfloat16 matrix kernels.*Use --precision fp16 or fp32/),
        }),
      );
    }
  });
});

describe('the placement check finds what a provider lacks', () => {
  it('flags tensor work with no kernel, and tells shape arithmetic apart', () => {
    const g = new Graph('lacks');
    const x = g.input('x', 'float32', ['N', 8]);
    const ids = g.input('ids', 'int64', ['N', 8]);
    g.output(g.emitRaw('ConstantOfShape', [op.shapeOf(x)], {}, ['N', 8], 'float32'), 'zeros');
    g.output(g.emitRaw('Mod', [ids, g.constant([7], 'int64', [])], {}, ['N', 8], 'int64'), 'mod');
    const rows = g.emitRaw('Mul', [op.shapeOf(x, 0, 1), g.ints([2])], {}, [1], 'int64');
    g.output(rows, 'rows');
    const webgpu = cpuPlacedNodes(g, KERNEL_TABLES.webgpu);
    expect(webgpu.filter((p) => p.kind === 'compute').map((p) => [p.opType, p.why])).toEqual([
      ['ConstantOfShape', 'no ConstantOfShape kernel for opset 17'],
      ['Mod', 'no Mod kernel for opset 17'],
    ]);
    expect(webgpu.find((p) => p.opType === 'Mul')?.kind).toBe('shape');
    expect(cpuPlacedNodes(g, KERNEL_TABLES.cuda).filter((p) => p.kind === 'compute')).toEqual([]);
  });

  it('the dropout hash needs neither int64 arithmetic nor Mod on the tensor, which WebGPU lacks', () => {
    const d = new Graph('dropout');
    const y = new Dropout(d, d.input('rate', 'float32', []), d.input('seed', 'int64', [])).apply(d.input('x', 'float32', ['N', 8]));
    d.output(y, 'y');
    expect(cpuPlacedNodes(d, KERNEL_TABLES.webgpu).filter((p) => p.kind === 'compute')).toEqual([]);
  });
});
