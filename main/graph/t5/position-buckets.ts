/**
 * T5's relative position buckets, computed exactly as Hugging Face does: the logarithmic part runs on float32
 * tensors (each step rounded to float32) and is truncated toward zero, so boundary positions land in the same
 * bucket as in transformers.
 */
export function relativePositionBucket(relative: number, bidirectional: boolean, numBuckets: number, maxDistance: number): number {
  let bucket = 0;
  let n = numBuckets;
  let rel = relative;
  if (bidirectional) {
    n = Math.floor(n / 2);
    if (rel > 0) bucket += n;
    rel = Math.abs(rel);
  } else {
    rel = -Math.min(rel, 0);
  }
  const maxExact = Math.floor(n / 2);
  if (rel < maxExact) return bucket + rel;
  const f = Math.fround;
  const ratio = f(rel / maxExact);
  const logRatio = f(Math.log(ratio));
  const scaled = f(logRatio / f(Math.log(maxDistance / maxExact)));
  const large = maxExact + Math.trunc(f(scaled * (n - maxExact)));
  return bucket + Math.min(large, n - 1);
}

/** Bucket of every (query, key) pair: [queryLength * keyLength], row-major, relative = key - query. */
export function bucketMatrix(
  queryLength: number,
  keyLength: number,
  bidirectional: boolean,
  numBuckets: number,
  maxDistance: number,
): Int32Array {
  const out = new Int32Array(queryLength * keyLength);
  const memo = new Map<number, number>();
  for (let q = 0; q < queryLength; q++) {
    for (let k = 0; k < keyLength; k++) {
      const rel = k - q;
      let b = memo.get(rel);
      if (b === undefined) {
        b = relativePositionBucket(rel, bidirectional, numBuckets, maxDistance);
        memo.set(rel, b);
      }
      out[q * keyLength + k] = b;
    }
  }
  return out;
}

/** Additive causal mask for decoder self-attention: 0 on and below the diagonal, float32's lowest above. */
export function causalMask(length: number): Float32Array {
  const out = new Float32Array(length * length);
  for (let q = 0; q < length; q++) for (let k = q + 1; k < length; k++) out[q * length + k] = -3.4028234663852886e38;
  return out;
}
