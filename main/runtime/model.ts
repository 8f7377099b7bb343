/**
 * The frozen T5 behind the PromptModel interface: builds the graphs for a checkpoint, with every weight an
 * ONNX external-data reference into the checkpoint's own safetensors file (offset and length, never copied into
 * the graph), and runs them with onnxruntime. Sessions are cached per (graph kind, prompt length).
 */
import { join } from 'node:path';
import { convertToF32 } from '../checkpoint/cast.js';
import { SproutError } from '../errors.js';
import { openCheckpoint, type Checkpoint } from '../checkpoint/checkpoint.js';
import { readTensorBytes } from '../checkpoint/safetensors.js';
import type { Graph } from '../graph/builder.js';
import { dataDir } from '../paths.js';
import { prepareWeights, type PrepareProgress, type StoredWeight, type WeightStore } from '../weights/store.js';
import { oneSessionGroupAtATime, type WeightsChoice, type WeightWidth } from '../weights/width.js';
import { buildDecodeStepGraph, buildEncodeGraph, buildScoreGraph, buildTrainGraph, FP16_LOSS_SCALE, type GraphKind, type PromptMode } from '../graph/t5/graphs.js';
import { bucketMatrix, causalMask } from '../graph/t5/position-buckets.js';
import { chooseProvider, PROVIDER_LABELS } from './providers-probe.js';
import { createSession, defaultThreads, floatTensor, int32Tensor, ort, type Feeds, type SessionOptions } from './session.js';
import type { DevicePreference, MixedPrompts, Precision, MixedTrainStepResult, PromptModel, ProviderName, Seq2SeqBatch, SoftPrompt, TrainStepOptions, TrainStepResult } from './types.js';

export interface LoadOptions {
  device?: DevicePreference;
  threads?: number;
  precision?: Precision;
  /** Width of the frozen weights; default float32 (the engine's reference), `auto` = autoWidth(provider). */
  weights?: WeightsChoice;
  /** Root of the weight conversion caches; default <data dir>/cache. */
  cacheDir?: string;
  onPrepare?: (p: PrepareProgress) => void;
}

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

export async function loadPromptModel(dir: string, options: LoadOptions = {}): Promise<T5PromptModel> {
  const checkpoint = await openCheckpoint(dir, { keepDtypes: true });
  const preference = options.device ?? 'auto';
  const choice = await chooseProvider(preference);
  const wanted = options.precision ?? 'auto';
  const precision = wanted === 'fp16' || (wanted === 'auto' && choice.provider !== 'cpu') ? 'fp16' : 'fp32';
  const weights = options.weights ?? 'fp32';
  const width = weights === 'auto' ? autoWidth(choice.provider) : weights;
  const store = prepareWeights(checkpoint, width, { cacheDir: options.cacheDir ?? join(dataDir(), 'cache'), onProgress: options.onPrepare });
  return new T5PromptModel(checkpoint, store, choice.provider, options.threads ?? defaultThreads(), { reason: choice.reason, forced: preference !== 'auto' }, precision);
}

/** A cached session and the kind of graph it runs, which decides its group. */
interface SessionEntry {
  kind: GraphKind;
  session: Promise<ort.InferenceSession>;
}

/** Graph kinds that run together: a training step; evaluation and labelling (scoring, greedy decoding). */
const GROUP: Record<GraphKind, 'train' | 'infer'> = { train: 'train', score: 'infer', encode: 'infer', decodeStep: 'infer' };

function describeProvider(provider: ProviderName, threads: number, precision: 'fp32' | 'fp16'): string {
  const device = provider === 'cpu' ? `CPU · ${threads} thread${threads === 1 ? '' : 's'}` : PROVIDER_LABELS[provider];
  return precision === 'fp16' ? `${device} · fp16 (static loss scale ${FP16_LOSS_SCALE})` : device;
}

function dropoutOn(options: TrainStepOptions): boolean {
  const rate = options.dropout ?? 0;
  if (!(rate >= 0 && rate < 1)) throw new RangeError(`dropout must be in [0, 1), got ${rate}`);
  return rate > 0;
}

