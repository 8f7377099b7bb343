import { mulberry32 } from '../random.js';

/** The same seed gives the same split on every machine. */
export const seededRandom = mulberry32;

/** The shares of each class held out of training: for validation and for the test split scored once at the end. */
export interface HeldOutShares {
  validation: number;
  test: number;
}

/** What the app's Data step holds out of each class unless told, and `sprout train --data` without --validation. */
export const DEFAULT_HELD_OUT: HeldOutShares = { validation: 0.1, test: 0.1 };

/**
 * The most of each class a share may hold out, wherever a share is given: the contract, `sprout data import`,
 * `sprout train --data` and the Data step's sliders. Together they must also leave rows to train on.
 */
export const MAX_HELD_OUT: HeldOutShares = { validation: 0.9, test: 0.5 };

/**
 * The shares an import held out of each class, in words ("10 % for validation and 10 % for testing"; '' for none),
 * each written by `percent`: the app's import report and `sprout data show` say it alike.
 */
export function heldOutWords(validation: number | null, test: number | null, percent: (share: number) => string): string {
  return [validation ? `${percent(validation)} for validation` : '', test ? `${percent(test)} for testing` : '']
    .filter(Boolean)
    .join(' and ');
}

/**
 * Held-out rows that repeat a training row's text ("6 of the 527 validation rows …"): scored on what training saw,
 * they make the split read higher than new text would. The import report, `sprout data show`, training's notes and
 * the app say it in these words.
 */
export function repeatsTrainingNote(repeated: number, of: number, split: 'validation' | 'test'): string {
  const which = repeated === of ? `All ${of} ${split} rows repeat` : `${repeated} of the ${of} ${split} rows repeat`;
  return `${which} the text of a training row: scored on what training saw, the ${split} score reads higher than new text would.`;
}

/** Rows drawn for one held-out split, and how many of each class they hold. */
export interface DrawnRows {
  rows: number[];
  labels: Map<string, number>;
}

/** How many of a class's `n` rows go to validation: the fraction, but every class with ≥2 rows keeps one on each side. */
export function validationShare(n: number, fraction: number): number {
  if (n < 2 || fraction <= 0) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(n * fraction)));
}

/** How many of the `n - validation` rows left go to test: the fraction of `n`, at least one, never training's last. */
export function testShare(n: number, validation: number, fraction: number): number {
  const left = n - validation;
  if (left < 2 || fraction <= 0) return 0;
  return Math.min(left - 1, Math.max(1, Math.round(n * fraction)));
}

/**
 * A stratified split by unique text: each group of rows sharing a text is one unit, drawn (under the class of its
 * first row) or left as a whole, so no text is on two sides. `groups` maps each class to its row ids; `copies` are
 * the rows of each repeated text, first row first. Validation is drawn exactly as without a test share, so adding
 * one never moves a validation row.
 */
export function splitHeldOut(
  groups: Map<string, number[]>,
  copies: readonly (readonly { rowid: number; label: string | null }[])[],
  shares: HeldOutShares,
  seed: number,
): { validation: DrawnRows; test: DrawnRows } {
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
  const classOf = new Map<number, string>();
  for (const [key, ids] of units) for (const id of ids) classOf.set(id, key);
  // A unit stands for its first row and every copy of its text, each counted under its own label.
  const expand = (chosen: number[]): DrawnRows => {
    const rows: number[] = [];
    const labels = new Map<string, number>();
    const count = (label: string | null) => label !== null && labels.set(label, (labels.get(label) ?? 0) + 1);
    for (const id of chosen) {
      rows.push(id);
      count(classOf.get(id) ?? null);
      for (const r of followers.get(id) ?? []) {
        rows.push(r.rowid);
        count(r.label);
      }
    }
    return { rows, labels };
  };
  const drawn = stratifiedDraw(units, shares, seed);
  return { validation: expand(drawn.validation), test: expand(drawn.test) };
}

/** The validation rows alone of `splitHeldOut` (a split without a test share). */
export function splitByUniqueText(
  groups: Map<string, number[]>,
  copies: readonly (readonly { rowid: number; label: string | null }[])[],
  fraction: number,
  seed: number,
): DrawnRows {
  return splitHeldOut(groups, copies, { validation: fraction, test: 0 }, seed).validation;
}

/**
 * Picks the held-out rows of a stratified split. `groups` maps each class to its row ids; classes are visited in
 * sorted order and each is shuffled with the one seeded generator, so the result depends only on the data and seed.
 * Test rows continue each class's shuffle in a second pass, after every class's validation rows are drawn.
 */
export function stratifiedDraw(
  groups: Map<string, number[]>,
  shares: HeldOutShares,
  seed: number,
): { validation: number[]; test: number[] } {
  const random = seededRandom(seed);
  const keys = [...groups.keys()].sort();
  const drawn = new Map<string, number>();
  // Partial Fisher–Yates: positions from..to-1 become a uniform random sample of what the earlier ones left.
  const draw = (ids: number[], from: number, to: number, into: number[]) => {
    for (let i = from; i < to; i++) {
      const j = i + Math.floor(random() * (ids.length - i));
      [ids[i], ids[j]] = [ids[j], ids[i]];
      into.push(ids[i]);
    }
  };
  const validation: number[] = [];
  for (const key of keys) {
    const ids = groups.get(key)!;
    const k = validationShare(ids.length, shares.validation);
    draw(ids, 0, k, validation);
    drawn.set(key, k);
  }
  const test: number[] = [];
  for (const key of keys) {
    const ids = groups.get(key)!;
    const k = drawn.get(key)!;
    draw(ids, k, k + testShare(ids.length, k, shares.test), test);
  }
  return { validation, test };
}
