/**
 * Round axis ticks: steps of 1, 2 or 5 × 10^k, about `target` intervals, the axis widened to whole steps so the
 * first and last ticks are its ends (a loss from 3.68 to 113 reads 0, 20, … 120, not 3.68, 38, … 113).
 */
export interface Axis {
  lo: number;
  hi: number;
  step: number;
  ticks: number[];
  /** Decimals that show every tick exactly. */
  decimals: number;
}

export function niceStep(span: number, target: number): number {
  const raw = span / Math.max(1, target);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / magnitude;
  return (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * magnitude;
}

/** `minStep`: the smallest interval between ticks, e.g. 1 where only whole values exist (training steps). */
export function niceAxis(lo: number, hi: number, target = 5, minStep = 0): Axis {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return niceAxis(0, 1, target, minStep);
  if (hi - lo < 1e-12) return niceAxis(lo - 0.5, hi + 0.5, target, minStep);
  const step = Math.max(niceStep(hi - lo, target), minStep);
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  // Rounded to the step's decimals so that 0.1 × 3 is 0.3, and widened by a hair so that 1.0000000001 stays 1.
  const round = (v: number) => Number(v.toFixed(decimals));
  const first = Math.floor(lo / step + 1e-9);
  const last = Math.ceil(hi / step - 1e-9);
  const ticks: number[] = [];
  for (let k = first; k <= last; k++) ticks.push(round(k * step));
  return { lo: ticks[0], hi: ticks[ticks.length - 1], step, ticks, decimals };
}
