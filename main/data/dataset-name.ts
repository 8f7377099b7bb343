/**
 * The name a dataset gets from its file when none is given. Public datasets ship as train.tsv, dev.tsv and test.csv
 * in a folder named for them, and a library of "train", "test" and "dev" says nothing of what each holds.
 */
import { SPLITS } from '../choices.js';

/** File names that say which split a file is, not what it holds: the splits' own names and the usual other ones. */
const SPLIT_NAMES: ReadonlySet<string> = new Set([...SPLITS, 'training', 'testing', 'dev', 'val', 'valid', 'eval', 'data', 'dataset']);

/** The file's name without its extension ("in_domain_train"), after its folder's where it names only a split ("ag_news test"). */
export function defaultDatasetName(file: string): string {
  const parts = file.split(/[\\/]/).filter(Boolean);
  const base = parts.at(-1) ?? file;
  const dot = base.lastIndexOf('.');
  const stem = dot > 0 ? base.slice(0, dot) : base;
  const folder = parts.at(-2);
  return folder !== undefined && SPLIT_NAMES.has(stem.toLowerCase()) ? `${folder} ${stem}` : stem;
}
