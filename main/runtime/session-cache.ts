/**
 * The onnxruntime sessions of one model, built on first use and cached per graph (kind, prompt length, prompt
 * mode, dropout, packing). The cache also owns the provider they run on, because a GPU that refuses a graph moves every
 * session to the CPU.
 */
import type { Graph } from '../graph/builder.js';
import type { GraphKind, PromptMode } from '../graph/t5/graphs.js';
import { SproutError } from '../errors.js';
import type { WeightStore } from '../weights/store.js';
import { oneSessionGroupAtATime } from '../weights/width.js';
import { PROVIDER_LABELS } from './providers-probe.js';
import { createSession, type ort, type SessionOptions } from './session.js';
import type { ProviderName } from './types.js';

/** What tells one cached graph from another. */
export interface GraphKey {
  kind: GraphKind;
  promptLength: number;
  mode: PromptMode;
  dropout: boolean;
  /** A train graph that runs the encoder on the batch's real rows only (runtime/feeds.ts packedRowFeeds decides). */
  packed: boolean;
}

/** A cached session and the kind of graph it runs, which decides its group. */
interface SessionEntry {
  kind: GraphKind;
  session: Promise<ort.InferenceSession>;
}

/** Graph kinds that run together: a training step; evaluation and labelling (scoring, greedy decoding). */
const GROUP: Record<GraphKind, 'train' | 'infer'> = { train: 'train', score: 'infer', encode: 'infer', decodeStep: 'infer' };

/**
 * Weights up to this size are pre-packed for the CPU's matrix products: the packed copy costs at most this much
 * memory, and on a small model a step is spent largely in products whose packing is otherwise redone every call
 * (mini-t5-instruct, 40 MB, topic batch of 32 on 1 thread: 3.6 % less CPU per step, paired in one process).
 */
export const PREPACK_MAX_BYTES = 64 * 2 ** 20;

/** How the provider was chosen: why not a better one, and whether the user named it (then no fallback). */
export interface ProviderChoice {
  reason: string | null;
  forced: boolean;
}

function keyOf({ kind, promptLength, mode, dropout, packed }: GraphKey): string {
  return `${kind}:${promptLength}:${mode}:${dropout}:${packed}`;
}

export class SessionCache {
  private readonly sessions = new Map<string, SessionEntry>();
  private currentProvider: ProviderName;
  private currentReason: string | null;

  constructor(
    private readonly build: (key: GraphKey) => Graph,
    /** Every weight's file lies in store.dir; onnxruntime resolves external data inside it and nowhere else. */
    private readonly store: WeightStore,
    provider: ProviderName,
    private readonly threads: number,
    private readonly choice: ProviderChoice,
  ) {
    this.currentProvider = provider;
    this.currentReason = choice.reason;
  }

  get provider(): ProviderName {
    return this.currentProvider;
  }

  get reason(): string | null {
    return this.currentReason;
  }

  /** Whether the session of this graph is built or being built. */
  has(graph: GraphKey): boolean {
    return this.sessions.has(keyOf(graph));
  }

  get(kind: GraphKind, promptLength: number, mode: PromptMode = 'shared', dropout = false, packed = false): Promise<ort.InferenceSession> {
    const graph = { kind, promptLength, mode, dropout, packed };
    const key = keyOf(graph);
    const cached = this.sessions.get(key);
    if (cached) return cached.session;
    // The packed train graph replaces the unpacked one (the model then packs every batch: see T5PromptModel.trainSession).
    const unpacked = keyOf({ ...graph, packed: false });
    const session = this.releaseOtherGroups(kind)
      .then(() => (packed ? this.release(([other]) => other === unpacked) : undefined))
      .then(() => this.create(key, graph));
    const entry: SessionEntry = { kind, session };
    this.sessions.set(key, entry);
    // Only this entry: once released, the key may already hold the session built after it.
    session.catch(() => this.sessions.get(key) === entry && this.sessions.delete(key));
    return session;
  }

  async dispose(): Promise<void> {
    await this.release(() => true);
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

  /**
   * A GPU provider that passed its probe can still refuse a real graph (memory, a kernel it lacks). With `auto`
   * the model then says so and runs every graph on the CPU; a forced device fails with the provider's reason.
   */
  private async create(key: string, graph: GraphKey): Promise<ort.InferenceSession> {
    const model = this.build(graph).encode();
    const provider = this.currentProvider;
    try {
      return await createSession(model, this.sessionOptions(provider));
    } catch (error) {
      if (provider === 'cpu') throw error;
      const why = `${PROVIDER_LABELS[provider]} could not create the ${graph.kind} graph (${(error as Error).message.split('\n')[0]})`;
      if (this.choice.forced)
        throw new SproutError('device-failed', `${why}.`, { hint: 'Use --device auto to fall back to the CPU, or --device cpu.' });
      this.currentProvider = 'cpu';
      this.currentReason = `${why}; running on the CPU`;
      // Every other session ran on the GPU: they go, and are built again on the CPU when next used. This one stays
      // in the map, so the CPU session made here is reused and released with the model. The graph is built again:
      // what the model computes in may follow the provider (the CPU has no bfloat16 kernels).
      void this.release(([other]) => other !== key);
      return createSession(this.build(graph).encode(), this.sessionOptions('cpu'));
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
      // Integer products repack their int8 weights once for the kernel (and then free the original), which is
      // what makes them fast; float products of a small model are worth a packed copy beside the weight.
      prepack: this.store.compute === 'int8' || this.store.bytes <= PREPACK_MAX_BYTES,
      // Without onnxruntime's arena every transient buffer is a malloc of its own, and glibc's heap fragments:
      // t5-large int8 training peaked at 3.6 GB that way against 2.3 GB with the arena, and stepped slower.
    };
  }

  /** Forgets the sessions `which` picks and releases each once built (one that failed to build has nothing to release). */
  private async release(which: (entry: [string, SessionEntry]) => boolean): Promise<void> {
    const chosen = [...this.sessions].filter(which);
    for (const [key] of chosen) this.sessions.delete(key);
    await Promise.all(
      chosen.map(([, { session }]) =>
        session.then(
          (x) => x.release(),
          () => undefined,
        ),
      ),
    );
  }
}
