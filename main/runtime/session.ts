import * as ort from 'onnxruntime-node';
import { availableParallelism } from 'node:os';
import type { ProviderName } from './types.js';

// Sprout reports every failure itself (a missing provider becomes a "skipped" reason); onnxruntime's own log
// would print the same failures as alarming errors. SPROUT_ORT_LOG=verbose|info|warning|error brings it back.
ort.env.logLevel = (process.env.SPROUT_ORT_LOG as typeof ort.env.logLevel) ?? 'fatal';

export type Feeds = Record<string, ort.Tensor>;
export type TensorData = Float32Array | Float64Array | BigInt64Array | Uint8Array;
export { ort };

export interface SessionOptions {
  provider?: ProviderName;
  threads?: number;
  /** Only the provider itself, without CPU fallback for the nodes it cannot run (for probing). */
  strict?: boolean;
  /** Folder in which the graph's external data (weights files) are resolved. */
  externalDataDir?: string;
  /** Graph optimisers to leave out, by onnxruntime's name (e.g. CommonSubexpressionElimination). */
  disabledOptimizers?: string[];
  /** Pre-pack the frozen weights of the matrix products once (off by default; SPROUT_PREPACK=1 forces it on). */
  prepack?: boolean;
}

/** Physical cores are what matmul-bound work scales with; hyperthreads only add contention. */
export function defaultThreads(): number {
  const logical = availableParallelism();
  return Math.max(1, logical >= 4 ? Math.floor(logical / 2) : logical);
}

const providerIds: Record<ProviderName, string> = { cuda: 'cuda', dml: 'dml', coreml: 'coreml', webgpu: 'webgpu', cpu: 'cpu' };

/** Creates an onnxruntime session from a model file (external data resolved beside it) or from bytes. */
export async function createSession(model: string | Uint8Array, options: SessionOptions = {}): Promise<ort.InferenceSession> {
  const provider = options.provider ?? 'cpu';
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    executionProviders: provider === 'cpu' || options.strict ? [providerIds[provider]] : [providerIds[provider], 'cpu'],
    graphOptimizationLevel: 'all',
    // onnxruntime's memory pattern plans one block for a run's intermediate values from an earlier run of the same
    // input shapes, and traces every run to plan it. Sprout's shapes change with nearly every call (a batch is
    // padded to its own longest row), so the trace was paid and the plan rarely used, and the planned block came
    // on top of the arena's chunks. Measured without it (alternating in one process, every batch a new shape):
    // mini-t5-instruct topic-shaped train steps, five runs of 120: the mean 1.5–6 % lower, the median 2 % lower in
    // four (1 % higher in one), and no 410–550 ms step, which each run with the pattern had once; scoring and t5-small
    // steps (2 threads) within 2 % either way, a batch shape repeated every step within 3 %. Peak RSS, float32
    // training (npm run bench -- sizes): t5-base 2.3 GB against 2.6, t5-large 6.8 GB against 7.3; t5-base int8
    // training 1.2 GB against 2.0 when narrow weights dropped it first.
    enableMemPattern: false,
    intraOpNumThreads: options.threads ?? defaultThreads(),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // A probe expects providers to be missing; onnxruntime would print each failure as an error.
    ...(options.strict ? { logSeverityLevel: 4 as const } : {}),
    extra: {
      session: {
        // Pre-packing keeps a second, packed copy of every frozen weight beside the original (which the backward
        // MatMuls still read): twice the checkpoint in memory for a few percent of speed, so it is asked for.
        disable_prepacking: options.prepack || process.env.SPROUT_PREPACK === '1' ? '0' : '1',
        // Each session has its own pool of threads, which by default keep spinning for a while after a run returns
        // (about 25 ms of CPU per run here). A model's sessions take turns — greedy decoding alternates the encoder
        // and the decoder step, an evaluation round adds scoring — so the idle pools spun on the cores the working
        // one needed: an evaluation round took 1.8× as long on mini-t5-instruct's shape and 4–7 % longer on
        // t5-small's (2 threads, `npm run bench -- evaluation`). Spinning within a run, where it pays, is kept.
        force_spinning_stop: '1',
        ...(options.externalDataDir ? { model_external_initializers_file_folder_path: options.externalDataDir } : {}),
      },
      ...(options.disabledOptimizers?.length
        ? { optimization: { disable_specified_optimizers: options.disabledOptimizers.join(';') } }
        : {}),
    },
  };
  return typeof model === 'string'
    ? ort.InferenceSession.create(model, sessionOptions)
    : ort.InferenceSession.create(model, sessionOptions);
}

export function floatTensor(data: Float32Array | Float64Array, dims: number[]): ort.Tensor {
  return new ort.Tensor(data instanceof Float32Array ? 'float32' : 'float64', data, dims);
}

export function int32Tensor(values: ArrayLike<number>, dims: number[]): ort.Tensor {
  return new ort.Tensor('int32', Int32Array.from(values), dims);
}
