import { describe, expect, it } from 'vitest';
import { defaultDatasetName } from '../../main/data/dataset-name.js';

describe('a dataset named after its file', () => {
  it("takes the folder's name too where the file's names only a split, as the public datasets' files do", () => {
    expect(defaultDatasetName('/data/ag_news/test.csv')).toBe('ag_news test');
    expect(defaultDatasetName('/data/sst2/dev.tsv')).toBe('sst2 dev');
    expect(defaultDatasetName('C:\\Users\\me\\CB\\Validation.jsonl')).toBe('CB Validation');
    expect(defaultDatasetName('/data/cola/in_domain_train.tsv')).toBe('in_domain_train');
    expect(defaultDatasetName('/data/reviews.2024.csv')).toBe('reviews.2024');
    expect(defaultDatasetName('train.csv')).toBe('train');
    expect(defaultDatasetName('/data/.hidden')).toBe('.hidden');
  });
});
