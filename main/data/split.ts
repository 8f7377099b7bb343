import { mulberry32 } from '../random.js';

/** The same seed gives the same split on every machine. */
export const seededRandom = mulberry32;

/** How many of a class's `n` rows go to validation: the fraction, but every class with ≥2 rows keeps one on each side. */
export function validationShare(n: number, fraction: number): number {
  if (n < 2 || fraction <= 0) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
}

/**
 * Picks the validation rows of a stratified split. `groups` maps each class to its row ids; classes are visited in
 * sorted order and each is shuffled with the one seeded generator, so the result depends only on the data and seed.
 */
export function stratifiedValidation(groups: Map<string, number[]>, fraction: number, seed: number): number[] {
  const random = seededRandom(seed);
  const chosen: number[] = [];
  for (const key of [...groups.keys()].sort()) {
    const ids = groups.get(key)!;
    const k = validationShare(ids.length, fraction);
    // Partial Fisher–Yates: the first k positions become a uniform random sample.
    for (let i = 0; i < k; i++) {
      const j = i + Math.floor(random() * (ids.length - i));
      [ids[i], ids[j]] = [ids[j], ids[i]];
      chosen.push(ids[i]);
    }
  }
  return chosen;
}
