/**
 * Compute precisions: the dtype each runs the graphs in, which providers can run bf16, and the error for a number
 * that did not survive one. bf16 has float32's range, so it needs no loss scale and cannot overflow where float32
 * does not; it runs only where the provider registers bfloat16 kernels for the matrix products (CUDA, by
 * main/runtime/kernels/; the placement test checks that every other op of the bf16 graphs has one too).
 * onnxruntime's CPU provider has none (it refuses a bfloat16 MatMul or Add), WebGPU's number types have no
 * bfloat16, and DirectML and Core ML are not described here, so they get fp16.
 */
import { SproutError } from '../errors.js';
import type { Compute } from '../graph/t5/graphs.js';
import { KERNEL_TABLES } from './placement.js';
import type { Precision, ProviderName } from './types.js';

export type ComputePrecision = Exclude<Precision, 'auto'>;

export const COMPUTE_DTYPE: Record<ComputePrecision, Compute> = { fp32: 'float32', fp16: 'float16', bf16: 'bfloat16' };

/**
 * The loss scale of a float16 step whose caller does not move it (and where training starts): 1024 kept every
 * gradient of the fixtures and of 200 mini-t5-pretrained CoLA steps finite and above float16's subnormals.
 */
export const DEFAULT_LOSS_SCALE = 1024;

/** Whether the provider's registrations multiply in bfloat16 (MatMul and Gemm, the ops that carry the cost). */
export function hasBf16Kernels(provider: ProviderName): boolean {
  const table = (KERNEL_TABLES as Partial<Record<ProviderName, (typeof KERNEL_TABLES)[keyof typeof KERNEL_TABLES]>>)[provider];
  return (
    !!table &&
    ['MatMul', 'Gemm'].every((opType) => table.ops[opType]?.some((e) => Object.values(e.types).some((types) => types.includes('bfloat16'))))
  );
}

/**
 * The error for a loss, score, hidden state or gradient that is NaN or infinite: it names the precision and what
 * to do, instead of reaching the user as `null` or a prompt trained on NaN.
 */
export function nonFiniteError(what: string, precision: ComputePrecision): SproutError {
  const why = {
    fp16: "float16 cannot hold this model's activations (its largest value is 65,504)",
    bf16: "bfloat16 rounded this model's numbers too coarsely",
    fp32: 'the model overflowed even in float32: its weights or the prompt hold extreme values',
  }[precision];
  const hint = {
    fp16: ['Use --precision fp32, or --precision bf16 on a CUDA GPU.', 'Choose fp32 as the precision (or bf16 on a CUDA GPU).'],
    bf16: ['Use --precision fp32.', 'Choose fp32 as the precision.'],
    fp32: [
      'Check the checkpoint with `sprout model verify`, and start from a fresh prompt or a lower learning rate.',
      'Check the model in Models, and start from a fresh prompt or a lower learning rate.',
    ],
  }[precision];
  return new SproutError('non-finite', `The ${what} is not finite (NaN or infinity) at ${precision} compute: ${why}.`, {
    hint: hint[0],
    uiHint: hint[1],
  });
}

export function allFinite(values: ArrayLike<number>): boolean {
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return false;
  return true;
}

/** Throws nonFiniteError unless every value is finite. */
export function requireFinite(values: ArrayLike<number>, what: string, precision: ComputePrecision): void {
  if (!allFinite(values)) throw nonFiniteError(what, precision);
}
