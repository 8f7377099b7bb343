import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SproutError } from '../errors.js';
import { Graph } from '../graph/builder.js';
import * as op from '../graph/ops.js';
import { probeInChild, resolveOrt, summariseNativeOutput, tidyReason } from './probe-child.js';
import { listProviders } from './providers.js';
import { createSession, floatTensor, ort } from './session.js';
import type { DevicePreference, ProviderName } from './types.js';

/** The GPU providers `auto` and `gpu` try on this platform, best first; DirectML and Core ML exist only on theirs. */
export function gpuProviders(platform: NodeJS.Platform = process.platform): ProviderName[] {
  return ['cuda', ...(platform === 'win32' ? ['dml' as const] : []), ...(platform === 'darwin' ? ['coreml' as const] : []), 'webgpu'];
}

/** The order `auto` tries: GPUs first, CPU always last (and always works). */
export const PROVIDER_ORDER: ProviderName[] = [...gpuProviders(), 'cpu'];

export const PROVIDER_LABELS: Record<ProviderName, string> = {
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'Core ML',
  webgpu: 'WebGPU',
  cpu: 'CPU',
};

/** A small graph with the op kinds T5 leans on, whose result is known, to prove a provider really runs. */
function probeGraph(): Uint8Array {
  const g = new Graph('sprout_probe');
  const x = g.input('x', 'float32', [2, 3]);
  const w = g.constant([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1], 'float32', [4, 3]);
  g.output(op.softmax(op.linear(x, w)), 'y');
  return g.encode();
}

function probeOk(y: ArrayLike<number>): boolean {
  // x = [[1,2,3],[0,0,0]] -> logits [[1,2,3,6],[0,0,0,0]]
  const e = [1, 2, 3, 6].map(Math.exp);
  const sum = e.reduce((a, b) => a + b, 0);
  const expected = [...e.map((v) => v / sum), 0.25, 0.25, 0.25, 0.25];
  return expected.every((v, i) => Math.abs(v - y[i]) < 1e-4);
}

export interface ProviderChoice {
  provider: ProviderName;
  /** Why each provider tried before it was passed over. */
  skipped: { provider: ProviderName; reason: string }[];
  /** One sentence on why this provider and not a better one; null when the first choice works. */
  reason: string | null;
}

const cache = new Map<DevicePreference, Promise<ProviderChoice>>();

/** Picks the first provider that creates a session and computes the probe correctly; a forced one must work. */
export function chooseProvider(preference: DevicePreference = 'auto'): Promise<ProviderChoice> {
  let choice = cache.get(preference);
  if (!choice) {
    choice = probeProviders(preference);
    cache.set(preference, choice);
  }
  return choice;
}

/** The provider libraries onnxruntime-node loads for CUDA, beside its own core library. */
export function cudaLibraryPresent(): boolean {
  const pkg = dirname(resolveOrt('onnxruntime-node/package.json'));
  const dir = join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  return existsSync(join(dir, process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so'));
}

/** Why a provider cannot be tried here at all, without loading it; null when it is worth a probe. */
function unavailableReason(provider: ProviderName): string | null {
  const listed = listProviders().providers.find((p) => p.name === provider);
  if (!listed) return 'not part of this onnxruntime-node build';
  if (provider === 'cuda' && !cudaLibraryPresent()) return 'its provider libraries are not installed (README: Using a GPU)';
  return null;
}

/** CPU runs in this process; a GPU provider is probed in a child process (see probe-child.ts). */
async function probe(provider: ProviderName, model: Uint8Array): Promise<string | null> {
  if (provider === 'cpu') {
    const session = await createSession(model, { provider, threads: 1, strict: true });
    const out = await session.run({ x: floatTensor(new Float32Array([1, 2, 3, 0, 0, 0]), [2, 3]) });
    await session.release();
    return probeOk(out.y.data as Float32Array) ? null : 'computed a wrong result on the probe graph';
  }
  const unavailable = unavailableReason(provider);
  if (unavailable) return unavailable;
  const result = await probeInChild(provider, model);
  if (result.ok) return probeOk(result.y) ? null : 'computed a wrong result on the probe graph';
  const reason = tidyReason(result.reason);
  const native = summariseNativeOutput(result.stderr);
  return native && !reason.includes(native) ? `${reason} (${native})` : reason;
}

function candidates(preference: DevicePreference): ProviderName[] {
  if (preference === 'auto') return PROVIDER_ORDER;
  if (preference === 'gpu') return gpuProviders();
  return [preference];
}

async function probeProviders(preference: DevicePreference): Promise<ProviderChoice> {
  const skipped: ProviderChoice['skipped'] = [];
  const model = probeGraph();
  for (const provider of candidates(preference)) {
    let failure: string | null;
    try {
      failure = await probe(provider, model);
    } catch (error) {
      failure = (error as Error).message.split('\n')[0];
    }
    if (failure === null) return { provider, skipped, reason: choiceReason(provider, skipped) };
    skipped.push({ provider, reason: failure });
  }
  const reasons = skipped.map((s) => `${PROVIDER_LABELS[s.provider]}: ${s.reason}`).join('; ');
  if (preference === 'gpu') {
    throw new SproutError('no-gpu', `No GPU execution provider works on this machine (${reasons}).`, {
      hint: 'Use --device cpu (or auto, which falls back to the CPU), or install a GPU provider as README "Using a GPU" says.',
    });
  }
  throw new SproutError(
    'device-unavailable',
    `The ${preference === 'auto' ? 'execution providers' : PROVIDER_LABELS[preference as ProviderName]} could not run here (${reasons}).`,
    {
      hint: 'Use --device auto to take the best provider that works, or --device cpu.',
    },
  );
}

function choiceReason(provider: ProviderName, skipped: ProviderChoice['skipped']): string | null {
  if (skipped.length === 0) return null;
  const why = skipped.map((s) => `${PROVIDER_LABELS[s.provider]}: ${s.reason}`).join('; ');
  return provider === 'cpu' ? `no GPU provider works here (${why})` : `passed over ${why}`;
}

export { ort };