/** z-loss always; the dropout rate and this step's mask seed only for graphs built with dropout. */
function trainOptionFeeds(options: TrainStepOptions): Feeds {
  const feeds: Feeds = { z_loss: floatTensor(new Float32Array([options.zLoss ?? 0]), []) };
  if (dropoutOn(options)) {
    feeds.dropout_rate = floatTensor(new Float32Array([options.dropout!]), []);
    feeds.dropout_seed = new ort.Tensor('int64', BigInt64Array.of(BigInt(Math.trunc(options.dropoutSeed ?? 0))), []);
  }
  return feeds;
}

function checkPrompt(p: SoftPrompt, d: number): void {
  if (p.data.length !== p.length * d) throw new RangeError(`prompt has ${p.data.length} values, expected ${p.length} × ${d}`);
}

export class T5PromptModel implements PromptModel {
  readonly config;
  readonly weightWidth: WeightWidth;
  /** Sessions by graph kind, prompt length, prompt mode and dropout. */
  private readonly sessions = new Map<string, SessionEntry>();
  private sharedWeight?: Float32Array;

  private currentProvider: ProviderName;
  private reason: string | null;
  private readonly forced: boolean;

  constructor(
    private readonly checkpoint: Checkpoint,
    /** Every weight's file lies in store.dir; onnxruntime resolves external data inside it and nowhere else. */
    private readonly store: WeightStore,
    provider: ProviderName,
    private readonly threads: number,
    choice: { reason: string | null; forced: boolean } = { reason: null, forced: true },
    readonly precision: 'fp32' | 'fp16' = 'fp32',
  ) {
    this.config = checkpoint.config;
    this.currentProvider = provider;
    this.reason = choice.reason;
    this.forced = choice.forced;
    this.weightWidth = store.width;
  }

  /** Bytes of the files the frozen weights are read from (the model's share of memory, near enough). */
  get weightBytes(): number {
    return this.store.bytes;
  }

  private weight = (name: string): StoredWeight => {
    const entry = this.store.weights.get(name);
    if (!entry) throw new Error(`checkpoint has no tensor ${name}`);
    return entry;
  };

  private session(kind: GraphKind, promptLength: number, mode: PromptMode = 'shared', dropout = false): Promise<ort.InferenceSession> {
    const key = `${kind}:${promptLength}:${mode}:${dropout}`;
    const cached = this.sessions.get(key);
    if (cached) return cached.session;
    const session = this.releaseOtherGroups(kind).then(() => this.createSession(key, kind, promptLength, mode, dropout));
    const entry: SessionEntry = { kind, session };
    this.sessions.set(key, entry);
    // Only this entry: once released, the key may already hold the session built after it.
    session.catch(() => this.sessions.get(key) === entry && this.sessions.delete(key));
    return session;
  }

  /**
   * Narrow weights are chosen to save memory, so their model keeps the sessions of one group at a time: a
   * training run's evaluation releases the train session and the next step builds it again. Each session maps
   * the weights itself (onnxruntime shares no initializers between sessions, and copies buffers handed to it),
   * so a train and a score session side by side count the model twice and hold two arenas (t5-large int8: 3.6 GB
   * peak RSS instead of 2.3). Callers run one graph at a time, so nothing released is in use.
   */
  private async releaseOtherGroups(kind: GraphKind): Promise<void> {
    if (!oneSessionGroupAtATime(this.store.width)) return;
    await this.release(([, entry]) => GROUP[entry.kind] !== GROUP[kind]);
  }

  get provider(): ProviderName {
    return this.currentProvider;
  }

  get providerDetail(): string {
    return describeProvider(this.currentProvider, this.threads, this.precision);
  }

  get providerReason(): string | null {
    return this.reason;
  }

  /**
   * A GPU provider that passed its probe can still refuse a real graph (memory, a kernel it lacks). With `auto`
   * the model then says so and runs every graph on the CPU; a forced device fails with the provider's reason.
   */
  private async createSession(key: string, kind: GraphKind, promptLength: number, mode: PromptMode, dropout: boolean): Promise<ort.InferenceSession> {
    const model = this.buildGraph(kind, promptLength, mode, dropout).encode();
    const provider = this.currentProvider;
    try {
      return await createSession(model, this.sessionOptions(provider));
    } catch (error) {
      if (provider === 'cpu') throw error;
      const why = `${PROVIDER_LABELS[provider]} could not create the ${kind} graph (${(error as Error).message.split('\n')[0]})`;
      if (this.forced) throw new SproutError('device-failed', `${why}.`, { hint: 'Use --device auto to fall back to the CPU, or --device cpu.' });
      this.currentProvider = 'cpu';
      this.reason = `${why}; running on the CPU`;
      // Every other session ran on the GPU: they go, and are built again on the CPU when next used. This one stays
      // in the map, so the CPU session made here is reused and released with the model.
      void this.release(([other]) => other !== key);
      return createSession(model, this.sessionOptions('cpu'));
    }
  }

