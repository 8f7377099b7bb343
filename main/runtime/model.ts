/**
 * The frozen T5 behind the PromptModel interface: builds the graphs for a checkpoint, with every weight an
 * ONNX external-data reference into the checkpoint's own safetensors file (offset and length, never copied into
 * the graph), and runs them with onnxruntime. Its parts: width-policy.ts (which width and precision),
 * session-cache.ts (one session per graph, the provider they run on), feeds.ts (ids and prompts to tensors),
 * greedy.ts (decoding).
 */
import { join } from 'node:path';
import { convertToF32 } from '../checkpoint/cast.js';
import { openCheckpoint, type Checkpoint } from '../checkpoint/checkpoint.js';
import { readTensorBytes } from '../checkpoint/safetensors.js';
import type { Graph } from '../graph/builder.js';
import {
  buildDecodeStepGraph,
  buildEncodeGraph,
  buildScoreGraph,
  buildTrainGraph,
  usesLossScale,
  type PromptMode,
} from '../graph/t5/graphs.js';
import { dataDir } from '../paths.js';
import { prepareWeights, type PrepareProgress, type StoredWeight, type WeightStore } from '../weights/store.js';
import type { ComputeChoice, WeightsChoice, WeightWidth } from '../weights/width.js';
import {
  decoderFeeds,
  dropoutOn,
  encoderFeeds,
  gradientsPerPrompt,
  mixedPromptLength,
  packedRowFeeds,
  padCandidates,
  trainOptionFeeds,
} from './feeds.js';
import { greedyDecode, type Encoded } from './greedy.js';
import { allFinite, COMPUTE_DTYPE, nonFiniteError, requireFinite, type ComputePrecision } from './precision.js';
import { chooseProvider, PROVIDER_LABELS } from './providers-probe.js';
import { SessionCache, type GraphKey, type ProviderChoice } from './session-cache.js';
import { defaultThreads, type Feeds, type ort } from './session.js';
import type {
  DevicePreference,
  MixedPrompts,
  Precision,
  MixedTrainStepResult,
  PromptModel,
  ScoredAndGenerated,
  ProviderName,
  Seq2SeqBatch,
  SoftPrompt,
  TrainStepOptions,
  TrainStepResult,
} from './types.js';
import { precisionOn, requireComputeOn, widthOn } from './width-policy.js';
import { counted } from '../wording.js';

export interface LoadOptions {
  device?: DevicePreference;
  threads?: number;
  precision?: Precision;
  /** Width of the frozen weights; default float32 (the engine's reference), `auto` = autoWidth(provider). */
  weights?: WeightsChoice;
  /** Root of the weight conversion caches; default <data dir>/cache. */
  cacheDir?: string;
  /** int8: scoring multiplies with int8 products (label, evaluate; CPU only; see ComputeChoice). Default float. */
  compute?: ComputeChoice;
  onPrepare?: (p: PrepareProgress) => void;
}

export async function loadPromptModel(dir: string, options: LoadOptions = {}): Promise<T5PromptModel> {
  const checkpoint = await openCheckpoint(dir, { keepDtypes: true });
  const preference = options.device ?? 'auto';
  // int8 compute is the CPU's (requireComputeOn): `auto` means the CPU for it, a GPU named is refused.
  const cpuForInt8 = options.compute === 'int8' && preference === 'auto';
  const choice = await chooseProvider(cpuForInt8 ? 'cpu' : preference);
  const width = widthOn(options.weights, choice.provider);
  requireComputeOn(options.compute ?? 'float', choice.provider);
  const store = prepareWeights(
    checkpoint,
    width,
    { cacheDir: options.cacheDir ?? join(dataDir(), 'cache'), onProgress: options.onPrepare },
    options.compute,
  );
  const provider = { reason: cpuForInt8 ? 'int8 compute runs on the CPU' : choice.reason, forced: preference !== 'auto' };
  return new T5PromptModel(
    checkpoint,
    store,
    choice.provider,
    options.threads ?? defaultThreads(),
    provider,
    precisionOn(options.precision, choice.provider),
  );
}

function describeProvider(provider: ProviderName, threads: number, precision: ComputePrecision): string {
  const device = provider === 'cpu' ? `CPU · ${counted(threads, 'thread')}` : PROVIDER_LABELS[provider];
  return precision === 'fp32' ? device : `${device} · ${precision}`;
}

function targetTokens(batch: Seq2SeqBatch): number {
  return batch.targets.reduce((n, t) => n + t.length, 0);
}

export class T5PromptModel implements PromptModel {
  readonly config;
  readonly weightWidth: WeightWidth;
  private readonly sessions: SessionCache;
  private sharedWeight?: Float32Array;

