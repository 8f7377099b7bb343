import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer } from '../../main/tokenizer/load.js';
import type { T5Tokenizer } from '../../main/tokenizer/t5-tokenizer.js';
import { folderWith } from './fixtures.js';

/**
 * SST-2 training sentences (train.tsv data rows 8009, 12033, 13228, 25645, 60199) whose segmentation hangs on
 * sentencepiece's float arithmetic: "xxx" is "xx"+"x" only with float32 path scores, "zzzzzzzzz" comes out as
 * zz zz zz z zz only when candidates are compared in double before being stored as float32. The ids are
 * sentencepiece 0.1.97's (Debian python3-sentencepiece, t5-small's spiece.model: encode(text) + eos), i.e. what
 * T5Tokenizer gives; scripts/sentencepiece_parity.py compares every row of the file. Hugging Face's fast tokenizer
 * (float64) segments all five the other way.
 */
const cases: [string, number[]][] = [
  [
    ', xxx is a blast of adrenalin , rated eee for excitement . ',
    [3, 6, 3, 19230, 226, 19, 3, 9, 11925, 13, 23563, 77, 3, 6, 3, 4094, 3, 15, 15, 15, 21, 10147, 3, 5, 1],
  ],
  ['think , zzzzzzzzz ', [317, 3, 6, 3, 5271, 5271, 5271, 172, 5271, 1]],
  [', xxx is a blast of adrenalin , ', [3, 6, 3, 19230, 226, 19, 3, 9, 11925, 13, 23563, 77, 3, 6, 1]],
  [
    'the aaa of action , xxx is a blast of adrenalin , rated eee for excitement . ',
    [8, 3, 9, 9, 9, 13, 1041, 3, 6, 3, 19230, 226, 19, 3, 9, 11925, 13, 23563, 77, 3, 6, 3, 4094, 3, 15, 15, 15, 21, 10147, 3, 5, 1],
  ],
  [
    'soulless and -- even more damning -- virtually joyless , xxx achieves near virtuosity in its crapulence . ',
    [
      3668, 924, 11, 1636, 237, 72, 17227, 53, 1636, 9114, 3922, 924, 3, 6, 3, 19230, 226, 1984, 7, 1084, 3, 5771, 17, 76, 32, 7, 485, 16,
      165, 17081, 83, 1433, 3, 5, 1,
    ],
  ],
];

describe.each([
  ['spiece.model', ['spiece.model']],
  ['tokenizer.json', ['tokenizer.json', 'tokenizer_config.json']],
])('near-tie segmentations read from %s', (_name, files) => {
  let tok: T5Tokenizer;
  beforeAll(async () => {
    tok = await loadTokenizer(await folderWith(files));
  });

  it.each(cases)('%j is segmented as sentencepiece does', (text, ids) => {
    expect(tok.encode(text)).toEqual(ids);
  });
});
