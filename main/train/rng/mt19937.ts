/**
 * MT19937 as PyTorch's CPU generator uses it (`torch.Generator().manual_seed(s)`), and `torch.randperm(n)` on
 * top of it (PyTorch 1.13's CPU algorithm: for i < n-1 swap i with i + random() % (n - i)), so that Sprout's
 * data order is the one Hugging Face reference runs saw for the same seed. The whole state is 625 numbers and
 * can be saved and restored exactly.
 */
const N = 624;
const M = 397;

export interface Mt19937State {
  words: number[]; // 624 uint32
  index: number;
}

export class Mt19937 {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
    this.mt[0] = seed >>> 0; // torch keeps the low 32 bits of its 64-bit seed
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  static fromState(state: Mt19937State): Mt19937 {
    if (!Array.isArray(state.words) || state.words.length !== N || !Number.isInteger(state.index) || state.index < 0 || state.index > N) {
      throw new RangeError('not an MT19937 state');
    }
    const g = new Mt19937(0);
    state.words.forEach((w, i) => (g.mt[i] = w >>> 0));
    g.index = state.index;
    return g;
  }

  state(): Mt19937State {
    return { words: Array.from(this.mt), index: this.index };
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      mt[i] = (mt[(i + M) % N] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0)) >>> 0;
    }
    this.index = 0;
  }

  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** torch.randperm(n, generator=this) on the CPU. */
  randperm(n: number): number[] {
    const r = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < n - 1; i++) {
      const z = this.nextUint32() % (n - i);
      [r[i], r[i + z]] = [r[i + z], r[i]];
    }
    return r;
  }

  /** Uniform in [0, 1) from one draw, for choices that need no torch counterpart (bucket order). */
  nextFloat(): number {
    return this.nextUint32() / 2 ** 32;
  }
}
