import { describe, expect, it } from 'vitest';
import { niceAxis } from '../../renderer/lib/ticks.js';

/** Whether v is 1, 2 or 5 times a power of ten. */
const isNice = (v: number) => {
  const m = v / 10 ** Math.floor(Math.log10(v) + 1e-9);
  return [1, 2, 5, 10].some((n) => Math.abs(m - n) < 1e-9);
};

describe('chart ticks', () => {
  it('the issue’s loss axis (3.68 … 113) gets round ticks, not 3.68, 38, 113', () => {
    expect(niceAxis(3.68, 113).ticks).toEqual([0, 20, 40, 60, 80, 100, 120]);
  });

  it('shares, MCC and step counts', () => {
    expect(niceAxis(0, 1).ticks).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceAxis(-1, 1).ticks).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(niceAxis(0, 200).ticks).toEqual([0, 50, 100, 150, 200]);
    expect(niceAxis(0, 60).ticks).toEqual([0, 10, 20, 30, 40, 50, 60]);
    expect(niceAxis(0.0123, 0.0481).ticks).toEqual([0.01, 0.02, 0.03, 0.04, 0.05]);
    expect(niceAxis(7, 7).ticks).toEqual([6.4, 6.6, 6.8, 7, 7.2, 7.4, 7.6]);
  });

  it('whole values only where asked: a run of two steps reads 0, 1, 2, not 0, 0.5, … 2', () => {
    expect(niceAxis(0, 2).ticks).toEqual([0, 0.5, 1, 1.5, 2]);
    expect(niceAxis(0, 2, 5, 1)).toMatchObject({ ticks: [0, 1, 2], decimals: 0 });
    expect(niceAxis(0, 1000, 5, 1).ticks).toEqual([0, 200, 400, 600, 800, 1000]);
  });

  it('for any range: 1/2/5×10^k steps, ends on ticks that cover the range, 3 to 11 ticks, exact decimals', () => {
    let seed = 7;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2000; i++) {
      const scale = 10 ** Math.floor(random() * 12 - 6);
      const lo = (random() - 0.3) * 100 * scale;
      const hi = lo + random() * 100 * scale + 1e-9 * scale;
      const axis = niceAxis(lo, hi);
      expect(isNice(axis.step)).toBe(true);
      expect(axis.lo).toBeLessThanOrEqual(lo + 1e-9 * axis.step);
      expect(axis.hi).toBeGreaterThanOrEqual(hi - 1e-9 * axis.step);
      expect(axis.ticks.length).toBeGreaterThanOrEqual(3);
      expect(axis.ticks.length).toBeLessThanOrEqual(12);
      for (const t of axis.ticks) expect(Number(t.toFixed(axis.decimals))).toBe(t);
    }
  });
});
