/**
 * Which examples make up each batch. An epoch is `torch.randperm(n)` from a torch-compatible MT19937 seeded
 * with the run's seed (epochs continue the same generator), cut into consecutive batches with the last
 * partial one dropped — the order Hugging Face reference runs use. With length bucketing, each window of
 * BUCKET_WINDOW batches is sorted by input length before cutting (so batches pad little) and the window's
 * batches are then shuffled. The state (generator at the epoch's start, epoch, batch) resumes exactly.
 */
import { Mt19937, type Mt19937State } from './rng/mt19937.js';

export const BUCKET_WINDOW = 16;

export interface DataOrderState {
  epoch: number;
  /** Batches of the current epoch already handed out. */
  batch: number;
  /** Generator state before the current epoch's permutation was drawn. */
  generator: Mt19937State;
}

export class DataOrder {
  private generator: Mt19937;
  private epochStart: Mt19937State;
  private epoch = 0;
  private batch = 0;
  private batches: number[][];
  readonly batchSize: number;

  constructor(
    private readonly lengths: readonly number[],
    batchSize: number,
    seed: number,
    private readonly bucketing: boolean,
    state?: DataOrderState,
  ) {
    if (lengths.length === 0) throw new RangeError('no examples to order');
    // A dataset smaller than one batch still trains: the batch is the whole set.
    this.batchSize = Math.min(batchSize, lengths.length);
    this.generator = state ? Mt19937.fromState(state.generator) : new Mt19937(seed);
    this.epochStart = this.generator.state();
    this.batches = this.drawEpoch();
    if (state) {
      if (!Number.isInteger(state.batch) || state.batch < 0 || state.batch > this.batches.length)
        throw new RangeError(`data cursor ${state.batch} is outside the epoch`);
      this.epoch = state.epoch;
      this.batch = state.batch;
    }
  }

  private drawEpoch(): number[][] {
    const perm = this.generator.randperm(this.lengths.length);
    const B = this.batchSize;
    const full = Math.floor(perm.length / B);
    if (!this.bucketing) return Array.from({ length: full }, (_, i) => perm.slice(i * B, (i + 1) * B));
    const batches: number[][] = [];
    const window = B * BUCKET_WINDOW;
    for (let start = 0; start < full * B; start += window) {
      const chunk = perm.slice(start, Math.min(start + window, full * B));
      // Stable sort: equal lengths keep their random order.
      chunk.sort((a, b) => this.lengths[a] - this.lengths[b]);
      const group = Array.from({ length: chunk.length / B }, (_, i) => chunk.slice(i * B, (i + 1) * B));
      for (let i = group.length - 1; i > 0; i--) {
        const j = this.generator.nextUint32() % (i + 1);
        [group[i], group[j]] = [group[j], group[i]];
      }
      batches.push(...group);
    }
    return batches;
  }

  /** Indices of the next batch's examples. */
  next(): number[] {
    if (this.batch >= this.batches.length) {
      this.epoch++;
      this.batch = 0;
      this.epochStart = this.generator.state();
      this.batches = this.drawEpoch();
    }
    return this.batches[this.batch++];
  }

  state(): DataOrderState {
    return { epoch: this.epoch, batch: this.batch, generator: this.epochStart };
  }

  get epochBatches(): number {
    return this.batches.length;
  }
}
