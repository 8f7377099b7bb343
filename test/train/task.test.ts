import { mkdtempSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadTokenizer, type T5Tokenizer } from '../../main/tokenizer/index.js';
import { cacheKey, cachedEncoding, encodeExamples } from '../../main/train/encode.js';
import { DataOrder } from '../../main/train/order.js';
import { Mt19937 } from '../../main/train/rng/mt19937.js';
import { parseVerbalizer, renderExample, resolveTask, type RawExample, type TaskDefinition } from '../../main/train/task.js';
import { pythonCsvRows } from '../data/helpers.js';
import { miniModel } from './fixtures.js';

const agNews = path.resolve(__dirname, '../../../shared/data/ag_news/test.csv');

const rows = (pairs: [string, string][]): RawExample[] =>
  pairs.map(([sentence, label], i) => ({ fields: { sentence, label }, line: i + 2 }));
const task = (over: Partial<TaskDefinition> = {}): TaskDefinition => ({
  template: '{sentence}',
  labelColumn: 'label',
  maxInputLength: 512,
  maxTargetLength: 32,
  ...over,
});

describe('task definition', () => {
  it('parses verbalisers, with escaped commas and equals signs', () => {
    expect(parseVerbalizer('0=unacceptable,1=acceptable')).toEqual({ 0: 'unacceptable', 1: 'acceptable' });
    expect(parseVerbalizer('a\\,b=x\\=y, c = z')).toEqual({ 'a,b': 'x=y', c: 'z' });
    expect(Object.entries(parseVerbalizer('__proto__=odd,constructor=maker'))).toEqual([
      ['__proto__', 'odd'],
      ['constructor', 'maker'],
    ]);
    expect(() => parseVerbalizer('0=neg,0=pos')).toThrow(/twice/);
    expect(() => parseVerbalizer('0neg')).toThrow(/not LABEL=WORDS/);
  });

  it('refuses numeric labels without words, naming them and suggesting a verbaliser', () => {
    expect(() =>
      resolveTask(
        task(),
        rows([
          ['a', '0'],
          ['b', '1'],
          ['c', '1'],
        ]),
        'train.tsv',
      ),
    ).toThrow(/labels include numbers \(0, 1\).*--verbalizer '0=<words>,1=<words>'/);
  });

  it("names every label of AG News's original file in the verbaliser to write, not a two-label example", () => {
    // Python's csv reads the headerless file; its class index (1-4) is column 0. The hint was
    // "--verbalizer '1=negative,2=positive'", two words for four classes.
    const records = pythonCsvRows(agNews, { delimiter: ',' });
    const examples = records.map(([label, title], i) => ({ fields: { sentence: title, label }, line: i + 1 }));
    const labels = [...new Set(records.map((r) => r[0]))].sort();
    expect(labels).toEqual(['1', '2', '3', '4']);
    const wanted = labels.map((l) => `${l}=<words>`).join(',');
    expect(() => resolveTask(task(), examples, agNews)).toThrow(`--verbalizer '${wanted}'`);
    expect(() => resolveTask(task({ verbalizer: { 1: 'world', 2: 'sports' } }), examples, agNews)).toThrow(
      /Label "3" has no words in the verbaliser \(2 labels without\)\. Add 3=<words>,4=<words> to --verbalizer/,
    );
  });

  it('names the line of a label the verbaliser does not cover', () => {
    expect(() =>
      resolveTask(
        task({ verbalizer: { 0: 'no' } }),
        rows([
          ['a', '0'],
          ['b', '1'],
        ]),
        'train.tsv',
      ),
    ).toThrow(/train\.tsv:3: Label "1" has no words/);
  });

  it("refuses training rows of one label, naming it, even where the verbaliser names two (SST-2's positive rows alone)", () => {
    // Such a run kept a prompt that always says "1" and reported it as 100 % accurate on validation rows of "1".
    const sst2 = path.resolve(__dirname, '../../../shared/data/sst2/dev.tsv');
    const positive = pythonCsvRows(sst2, { delimiter: '\t', quoting: 'none' })
      .slice(1, 60)
      .filter(([, label]) => label === '1')
      .map(([sentence, label], i) => ({ fields: { sentence, label }, line: i + 2 }));
    for (const verbalizer of [undefined, { 0: 'negative', 1: 'positive' }]) {
      expect(() => resolveTask(task({ verbalizer }), positive, sst2)).toThrow(
        /dev\.tsv: Every training example has the label "1".*Add training rows of at least one other label/,
      );
    }
  });

  it("refuses SST-2's labels read as text, and verbalisers whose words cannot tell two labels apart", () => {
    const sst2 = path.resolve(__dirname, '../../../shared/data/sst2/dev.tsv');
    const examples = pythonCsvRows(sst2, { delimiter: '\t', quoting: 'none' })
      .slice(1, 60)
      .map(([sentence, label], i) => ({ fields: { sentence, label }, line: i + 2 }));
    const words = { 0: 'negative', 1: 'positive' };
    expect(() => resolveTask(task({ template: '{sentence} {label}', verbalizer: words }), examples, sst2)).toThrow(
      'The label column "label" is also read as text: each input would hold its own answer.',
    );
    expect(() => resolveTask(task({ verbalizer: { 0: 'bad', 1: ' bad' } }), examples, sst2)).toThrow(
      'Labels "0" and "1" have the same words ("bad"): the model could not tell them apart.',
    );
    expect(() => resolveTask(task({ verbalizer: { 0: 'bad', 1: '  ' } }), examples, sst2)).toThrow(
      'Label "1" has no words in the verbaliser, only spaces.',
    );
    expect(resolveTask(task({ verbalizer: words }), examples, sst2).labelTexts).toEqual(['negative', 'positive']);
  });

  it('names a missing column and lists the ones there are', () => {
    expect(() => resolveTask(task({ template: '{text}' }), rows([['a', 'x']]), 'f.csv')).toThrow(
      /no column "text" \(columns: sentence, label\)/,
    );
  });

  it('keeps the verbaliser order for labels, and sorts labels otherwise; free text becomes generation', () => {
    expect(
      resolveTask(
        task({ verbalizer: { pos: 'yes', neg: 'no' } }),
        rows([
          ['a', 'neg'],
          ['b', 'pos'],
          ['c', 'pos'],
        ]),
        'f',
      ).labels,
    ).toEqual(['pos', 'neg']);
    const r = resolveTask(
      task(),
      rows([
        ['a', 'pos'],
        ['b', 'neg'],
        ['c', 'pos'],
      ]),
      'f',
    );
    expect([r.kind, r.labels, r.labelTexts]).toEqual(['classification', ['neg', 'pos'], ['neg', 'pos']]);
    // A cell's stray spaces make no class of their own, in the label set or an example's target.
    const spaced = rows([
      ['a', 'pos '],
      ['b', ' neg'],
      ['c', 'pos'],
    ]);
    const s = resolveTask(task({ verbalizer: { pos: 'yes', neg: 'no' } }), spaced, 'f');
    expect(s.labels).toEqual(['pos', 'neg']);
    expect(spaced.map((ex) => renderExample(task({ verbalizer: { pos: 'yes', neg: 'no' } }), s, ex, 'f')?.label)).toEqual([0, 1, 0]);
    expect(
      resolveTask(
        task(),
        rows([
          ['a', 'one answer'],
          ['b', 'another'],
          ['c', 'third'],
        ]),
        'f',
      ).kind,
    ).toBe('generation');
  });
});

