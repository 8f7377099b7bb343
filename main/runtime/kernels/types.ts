/**
 * A provider's kernel registrations, as data: which ONNX ops it implements, for which opsets, for which element
 * types. Only ops Sprout's graphs can emit are listed; an op that is missing has no kernel on that provider.
 */
export type ElementType = 'float32' | 'float16' | 'bfloat16' | 'float64' | 'int64' | 'int32' | 'uint32' | 'int8' | 'uint8' | 'bool';

export interface KernelEntry {
  /** Opsets this registration covers, inclusive; `to` absent = this opset and later. */
  from: number;
  to?: number;
  /** The type constraint of each input by position ('' = not constrained here, e.g. a shape read on the host). */
  inputs: string[];
  /** The type constraint of each output, where an output's type is not fixed by the inputs' (Cast). */
  outputs?: string[];
  types: Record<string, ElementType[]>;
}

export interface KernelTable {
  provider: 'cuda' | 'webgpu';
  /** Where the list was read, and its version. */
  source: string;
  ops: Record<string, KernelEntry[]>;
}
