/**
 * numpy's default generator (`numpy.random.default_rng(seed)`: SeedSequence → PCG64 XSL-RR) and the part of
 * `Generator.choice(n, k, replace=False)` that picks token ids for the `vocab` prompt init, so that a prompt
 * initialised with seed s has the same rows as Hugging Face/PEFT reference runs that drew them with numpy.
 * Only used a few dozen times per run, so 128-bit arithmetic is done with BigInt.
 */
const MASK32 = 0xffffffffn;
const MASK64 = (1n << 64n) - 1n;
const MASK128 = (1n << 128n) - 1n;
const PCG_MULTIPLIER = 0x2360ed051fc65da44385df649fccf645n;

const INIT_A = 0x43b0d7e5;
const MULT_A = 0x931e8875;
const INIT_B = 0x8b51f9dd;
const MULT_B = 0x58f38ded;
const MIX_MULT_L = 0xca01f9dd;
const MIX_MULT_R = 0x4973f715;
const POOL_SIZE = 4;

/** numpy.random.SeedSequence(seed).generate_state(words, uint32) for a non-negative integer seed. */
export function seedSequenceState(seed: number, words: number): Uint32Array {
  if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`seed must be a non-negative integer, got ${seed}`);
  const entropy: number[] = [];
  for (let s = BigInt(seed); ; s >>= 32n) {
    entropy.push(Number(s & MASK32));
    if (s >> 32n === 0n) break;
  }
  let hashConst = INIT_A;
  const hashmix = (value: number): number => {
    value = (value ^ hashConst) >>> 0;
    hashConst = Math.imul(hashConst, MULT_A) >>> 0;
    value = Math.imul(value, hashConst) >>> 0;
    return (value ^ (value >>> 16)) >>> 0;
  };
  const mix = (x: number, y: number): number => {
    const r = (Math.imul(MIX_MULT_L, x) - Math.imul(MIX_MULT_R, y)) >>> 0;
    return (r ^ (r >>> 16)) >>> 0;
  };
  const pool = new Array<number>(POOL_SIZE);
  for (let i = 0; i < POOL_SIZE; i++) pool[i] = hashmix(i < entropy.length ? entropy[i] : 0);
  for (let src = 0; src < POOL_SIZE; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) if (src !== dst) pool[dst] = mix(pool[dst], hashmix(pool[src]));
  }
  for (let src = POOL_SIZE; src < entropy.length; src++) {
    for (let dst = 0; dst < POOL_SIZE; dst++) pool[dst] = mix(pool[dst], hashmix(entropy[src]));
  }
  const out = new Uint32Array(words);
  let h = INIT_B;
  for (let i = 0; i < words; i++) {
    let v = (pool[i % POOL_SIZE] ^ h) >>> 0;
    h = Math.imul(h, MULT_B) >>> 0;
    v = Math.imul(v, h) >>> 0;
    out[i] = (v ^ (v >>> 16)) >>> 0;
  }
  return out;
}

export class NumpyPcg64 {
  private state: bigint;
  private readonly inc: bigint;
  private pending: number | null = null;

  constructor(seed: number) {
    const w = seedSequenceState(seed, 8);
    const u64 = (i: number) => BigInt(w[2 * i]) | (BigInt(w[2 * i + 1]) << 32n);
    const initState = (u64(0) << 64n) | u64(1);
    const initSeq = (u64(2) << 64n) | u64(3);
    this.inc = ((initSeq << 1n) | 1n) & MASK128;
    this.state = 0n;
    this.advance();
    this.state = (this.state + initState) & MASK128;
    this.advance();
  }

  private advance(): void {
    this.state = (this.state * PCG_MULTIPLIER + this.inc) & MASK128;
  }

  nextUint64(): bigint {
    this.advance();
    const s = this.state;
    const x = ((s >> 64n) ^ s) & MASK64;
    const rot = s >> 122n;
    return ((x >> rot) | (x << ((64n - rot) & 63n))) & MASK64;
  }

  /** numpy hands out the low half of a 64-bit draw first and keeps the high half for the next call. */
  nextUint32(): number {
    if (this.pending !== null) {
      const v = this.pending;
      this.pending = null;
      return v;
    }
    const next = this.nextUint64();
    this.pending = Number(next >> 32n);
    return Number(next & MASK32);
  }

  /** numpy's next_double: the top 53 bits of a 64-bit draw, in [0, 1). */
  nextDouble(): number {
    return Number(this.nextUint64() >> 11n) / 2 ** 53;
  }

  /** `Generator.uniform(low, high, size)`. */
  uniform(low: number, high: number, size: number): Float64Array {
    return Float64Array.from({ length: size }, () => low + (high - low) * this.nextDouble());
  }

  /** Uniform integer in [0, max] by Lemire's method, as numpy's random_bounded_uint64 for max < 2^32 - 1. */
  bounded(max: number): number {
    if (max === 0) return 0;
    if (max >= 0xffffffff) throw new RangeError('bounded() supports ranges below 2^32 only');
    const range = BigInt(max + 1);
    let m = BigInt(this.nextUint32()) * range;
    let leftover = m & MASK32;
    if (leftover < range) {
      const threshold = (MASK32 - BigInt(max)) % range;
      while (leftover < threshold) {
        m = BigInt(this.nextUint32()) * range;
        leftover = m & MASK32;
      }
    }
    return Number(m >> 32n);
  }

  /**
   * `Generator.choice(population, size, replace=False)` (shuffle=True): Floyd's algorithm then a Fisher–Yates
   * shuffle of the picks. numpy switches to a tail shuffle for populations over 10,000 drawing more than 1/50th;
   * that case is refused rather than silently differing.
   */
  choiceWithoutReplacement(population: number, size: number): number[] {
    if (size > population) throw new RangeError(`cannot draw ${size} distinct values from ${population}`);
    if (population > 10_000 && size > Math.floor(population / 50))
      throw new RangeError('numpy uses a tail shuffle for this case, which is not reproduced');
    const picked = new Set<number>();
    const out: number[] = [];
    for (let j = population - size; j < population; j++) {
      const v = this.bounded(j);
      const value = picked.has(v) ? j : v;
      picked.add(value);
      out.push(value);
    }
    for (let i = size - 1; i >= 1; i--) {
      const j = this.bounded(i);
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}
