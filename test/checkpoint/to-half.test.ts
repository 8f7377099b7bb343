import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../../main/random.js';
import { toHalf } from '../../main/checkpoint/to-half.js';

/**
 * float32 → float16 / bfloat16 against Python: numpy's astype(float16) for half, and for bfloat16 the nearest of
 * the two bfloat16 neighbours by exact distance (ties to the even one), computed in Python doubles (exact for
 * float32 values) rather than with bit tricks.
 */
const PYTHON = `
import sys, struct, math
import numpy as np
data = sys.stdin.buffer.read()
f32 = np.frombuffer(data, dtype="<f4")
out = [f32.astype("<f2").view("<u2").tolist()]
def as_float(b16):
    # The neighbour past the largest finite bfloat16 is infinity, which rounding treats as 2^128.
    if (b16 & 0x7f80) == 0x7f80:
        return math.copysign(2.0 ** 128, -1.0 if b16 & 0x8000 else 1.0)
    return struct.unpack("<f", struct.pack("<I", b16 << 16))[0]
def bf16(bits):
    x = struct.unpack("<f", struct.pack("<I", bits))[0]
    if math.isnan(x):
        return 0x7fc0
    low = bits >> 16
    if math.isinf(x):
        return low
    high = low + 1
    dl, dh = abs(x - as_float(low)), abs(as_float(high) - x)
    return low if dl < dh or (dl == dh and low % 2 == 0) else high
out.append([bf16(b) for b in f32.view("<u4").tolist()])
print(repr(out))
`;

function edgeValues(): Float32Array {
  const bits = new Uint32Array([
    0x00000000, 0x80000000, 0x3f800000, 0xbf800000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffc00001, 0x477fe000, 0x477ff000,
    0x477fefff, 0x47800000, 0x38800000, 0x387fffff, 0x33800000, 0x33800001, 0x33000000, 0x3f808000, 0x3f818000, 0x3f807fff, 0x7f7fffff,
    0x7f7f8000, 0x7f7f7fff, 0x00000001, 0x007fffff, 0x3f801000, 0x3f803000, 0x3f802fff,
  ]);
  const next = mulberry32(5);
  const random = new Uint32Array(20_000);
  for (let i = 0; i < random.length; i++) {
    // Half random bit patterns, half values near the scales of model weights (including half subnormals).
    random[i] =
      i % 2 ? Math.floor(next() * 2 ** 32) : new Uint32Array(new Float32Array([(next() - 0.5) * 2 ** (-30 + 40 * next())]).buffer)[0];
  }
  const all = new Uint32Array(bits.length + random.length);
  all.set(bits);
  all.set(random, bits.length);
  return new Float32Array(all.buffer);
}

describe('toHalf rounds float32 to nearest even, like numpy and torch', () => {
  const values = edgeValues();
  const [f16, bf16] = JSON.parse(
    execFileSync('python3', ['-c', PYTHON], { input: Buffer.from(values.buffer), encoding: 'utf8', maxBuffer: 64 << 20 }).replace(
      /'/g,
      '"',
    ),
  ) as [number[], number[]];

  it('float16: every value, NaNs as NaN', () => {
    const ours = toHalf(values, 'F16');
    const isNan = (h: number): boolean => (h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0;
    const differing = [...ours].flatMap((h, i) => (h === f16[i] || (isNan(h) && isNan(f16[i])) ? [] : [`${values[i]}: ${h} vs ${f16[i]}`]));
    expect(differing).toEqual([]);
  });

  it('bfloat16: every value', () => {
    const ours = toHalf(values, 'BF16');
    const differing = [...ours].flatMap((h, i) => (h === bf16[i] ? [] : [`${values[i]}: ${h} vs ${bf16[i]}`]));
    expect(differing).toEqual([]);
  });
});