  private sessionOptions(provider: ProviderName): SessionOptions {
    const narrow = this.store.width !== 'fp32';
    return {
      provider,
      threads: this.threads,
      externalDataDir: this.store.dir,
      // See main/graph/t5/weight-entry.ts: two Casts of one narrow weight must stay two transient buffers.
      // FuseFp16InitializerToFp32NodeTransformer would turn an fp16 weight and its Cast back into a float32
      // initializer (and crashes on weights that are also graph inputs).
      disabledOptimizers: narrow ? ['CommonSubexpressionElimination', 'FuseFp16InitializerToFp32NodeTransformer'] : [],
      // The planned block of the memory pattern came on top of the arena's own chunks: t5-base int8 training
      // peaked at 2.0 GB with it and 1.2 GB without.
      memPattern: !narrow,
      // Without onnxruntime's arena every transient buffer is a malloc of its own, and glibc's heap fragments:
      // t5-large int8 training peaked at 3.6 GB that way against 2.3 GB with the arena, and stepped slower.
    };
  }

  private buildGraph(kind: GraphKind, promptLength: number, mode: PromptMode, dropout: boolean): Graph {
    const cfg = this.config;
    const compute = this.precision === 'fp16' ? 'float16' : 'float32';
    switch (kind) {
      case 'train':
        return buildTrainGraph(cfg, this.weight, promptLength, mode, dropout, compute);
      case 'score':
        return buildScoreGraph(cfg, this.weight, promptLength, mode, compute);
      case 'encode':
        return buildEncodeGraph(cfg, this.weight, promptLength, compute);
      case 'decodeStep':
        return buildDecodeStepGraph(cfg, this.weight, compute);
    }
  }

  embeddings(ids: number[]): Float32Array {
    const d = this.config.dModel;
    this.sharedWeight ??= this.readF32('shared.weight');
    const out = new Float32Array(ids.length * d);
    ids.forEach((id, i) => {
      if (!Number.isInteger(id) || id < 0 || id >= this.config.vocabSize) throw new RangeError(`token id ${id} is outside the vocabulary`);
      out.set(this.sharedWeight!.subarray(id * d, (id + 1) * d), i * d);
    });
    return out;
  }

  /** A checkpoint tensor as float32, whatever its dtype in the file. */
  private readF32(name: string): Float32Array {
    const entry = this.checkpoint.tensors.get(name)!;
    const out = new Float32Array(entry.shape.reduce((a, b) => a * b, 1));
    convertToF32(entry.dtype, readTensorBytes(entry), out);
    return out;
  }

  /**
   * Encoder feeds. A shared prompt is one [P, d] input; mixed prompts become [B, P, d] with P the longest, each
   * left-padded with masked rows so that its own rows keep their positions relative to the text.
   */
  private encoderFeeds(prompt: SoftPrompt | MixedPrompts, inputs: number[][]): Feeds {
    const cfg = this.config;
    const d = cfg.dModel;
    const mixed = 'prompts' in prompt;
    const lengths = mixed ? inputs.map((_, b) => this.mixedPrompt(prompt, b).length) : inputs.map(() => prompt.length);
    const P = Math.max(0, ...lengths);
    const B = inputs.length;
    const L = Math.max(1, ...inputs.map((r) => r.length));
    const S = P + L;
    const ids = new Array<number>(B * L).fill(cfg.padTokenId);
    const mask = new Float32Array(B * S);
    inputs.forEach((row, b) => {
      row.forEach((id, i) => (ids[b * L + i] = id));
      for (let i = P - lengths[b]; i < P + row.length; i++) mask[b * S + i] = 1;
    });
    const feeds: Feeds = {
      input_ids: int32Tensor(ids, [B, L]),
      enc_mask: floatTensor(mask, [B, S]),
      enc_buckets: new ort.Tensor('int32', bucketMatrix(S, S, true, cfg.relativeAttentionNumBuckets, cfg.relativeAttentionMaxDistance), [S, S]),
    };
    if (P === 0) return feeds;
    if (!mixed) {
      checkPrompt(prompt, d);
      feeds.prompt = floatTensor(prompt.data, [P, d]);
      return feeds;
    }
    const data = new Float32Array(B * P * d);
    inputs.forEach((_, b) => {
      const p = this.mixedPrompt(prompt, b);
      checkPrompt(p, d);
      data.set(p.data, (b * P + P - p.length) * d);
    });
    feeds.prompt = floatTensor(data, [B, P, d]);
    return feeds;
  }

