import { resourceUsage } from 'node:process';

export function mean(values: number[]): number {
  return values.reduce((s, v) => s + v, 0) / values.length;
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function time(f: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await f();
  return performance.now() - t;
}

/** This process's CPU time (user + system, every thread) in ms: since `since` (a process.cpuUsage() reading), or in all. */
export function cpuMs(since?: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
}

/**
 * The CPU time this process spends in the `windowMs` after `run` returns, the least of three such windows (a garbage
 * collection can fall in one): what threads left busy after a run cost.
 */
export async function cpuAfterRunMs(run: () => Promise<unknown>, windowMs: number): Promise<number> {
  const windows: number[] = [];
  for (let i = 0; i < 3; i++) {
    await run();
    const from = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, windowMs));
    windows.push(cpuMs(from));
  }
  return Math.min(...windows);
}

/** Peak resident set size of this process so far, in MB (ru_maxrss is in KB on Linux). */
export function peakRssMb(): number {
  return Math.round(resourceUsage().maxRSS / 1024);
}

/** Deterministic token ids in [2, limit) for benchmark inputs (0 and 1 are pad and eos). */
export function randomIds(n: number, limit: number, seed: number): number[] {
  let s = (seed * 2654435761) >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return 2 + (s % (limit - 2));
  });
}
