import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { WeightPreparation } from '../../preload/contract.js';
import { readSafetensorsHeader } from '../../main/checkpoint/safetensors.js';
import type { WeightWidth } from '../../main/weights/width.js';

/** The converted files of a width's cache under a data folder: how many, their bytes, and the bytes of tensor data they hold. */
export function convertedFiles(home: string, weights: WeightWidth): { count: number; bytes: number; dataBytes: number } {
  const root = join(home, 'cache', 'weights');
  const [dir] = readdirSync(root).filter((d) => d.startsWith(`${weights}-`));
  const files = readdirSync(join(root, dir)).filter((f) => /^t\d{5}\.safetensors$/.test(f));
  const dataBytes = files.reduce(
    (n, f) => n + [...readSafetensorsHeader(join(root, dir, f)).values()].reduce((m, t) => m + t.length, 0),
    0,
  );
  return { count: files.length, bytes: files.reduce((n, f) => n + statSync(join(root, dir, f)).size, 0), dataBytes };
}

/** One model load's preparation reports: all of `weights`, done rising, never past a total that stays put, to that total. */
export function checkReports(
  reports: WeightPreparation[],
  weights: WeightWidth,
): { phases: Set<WeightPreparation['phase']>; count: number; total: number } {
  expect(reports.length).toBeGreaterThan(0);
  expect(reports.every((p) => p.weights === weights)).toBe(true);
  const done = reports.map((p) => p.done);
  expect(done).toEqual([...done].sort((a, b) => a - b));
  const total = reports[0].total;
  expect(reports.every((p) => p.total === total && p.done <= p.total)).toBe(true);
  expect(done.at(-1)).toBe(total);
  return { phases: new Set(reports.map((p) => p.phase)), count: reports.length, total };
}
