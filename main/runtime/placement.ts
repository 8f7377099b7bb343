/**
 * Which nodes of a graph a GPU provider would leave to the CPU, read from the provider's kernel registrations
 * (main/runtime/kernels/): a node runs on the provider only if it registers the op, for the graph's opset, for
 * the node's element types. Without a GPU this is how Sprout keeps its graphs GPU-clean; on a GPU machine the
 * device check confirms it with onnxruntime's own placement log (scripts/device-check).
 */
import type { DType, Graph } from '../graph/builder.js';
import { CUDA_KERNELS } from './kernels/cuda.js';
import type { ElementType, KernelEntry, KernelTable } from './kernels/types.js';
import { WEBGPU_KERNELS } from './kernels/webgpu.js';

export const KERNEL_TABLES = { cuda: CUDA_KERNELS, webgpu: WEBGPU_KERNELS } as const;

/** Sprout's graphs are built for ONNX opset 17 (graph/onnx-proto.ts). */
const OPSET = 17;

export interface CpuNode {
  node: string;
  opType: string;
  why: string;
  /**
   * shape: integer arithmetic on shape vectors (a few numbers; onnxruntime keeps such nodes on the CPU on purpose);
   * output-copy: an Identity that hands a result out (copied to the host anyway); compute: tensor data, which must
   * not leave the GPU.
   */
  kind: 'shape' | 'output-copy' | 'compute';
}

const elementType: Record<DType, ElementType> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  bfloat16: 'bfloat16',
  int64: 'int64',
  int32: 'int32',
  uint32: 'uint32',
  int8: 'int8',
  uint8: 'uint8',
  bool: 'bool',
};

function entryFor(entries: KernelEntry[] | undefined): KernelEntry | undefined {
  return entries?.find((e) => e.from <= OPSET && OPSET <= (e.to ?? Infinity));
}

function missingKernel(table: KernelTable, graph: Graph, opType: string, inputs: string[], outputs: string[]): string | null {
  const entry = entryFor(table.ops[opType]);
  if (!entry) return `no ${opType} kernel for opset ${OPSET}`;
  const check = (names: string[], constraints: string[] = []) => {
    for (let i = 0; i < names.length; i++) {
      const allowed = entry.types[constraints[i] ?? ''];
      const dtype = graph.values.get(names[i])?.dtype;
      if (names[i] && allowed && dtype && !allowed.includes(elementType[dtype])) return `no ${opType} kernel for ${dtype}`;
    }
    return null;
  };
  return check(inputs, entry.inputs) ?? check(outputs, entry.outputs);
}

export function cpuPlacedNodes(graph: Graph, table: KernelTable): CpuNode[] {
  const graphOutputs = new Set(graph.outputs.map((o) => o.name));
  const placed: CpuNode[] = [];
  for (const node of graph.liveNodes()) {
    const why = missingKernel(table, graph, node.opType, node.inputs, node.outputs);
    if (!why) continue;
    const outs = node.outputs.map((o) => graph.values.get(o));
    const shapeLike = outs.every(
      (v) =>
        v &&
        v.dtype !== 'float32' &&
        v.dtype !== 'float16' &&
        v.dtype !== 'float64' &&
        v.shape.length <= 1 &&
        v.shape.every((d) => typeof d === 'number'),
    );
    const kind = shapeLike
      ? 'shape'
      : node.opType === 'Identity' && node.outputs.every((o) => graphOutputs.has(o))
        ? 'output-copy'
        : 'compute';
    placed.push({ node: node.name, opType: node.opType, why, kind });
  }
  return placed;
}