  constructor(
    private readonly checkpoint: Checkpoint,
    private readonly store: WeightStore,
    provider: ProviderName,
    private readonly threads: number,
    choice: ProviderChoice = { reason: null, forced: true },
    /** What the caller asked for, resolved on the first provider; see `precision`. */
    private readonly requestedPrecision: ComputePrecision = 'fp32',
  ) {
    this.config = checkpoint.config;
    this.weightWidth = store.width;
    this.sessions = new SessionCache((key) => this.buildGraph(key), store, provider, threads, choice);
  }

  /** How scoring multiplies by the weights (int8: integer products; see ComputeChoice). */
  get compute(): ComputeChoice {
    return this.store.compute;
  }

  /** Bytes of the files the frozen weights are read from (the model's share of memory, near enough). */
  get weightBytes(): number {
    return this.store.bytes;
  }

  get provider(): ProviderName {
    return this.sessions.provider;
  }

  /** The requested precision, or fp32 after a fall back to the CPU, which has no bfloat16 kernels. */
  get precision(): ComputePrecision {
    return this.requestedPrecision === 'bf16' && this.sessions.provider === 'cpu' ? 'fp32' : this.requestedPrecision;
  }

  get providerDetail(): string {
    return describeProvider(this.sessions.provider, this.threads, this.precision);
  }

  get providerReason(): string | null {
    const reason = this.sessions.reason;
    return reason && this.precision !== this.requestedPrecision ? `${reason}, at ${this.precision}` : reason;
  }

  private weight = (name: string): StoredWeight => {
    const entry = this.store.weights.get(name);
    if (!entry) throw new Error(`checkpoint has no tensor ${name}`);
    return entry;
  };