describe('tokenisation and its cache', () => {
  let tokenizer: T5Tokenizer;
  beforeAll(async () => {
    tokenizer = await loadTokenizer(miniModel);
  });

  it('renders the template, maps labels through the verbaliser, cuts long inputs keeping eos and counts cuts and unlabelled rows', () => {
    const t = task({ template: 'premise: {sentence}', verbalizer: { 0: 'no', 1: 'yes' }, maxInputLength: 4 });
    const raw = rows([
      ['a b', '0'],
      ['one two three four five six', '1'],
      ['x', ''],
    ]);
    const resolved = resolveTask(t, raw, 'f');
    const e = encodeExamples(tokenizer, t, resolved, raw, 'f');
    expect(e.examples[0]).toEqual({
      input: tokenizer.encode('premise: a b').slice(0, 3).concat(1),
      target: tokenizer.encode('no'),
      label: 0,
    });
    expect(e.examples[1].input).toHaveLength(4);
    expect(e.examples[1].input.at(-1)).toBe(1);
    expect([e.truncatedInputs, e.truncatedTargets, e.skipped, e.examples.length]).toEqual([2, 0, 1, 2]);
  });

  it('tokenises once: a second call with the same key reads the cache file instead', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sprout-cache-'));
    const t = task({ verbalizer: { 0: 'no', 1: 'yes' } });
    const raw = rows([
      ['good', '1'],
      ['bad', '0'],
    ]);
    const resolved = resolveTask(t, raw, 'f');
    const key = cacheKey({ content: 'file:abc', task: t, resolved, tokenizer: 'tok' });
    let calls = 0;
    const encode = () => (calls++, encodeExamples(tokenizer, t, resolved, raw, 'f'));
    const first = cachedEncoding(dir, key, encode);
    const second = cachedEncoding(dir, key, encode);
    expect([first.hit, second.hit, calls]).toEqual([false, true, 1]);
    expect(second.split).toEqual(first.split);
    expect(readdirSync(dir)).toEqual([`${key}.safetensors`]);
    expect(cacheKey({ content: 'file:abc', task: { ...t, maxInputLength: 8 }, resolved, tokenizer: 'tok' })).not.toBe(key);
    expect(cacheKey({ content: 'file:abd', task: t, resolved, tokenizer: 'tok' })).not.toBe(key);
  });
});

