/**
 * Which weight width and compute precision a model runs at, given what the user asked for and the provider it got.
 * Kept apart from the model so that callers can ask before loading one (the doctor, a run's record of its width).
 */
import { SproutError } from '../errors.js';
import type { ComputeChoice, WeightsChoice, WeightWidth } from '../weights/width.js';
import { hasBf16Kernels, type ComputePrecision } from './precision.js';
import { chooseProvider, PROVIDER_LABELS } from './providers-probe.js';
import type { DevicePreference, Precision, ProviderName } from './types.js';

/**
 * The best width each device runs correctly. On the CPU that is bf16, measured (npm run bench -- sizes): t5-large
 * peaked at 3.8 GB in bf16 against 4.1 GB in int8 (int8's dequantisation holds two float32 copies of the weight in
 * use) and 8.0 GB in float32, bf16 stepped faster than int8, and it is ten times closer to float32. GPUs get fp16,
 * which every provider Casts and multiplies natively.
 */
export function autoWidth(provider: ProviderName): WeightWidth {
  return provider === 'cpu' ? 'bf16' : 'fp16';
}

/** The width a choice means on a device preference (probing providers for `auto`). */
export async function resolveWidth(choice: WeightsChoice, device: DevicePreference = 'auto'): Promise<WeightWidth> {
  return choice === 'auto' ? autoWidth((await chooseProvider(device)).provider) : choice;
}

/** The width a choice means on a provider already chosen; default float32, the engine's reference. */
export function widthOn(choice: WeightsChoice | undefined, provider: ProviderName): WeightWidth {
  const weights = choice ?? 'fp32';
  return weights === 'auto' ? autoWidth(provider) : weights;
}

/**
 * int8 compute runs onnxruntime's CPU integer kernels (which no GPU provider here registers): on a GPU it would move
 * every product to the CPU and back, so it is refused there.
 */
export function requireComputeOn(compute: ComputeChoice, provider: ProviderName): void {
  if (compute === 'int8' && provider !== 'cpu') {
    throw new SproutError(
      'compute-unsupported',
      `int8 compute runs on the CPU, but this model would run on ${PROVIDER_LABELS[provider]}.`,
      {
        hint: 'On a GPU use --precision fp16 or bf16 instead, or add --device cpu.',
        uiHint: 'On a GPU choose float compute (the precision does the rest), or the CPU as the device.',
      },
    );
  }
}

/**
 * Compute precision (main/runtime/precision.ts): `auto` is fp32 on the CPU, bf16 where the provider has the
 * kernels (CUDA), else fp16. An explicit bf16 must be runnable on the provider.
 */
export function precisionOn(wanted: Precision | undefined, provider: ProviderName): ComputePrecision {
  const precision = wanted ?? 'auto';
  if (precision === 'auto') return provider === 'cpu' ? 'fp32' : hasBf16Kernels(provider) ? 'bf16' : 'fp16';
  if (precision === 'bf16' && !hasBf16Kernels(provider)) {
    throw new SproutError(
      'precision-unsupported',
      `bf16 compute needs bfloat16 matrix kernels, which ${PROVIDER_LABELS[provider]} does not have (CUDA does).`,
      {
        hint: 'Use --precision fp16 or fp32 here, or --device cuda on an NVIDIA GPU.',
        uiHint: 'Choose fp16 or fp32 as the precision, or a CUDA GPU as the device.',
      },
    );
  }
  return precision;
}