  private buildGraph({ kind, promptLength, mode, dropout, packed }: GraphKey): Graph {
    const cfg = this.config;
    const compute = COMPUTE_DTYPE[this.precision];
    // After a GPU refuses a graph the provider is the CPU, and the graph is built again for it (see SessionCache).
    const target = this.sessions.provider === 'cpu' ? 'cpu' : 'any';
    switch (kind) {
      case 'train':
        return buildTrainGraph(cfg, this.weight, promptLength, mode, dropout, compute, packed, target);
      case 'score':
        return buildScoreGraph(cfg, this.weight, promptLength, mode, compute, target);
      case 'encode':
        return buildEncodeGraph(cfg, this.weight, promptLength, compute, target);
      case 'decodeStep':
        return buildDecodeStepGraph(cfg, this.weight, compute, target);
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
   * A batch's train session and the feeds that pack its rows (null: it runs unpacked). Once the packed graph is
   * built it takes every later batch, little padding or not: each session holds its own copy of the weights (see
   * SessionCache), and a run whose batches fall on both sides of PACK_MIN_PADDING would otherwise keep two.
   */
  private async trainSession(promptLength: number, mode: PromptMode, dropout: boolean, mask: ort.Tensor) {
    const packedBuilt = this.sessions.has({ kind: 'train', promptLength, mode, dropout, packed: true });
    const packing = packedRowFeeds(mask, packedBuilt);
    return { session: await this.sessions.get('train', promptLength, mode, dropout, packing !== null), packing };
  }

  /** One train batch through its session: the encoder feeds as given (one shared prompt, or one per example). */
  private async runTrain(promptLength: number, mode: PromptMode, encoder: Feeds, batch: Seq2SeqBatch, options: TrainStepOptions) {
    const { session, packing } = await this.trainSession(promptLength, mode, dropoutOn(options), encoder.enc_mask);
    const out = await session.run({
      ...encoder,
      ...packing,
      ...decoderFeeds(this.config, batch.targets),
      ...trainOptionFeeds(options, this.precision),
    });
    const loss = (out.loss.data as Float32Array)[0];
    return { grads: out.grad_prompt?.data as Float32Array | undefined, loss, perExampleLoss: out.per_example_loss.data as Float32Array };
  }

  async trainStep(prompt: SoftPrompt, batch: Seq2SeqBatch, options: TrainStepOptions = {}): Promise<TrainStepResult> {
    if (batch.inputs.length !== batch.targets.length) throw new RangeError('a batch needs one target per input');
    const { grads, ...run } = await this.runTrain(prompt.length, 'shared', encoderFeeds(this.config, prompt, batch.inputs), batch, options);
    const gradPrompt = prompt.length > 0 ? grads! : new Float32Array(0);
    return { ...run, targetTokens: targetTokens(batch), gradPrompt, ...this.overflow(run.loss, gradPrompt, options) };
  }

  /**
   * A loss that is not finite is an error at any loss scale: the forward pass itself overflowed. A gradient that
   * is not finite is the caller's to handle where it moves the loss scale (see TrainStepOptions.lossScale), else
   * an error too.
   */
  private overflow(loss: number, grad: Float32Array, options: TrainStepOptions): { overflow?: true } {
    requireFinite([loss], 'training loss', this.precision);
    if (allFinite(grad)) return {};
    if (options.lossScale !== undefined && usesLossScale(COMPUTE_DTYPE[this.precision])) return { overflow: true };
    throw nonFiniteError('prompt gradient', this.precision);
  }

  async trainStepMixed(mixed: MixedPrompts, batch: Seq2SeqBatch, options: TrainStepOptions = {}): Promise<MixedTrainStepResult> {
    if (batch.inputs.length !== batch.targets.length || mixed.promptIndex.length !== batch.inputs.length) {
      throw new RangeError('a mixed batch needs one target and one prompt index per input');
    }
    const P = mixedPromptLength(mixed);
    const { grads, ...run } = await this.runTrain(P, 'perExample', encoderFeeds(this.config, mixed, batch.inputs), batch, options);
    const gradPrompts = gradientsPerPrompt(mixed, grads!, P, this.config.dModel);
    return { ...run, targetTokens: targetTokens(batch), gradPrompts, ...this.overflow(run.loss, grads!, options) };
  }

  async scoreMixed(mixed: MixedPrompts, inputs: number[][], candidates: number[][][]): Promise<Float32Array[]> {
    if (candidates.length !== inputs.length || mixed.promptIndex.length !== inputs.length) {
      throw new RangeError('a mixed batch needs one candidate list and one prompt index per input');
    }
    const { flat, width } = padCandidates(this.config, candidates);
    const session = await this.sessions.get('score', mixedPromptLength(mixed), 'perExample');
    const out = await session.run({ ...encoderFeeds(this.config, mixed, inputs), ...decoderFeeds(this.config, flat) });
    const scores = out.scores.data as Float32Array; // [B, C]
    requireFinite(scores, 'rank score', this.precision);
    return candidates.map((c, b) => scores.slice(b * width, b * width + c.length));
  }

  async score(prompt: SoftPrompt, inputs: number[][], candidates: number[][]): Promise<Float32Array> {
    return (await this.runScore(prompt, inputs, candidates, ['scores'])).scores;
  }

  async scoreAndGenerate(
    prompt: SoftPrompt,
    inputs: number[][],
    candidates: number[][],
    maxNewTokens: number,
  ): Promise<ScoredAndGenerated> {
    const { scores, out, feeds } = await this.runScore(prompt, inputs, candidates, ['scores', 'encoder_hidden']);
    return { scores, generated: await this.decode({ hidden: out.encoder_hidden, mask: feeds.enc_mask }, maxNewTokens) };
  }

  /** One run of the score graph, fetching `fetches` only: scores [B * C], checked finite, the outputs and the encoder feeds. */
  private async runScore(prompt: SoftPrompt, inputs: number[][], candidates: number[][], fetches: string[]) {
    const session = await this.sessions.get('score', prompt.length);
    const feeds = encoderFeeds(this.config, prompt, inputs);
    const out = await session.run({ ...feeds, ...decoderFeeds(this.config, candidates) }, fetches);
    const scores = out.scores.data as Float32Array;
    requireFinite(scores, 'rank score', this.precision);
    return { scores, out, feeds };
  }

  async encode(prompt: SoftPrompt, inputs: number[][]): Promise<{ hidden: Float32Array; dims: number[] }> {
    const { hidden } = await this.runEncode(prompt, inputs);
    requireFinite(hidden.data as Float32Array, 'encoder output', this.precision);
    return { hidden: hidden.data as Float32Array, dims: hidden.dims as number[] };
  }

  async generate(prompt: SoftPrompt, inputs: number[][], maxNewTokens: number): Promise<number[][]> {
    return this.decode(await this.runEncode(prompt, inputs), maxNewTokens);
  }

  /** One run of the encode graph: its output and the enc_mask it ran with, as greedy decoding takes them. */
  private async runEncode(prompt: SoftPrompt, inputs: number[][]): Promise<Encoded> {
    const session = await this.sessions.get('encode', prompt.length);
    const feeds = encoderFeeds(this.config, prompt, inputs);
    const out = await session.run(feeds);
    return { hidden: out.encoder_hidden, mask: feeds.enc_mask };
  }

  private async decode(encoded: Encoded, maxNewTokens: number): Promise<number[][]> {
    return greedyDecode(this.config, encoded, await this.sessions.get('decodeStep', 0), maxNewTokens, this.precision);
  }

  async dispose(): Promise<void> {
    await this.sessions.dispose();
  }
}
