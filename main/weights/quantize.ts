/**
 * Symmetric int8 quantisation of a frozen weight W [rows, cols] (PyTorch's nn.Linear layout [out, in]):
 * q = round(w / s) in [-127, 127] with one float32 scale per block of a row, s = max |w| / 127 over the block.
 */

export interface Quantised {
  q: Int8Array;
  scale: Float32Array;
}

function scaleOf(maxAbs: number): number {
  // An all-zero channel would give s = 0 and 0/0 below; any positive scale represents it exactly.
  return maxAbs > 0 ? maxAbs / 127 : 1;
}

/**
 * Inputs per scale. Per-row scales (one per output channel) left the pretrained fixture's 300-step CoLA training
 * loss 20% above float32's; a scale per 32 inputs brings it within the 5% asked for (npm run bench -- width-cola)
 * for 1/8 byte more per parameter. A row whose length 32 does not divide gets one scale.
 */
export const BLOCK = 32;

export function blockSize(cols: number): number {
  return cols % BLOCK === 0 ? BLOCK : cols;
}

/** Scales [rows, cols / block], one per `block` consecutive values of a row; q keeps W's layout [rows, cols]. */
export function quantiseBlocks(w: Float32Array, rows: number, cols: number, block: number): Quantised {
  const q = new Int8Array(rows * cols);
  const scale = new Float32Array((rows * cols) / block);
  for (let b = 0; b < scale.length; b++) {
    let m = 0;
    for (let c = b * block; c < (b + 1) * block; c++) m = Math.max(m, Math.abs(w[c]));
    const s = (scale[b] = scaleOf(m));
    for (let c = b * block; c < (b + 1) * block; c++) q[c] = Math.round(w[c] / s);
  }
  return { q, scale };
}

/** float32 → bfloat16 bits, rounding to nearest even (NaN stays NaN). */
export function toBfloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const b = bits[i];
    if ((b & 0x7fffffff) > 0x7f800000) out[i] = (b >>> 16) | 0x40;
    else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** float32 → IEEE float16 bits, rounding to nearest even; beyond ±65504 becomes ±Infinity. */
export function toFloat16(values: Float32Array): Uint16Array {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const b = bits[i];
    const sign = (b >>> 16) & 0x8000;
    const exp = (b >>> 23) & 0xff;
    const mant = b & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
    } else if (e <= 0) {
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      // Subnormal: shift the implicit-one mantissa into place, rounding to nearest even.
      const m = mant | 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rest = m & ((1 << shift) - 1);
      let v = m >>> shift;
      if (rest > half || (rest === half && v & 1)) v++;
      out[i] = sign | v;
    } else {
      let v = (e << 10) | (mant >>> 13);
      const rest = mant & 0x1fff;
      if (rest > 0x1000 || (rest === 0x1000 && v & 1)) v++;
      out[i] = sign | v;
    }
  }
  return out;
}
