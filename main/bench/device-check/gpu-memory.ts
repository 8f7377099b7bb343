/** Peak GPU memory while some work runs, from `nvidia-smi` polled in the background (null where it is absent). */
import { execFile, execFileSync } from 'node:child_process';

export function nvidiaSmi(args: string[]): string | null {
  try {
    return execFileSync('nvidia-smi', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return null;
  }
}

/** Memory in use on GPU 0 in MiB, or null. */
function usedMib(): Promise<number | null> {
  return new Promise((resolve) => {
    execFile('nvidia-smi', ['--query-gpu=memory.used', '--format=csv,noheader,nounits', '-i', '0'], { timeout: 5_000 }, (error, stdout) => {
      const value = Number(stdout.trim());
      resolve(error || !Number.isFinite(value) ? null : value);
    });
  });
}

/** Runs `work` while sampling GPU memory every 250 ms; returns its result and the highest reading. */
export async function withPeakGpuMemory<T>(work: () => Promise<T>): Promise<{ result: T; peakMib: number | null }> {
  if (nvidiaSmi(['-L']) === null) return { result: await work(), peakMib: null };
  let peak: number | null = null;
  let running = true;
  const sampler = (async () => {
    while (running) {
      const v = await usedMib();
      if (v !== null) peak = Math.max(peak ?? 0, v);
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  let result: T;
  try {
    result = await work();
  } finally {
    running = false;
    await sampler;
  }
  return { result, peakMib: peak };
}