describe('data order', () => {
  it('without bucketing: consecutive slices of torch.randperm, last partial dropped, next epoch continues the generator', () => {
    const order = new DataOrder(new Array(10).fill(5), 3, 0, false);
    const g = new Mt19937(0);
    const e1 = g.randperm(10);
    const e2 = g.randperm(10);
    const got = Array.from({ length: 6 }, () => order.next());
    expect(got).toEqual([e1.slice(0, 3), e1.slice(3, 6), e1.slice(6, 9), e2.slice(0, 3), e2.slice(3, 6), e2.slice(6, 9)]);
  });

  it('with bucketing: every batch of an epoch is full, examples appear at most once, and batches are length-sorted runs', () => {
    const lengths = Array.from({ length: 200 }, (_, i) => (i * 37) % 50);
    const order = new DataOrder(lengths, 8, 3, true);
    const seen = new Set<number>();
    let spread = 0;
    for (let b = 0; b < order.epochBatches; b++) {
      const batch = order.next();
      expect(batch).toHaveLength(8);
      batch.forEach((i) => (expect(seen.has(i)).toBe(false), seen.add(i)));
      spread += Math.max(...batch.map((i) => lengths[i])) - Math.min(...batch.map((i) => lengths[i]));
    }
    // Random batches of 8 from lengths 0..49 span ~38 tokens on average; windows of 16 batches sorted span far less.
    expect(spread / order.epochBatches).toBeLessThan(8);
  });

  it('resumes from its state exactly, across an epoch boundary', () => {
    const lengths = Array.from({ length: 50 }, (_, i) => i % 7);
    const a = new DataOrder(lengths, 4, 9, true);
    for (let i = 0; i < 15; i++) a.next();
    const b = new DataOrder(lengths, 4, 9, true, JSON.parse(JSON.stringify(a.state())));
    for (let i = 0; i < 20; i++) expect(b.next()).toEqual(a.next());
  });

  it('a set smaller than one batch is one batch', () => {
    expect(new DataOrder([1, 2, 3], 32, 0, false).next().sort()).toEqual([0, 1, 2]);
  });
});