  private mixedPrompt(mixed: MixedPrompts, example: number): SoftPrompt {
    const p = mixed.prompts[mixed.promptIndex[example]];
    if (!p) throw new RangeError(`example ${example} names prompt ${mixed.promptIndex[example]}, but ${mixed.prompts.length} were given`);
    return p;
  }

  /** Decoder inputs for targets: start token then the targets shifted right; labels clamped with a 0/1 mask. */
  private decoderFeeds(targets: number[][]): Feeds {
    const cfg = this.config;
    const R = targets.length;
    const T = Math.max(1, ...targets.map((t) => t.length));
    const decIds = new Array<number>(R * T).fill(cfg.padTokenId);
    const labels = new Array<number>(R * T).fill(0);
    const mask = new Float32Array(R * T);
    targets.forEach((row, r) => {
      decIds[r * T] = cfg.decoderStartTokenId;
      row.forEach((id, t) => {
        labels[r * T + t] = id;
        mask[r * T + t] = 1;
        if (t + 1 < T) decIds[r * T + t + 1] = id;
      });
    });
    return {
      dec_ids: int32Tensor(decIds, [R, T]),
      labels: int32Tensor(labels, [R * T, 1]),
      label_mask: floatTensor(mask, [R, T]),
      ...this.decoderPositionFeeds(T),
    };
  }

  private decoderPositionFeeds(T: number): Feeds {
    const cfg = this.config;
    return {
      dec_buckets: new ort.Tensor('int32', bucketMatrix(T, T, false, cfg.relativeAttentionNumBuckets, cfg.relativeAttentionMaxDistance), [T, T]),
      causal: floatTensor(causalMask(T), [T, T]),
    };
  }

  async trainStep(prompt: SoftPrompt, batch: Seq2SeqBatch, options: TrainStepOptions = {}): Promise<TrainStepResult> {
    if (batch.inputs.length !== batch.targets.length) throw new RangeError('a batch needs one target per input');
    const session = await this.session('train', prompt.length, 'shared', dropoutOn(options));
    const out = await session.run({
      ...this.encoderFeeds(prompt, batch.inputs),
      ...this.decoderFeeds(batch.targets),
      ...trainOptionFeeds(options),
    });
    return {
      loss: (out.loss.data as Float32Array)[0],
      perExampleLoss: out.per_example_loss.data as Float32Array,
      targetTokens: batch.targets.reduce((n, t) => n + t.length, 0),
      gradPrompt: prompt.length > 0 ? (out.grad_prompt.data as Float32Array) : new Float32Array(0),
    };
  }

  async trainStepMixed(mixed: MixedPrompts, batch: Seq2SeqBatch, options: TrainStepOptions = {}): Promise<MixedTrainStepResult> {
    if (batch.inputs.length !== batch.targets.length || mixed.promptIndex.length !== batch.inputs.length) {
      throw new RangeError('a mixed batch needs one target and one prompt index per input');
    }
    const d = this.config.dModel;
    const P = Math.max(...mixed.promptIndex.map((_, b) => this.mixedPrompt(mixed, b).length));
    const session = await this.session('train', P, 'perExample', dropoutOn(options));
    const out = await session.run({
      ...this.encoderFeeds(mixed, batch.inputs),
      ...this.decoderFeeds(batch.targets),
      ...trainOptionFeeds(options),
    });
    const rows = out.grad_prompt.data as Float32Array; // [B, P, d]
    const gradPrompts = mixed.prompts.map((p) => new Float32Array(p.length * d));
    mixed.promptIndex.forEach((k, b) => {
      const p = mixed.prompts[k];
      const own = rows.subarray((b * P + P - p.length) * d, (b + 1) * P * d);
      const sum = gradPrompts[k];
      for (let i = 0; i < sum.length; i++) sum[i] += own[i];
    });
    return {
      loss: (out.loss.data as Float32Array)[0],
      perExampleLoss: out.per_example_loss.data as Float32Array,
      targetTokens: batch.targets.reduce((n, t) => n + t.length, 0),
      gradPrompts,
    };
  }

