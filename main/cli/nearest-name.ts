/**
 * The name a person most likely meant, where they typed one Sprout does not know: a flag (`--text-columns`) or a
 * command (`sprout trian`). Typos, plurals, a word left out or added, or another command's name for the same thing.
 */

/**
 * The one known name a few edits away (a fifth of the longer name: `stpes`, `verbaliser`), else the one that begins
 * with it or that it begins with, word for word (`batch` → `batch-size`, `output-file` → `output`), else the one
 * that differs in a single dash-separated word; undefined where none of these picks exactly one.
 */
export function nearestName(word: string, names: readonly string[]): string | undefined {
  const scored = names.map((name) => ({ name, distance: editDistance(word, name) })).sort((a, b) => a.distance - b.distance);
  const [best, second] = scored;
  // A fifth: a third took `--max-input-tokens` for `--max-new-tokens` (4 edits of 16), the wrong setting.
  const close = (s: { name: string; distance: number }) => s.distance <= Math.max(1, Math.floor(Math.max(word.length, s.name.length) / 5));
  if (best !== undefined && close(best)) return second !== undefined && second.distance === best.distance ? undefined : best.name;
  const words = word.split('-');
  const prefixed = names.filter((name) => {
    const [shorter, longer] = [name.split('-'), words].sort((a, b) => a.length - b.length);
    return shorter.every((w, i) => longer[i] === w);
  });
  if (prefixed.length > 0) return prefixed.length === 1 ? prefixed[0] : undefined;
  const oneWordOff = names.filter((name) => {
    const other = name.split('-');
    return words.length > 1 && other.length === words.length && other.filter((w, i) => w !== words[i]).length === 1;
  });
  return oneWordOff.length === 1 ? oneWordOff[0] : undefined;
}

/**
 * Edits between two names: insertions, deletions, substitutions and swaps of two neighbours (optimal string
 * alignment, so `stpes` is one edit from `steps`).
 */
function editDistance(a: string, b: string): number {
  // d[i][j]: edits between a's first i characters and b's first j.
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : i)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
