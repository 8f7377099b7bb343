import { mulberry32 } from '../random.js';

/** The same seed gives the same split on every machine. */
export const seededRandom = mulberry32;

/** How many of a class's `n` rows go to validation: the fraction, but every class with ≥2 rows keeps one on each side. */
export function validationShare(n: number, fraction: number): number {
  if (n < 2 || fraction <= 0) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
}

/**
 * A stratified split by unique text: each group of rows sharing a text is one unit, drawn (under the class of its
 * first row) or left as a whole, so no text is on both sides. `groups` maps each class to its row ids; `copies` are
 * the rows of each repeated text, first row first. Returns the validation rows and how many of each class they hold.
 */
export function splitByUniqueText(
  groups: Map<string, number[]>,
  copies: readonly (readonly { rowid: number; label: string | null }[])[],
  fraction: number,
  seed: number,
): { rows: number[]; labels: Map<string, number> } {
  const followers = new Map<number, { rowid: number; label: string | null }[]>();
  const hidden = new Set<number>();
  for (const [first, ...rest] of copies) {
    followers.set(first.rowid, rest);
    for (const r of rest) hidden.add(r.rowid);
  }
  const units = new Map<string, number[]>();
  for (const [key, ids] of groups) {
    const kept = hidden.size ? ids.filter((id) => !hidden.has(id)) : ids;
    if (kept.length) units.set(key, kept);
  }
  const labelOf = new Map<number, string>();
  for (const [key, ids] of units) for (const id of ids) if (followers.has(id)) labelOf.set(id, key);
  const chosen = stratifiedValidation(units, fraction, seed);
  const rows: number[] = [];
  const labels = new Map<string, number>();
  const count = (label: string | null) => label !== null && labels.set(label, (labels.get(label) ?? 0) + 1);
  const chosenSet = new Set(chosen);
  for (const [key, ids] of units) for (const id of ids) if (chosenSet.has(id) && !followers.has(id)) count(key);
  for (const id of chosen) {
    rows.push(id);
    const rest = followers.get(id);
    if (!rest) continue;
    count(labelOf.get(id) ?? null);
    for (const r of rest) {
      rows.push(r.rowid);
      count(r.label);
    }
  }
  return { rows, labels };
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