  async scoreMixed(mixed: MixedPrompts, inputs: number[][], candidates: number[][][]): Promise<Float32Array[]> {
    if (candidates.length !== inputs.length || mixed.promptIndex.length !== inputs.length) {
      throw new RangeError('a mixed batch needs one candidate list and one prompt index per input');
    }
    // Examples with fewer candidates are padded with a one-token dummy whose score is dropped below.
    const C = Math.max(...candidates.map((c) => c.length));
    const flat = candidates.flatMap((c) => [...c, ...new Array(C - c.length).fill([this.config.eosTokenId])]);
    const P = Math.max(...mixed.promptIndex.map((_, b) => this.mixedPrompt(mixed, b).length));
    const session = await this.session('score', P, 'perExample');
    const out = await session.run({ ...this.encoderFeeds(mixed, inputs), ...this.decoderFeeds(flat) });
    const scores = out.scores.data as Float32Array; // [B, C]
    return candidates.map((c, b) => scores.slice(b * C, b * C + c.length));
  }

  async score(prompt: SoftPrompt, inputs: number[][], candidates: number[][]): Promise<Float32Array> {
    const session = await this.session('score', prompt.length);
    const out = await session.run({ ...this.encoderFeeds(prompt, inputs), ...this.decoderFeeds(candidates) });
    return out.scores.data as Float32Array;
  }

  async encode(prompt: SoftPrompt, inputs: number[][]): Promise<{ hidden: Float32Array; dims: number[] }> {
    const session = await this.session('encode', prompt.length);
    const out = await session.run(this.encoderFeeds(prompt, inputs));
    return { hidden: out.encoder_hidden.data as Float32Array, dims: out.encoder_hidden.dims as number[] };
  }

  async generate(prompt: SoftPrompt, inputs: number[][], maxNewTokens: number): Promise<number[][]> {
    const cfg = this.config;
    const encoded = await this.session('encode', prompt.length).then((s) => s.run(this.encoderFeeds(prompt, inputs)));
    const step = await this.session('decodeStep', 0);
    const B = inputs.length;
    const sequences = inputs.map(() => [cfg.decoderStartTokenId]);
    const done = new Array<boolean>(B).fill(false);
    const encMask = this.encoderFeeds(prompt, inputs).enc_mask;
    for (let t = 0; t < maxNewTokens && done.includes(false); t++) {
      const T = t + 1;
      // Finished rows keep decoding pad tokens (as HF does) so the batch stays rectangular; they are cut below.
      const ids = sequences.flatMap((s) => s.slice(0, T).concat(new Array(T - Math.min(T, s.length)).fill(cfg.padTokenId)));
      const out = await step.run({
        encoder_hidden: encoded.encoder_hidden,
        enc_mask: encMask,
        dec_ids: int32Tensor(ids, [B, T]),
        ...this.decoderPositionFeeds(T),
      });
      const next = out.next_ids.data as BigInt64Array;
      for (let b = 0; b < B; b++) {
        if (done[b]) {
          sequences[b].push(cfg.padTokenId);
          continue;
        }
        const id = Number(next[b]);
        sequences[b].push(id);
        if (id === cfg.eosTokenId) done[b] = true;
      }
    }
    return sequences.map((s) => {
      const generated = s.slice(1);
      const eos = generated.indexOf(cfg.eosTokenId);
      return eos >= 0 ? generated.slice(0, eos + 1) : generated;
    });
  }

  async dispose(): Promise<void> {
    await this.release(() => true);
  }

  /** Forgets the sessions `which` picks and releases each once built (one that failed to build has nothing to release). */
  private async release(which: (entry: [string, SessionEntry]) => boolean): Promise<void> {
    const chosen = [...this.sessions].filter(which);
    for (const [key] of chosen) this.sessions.delete(key);
    await Promise.all(chosen.map(([, { session }]) => session.then((x) => x.release(), () => undefined)));
  }
}
