import { cachedCommit, repoCache, snapshotDir } from './cache.js';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** A recommended checkpoint. Sizes are of the float32 safetensors weights, rounded. */
export interface CatalogueEntry {
  repo: string;
  parameters: number;
  downloadBytes: number;
  family: 't5' | 't5-v1_1' | 'lm-adapt' | 'flan-t5';
  recommendedForPromptTuning: boolean;
  note: string;
}

export const catalogue: CatalogueEntry[] = [
  {
    repo: 'google/t5-small-lm-adapt',
    parameters: 77_000_000,
    downloadBytes: 308_000_000,
    family: 'lm-adapt',
    recommendedForPromptTuning: true,
    note:
      'T5 v1.1 small, further trained as a language model: the checkpoint prompt tuning was designed for (Lester et al. 2021).' +
      ' Best first choice on a laptop.',
  },
  {
    repo: 'google/t5-base-lm-adapt',
    parameters: 248_000_000,
    downloadBytes: 990_000_000,
    family: 'lm-adapt',
    recommendedForPromptTuning: true,
    note: 'LM-adapted T5 v1.1 base: prompt tuning gets much stronger from this size on.',
  },
  {
    repo: 'google/flan-t5-small',
    parameters: 77_000_000,
    downloadBytes: 308_000_000,
    family: 'flan-t5',
    recommendedForPromptTuning: true,
    note: 'Instruction-tuned T5 v1.1 small: follows plain-language task descriptions, good zero-shot starting point.',
  },
  {
    repo: 'google/flan-t5-base',
    parameters: 248_000_000,
    downloadBytes: 990_000_000,
    family: 'flan-t5',
    recommendedForPromptTuning: true,
    note: 'Instruction-tuned base model: strong results for its size.',
  },
  {
    repo: 'google/flan-t5-large',
    parameters: 783_000_000,
    downloadBytes: 3_130_000_000,
    family: 'flan-t5',
    recommendedForPromptTuning: true,
    note: 'Instruction-tuned large model: best quality here, needs about 4 GB of memory and a fast machine or a GPU.',
  },
  {
    repo: 't5-small',
    parameters: 60_500_000,
    downloadBytes: 242_000_000,
    family: 't5',
    recommendedForPromptTuning: false,
    note: 'Original T5 (multi-task pretrained, span corruption). Small and fast; prompt tuning works less well than with LM-adapted models.',
  },
  {
    repo: 't5-base',
    parameters: 223_000_000,
    downloadBytes: 892_000_000,
    family: 't5',
    recommendedForPromptTuning: false,
    note: 'Original T5 base.',
  },
  {
    repo: 't5-large',
    parameters: 738_000_000,
    downloadBytes: 2_950_000_000,
    family: 't5',
    recommendedForPromptTuning: false,
    note: 'Original T5 large: about 3 GB of weights.',
  },
  {
    repo: 'google/t5-v1_1-small',
    parameters: 77_000_000,
    downloadBytes: 308_000_000,
    family: 't5-v1_1',
    recommendedForPromptTuning: false,
    note: 'T5 v1.1 (span corruption only, gated-GELU): prefer its LM-adapted version for prompt tuning.',
  },
  {
    repo: 'google/t5-v1_1-base',
    parameters: 248_000_000,
    downloadBytes: 990_000_000,
    family: 't5-v1_1',
    recommendedForPromptTuning: false,
    note: 'T5 v1.1 base: prefer google/t5-base-lm-adapt for prompt tuning.',
  },
];

/** The catalogue with, for each entry, the snapshot folder when its main revision is already in the cache. */
export function catalogueOnDisk(cacheDir: string): (CatalogueEntry & { cachedDir: string | null })[] {
  return catalogue.map((entry) => {
    const cache = repoCache(cacheDir, entry.repo);
    const commit = cachedCommit(cache, 'main');
    const dir = commit ? snapshotDir(cache, commit) : null;
    return { ...entry, cachedDir: dir && existsSync(join(dir, 'config.json')) ? dir : null };
  });
}
