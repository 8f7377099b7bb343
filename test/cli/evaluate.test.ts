/**
 * `sprout train` reports its metric choice, baselines and warnings in its JSON; `sprout evaluate` scores the kept
 * prompt on a file in its original form (CoLA dev, headerless TSV) with the same baselines and warnings. Gold
 * counts come from Python's csv module, not from Sprout's reader.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { debianPython, python } from '../data/helpers.js';
import { lastJson, sprout } from '../fault/spawn.js';
import { pythonLabels } from '../train/python-labels.js';
import { COLA_TSV_FLAGS, shared, tinyModel } from '../train/fixtures.js';

const dev = join(shared, 'data/cola/in_domain_dev.tsv');
const trainArgs = [
  'train',
  '--model',
  tinyModel,
  '--device',
  'cpu',
  '--threads',
  '1',
  '--data',
  join(shared, 'data/cola/in_domain_train.tsv'),
  '--no-header',
  '--quoting',
  'none',
  '--limit',
  '120',
  '--validation',
  dev,
  '--validation-limit',
  '30',
  '--text-column',
  '3',
  '--label-column',
  '1',
  '--verbalizer',
  '0=unacceptable because the sentence is not good English at all,1=fine',
  '--prompt-length',
  '4',
  '--batch-size',
  '4',
  '--steps',
  '4',
  '--eval-every',
  '2',
];

describe('sprout train and sprout evaluate: baselines and warnings', () => {
  // The first test trains the prompt and scores it on the file; the second scores it on an imported dataset.
  const home = mkdtempSync(join(tmpdir(), 'sprout-evaluate-'));
  let promptId: number;
  let fileScore: { confusion: number[][]; warnings: string[] };

  it('train --metric auto keeps by MCC on CoLA and says so; evaluate scores the prompt on the raw dev file with the same judgement', async () => {
    const trained = await sprout([...trainArgs, '--metric', 'auto'], home);
    expect(trained.code).toBe(0);
    const t = lastJson(trained) as {
      prompt_id: number;
      metric: string;
      metric_reason: string;
      baselines: { majority: { label: string; share: number }; zero_shot: { step: number } };
      warnings: string[];
      notes: string[];
    };
    expect(t.metric).toBe('mcc');
    expect(t.baselines.zero_shot.step).toBe(0);
    expect(t.warnings.length).toBeGreaterThan(0);
    expect(t.notes).toEqual(expect.arrayContaining(t.warnings));
    expect(trained.stderr).toMatch(/^keeping the best prompt by MCC: the classes are imbalanced/m);
    expect(trained.stderr).toMatch(/^zero-shot baseline \(the initial prompt\): /m);
    expect(trained.stderr).toMatch(/^time estimate: about \S+ for the remaining 2 steps, from the steps after the first/m);

    const gold = pythonLabels(dev, 50);
    const evaluated = await sprout(
      [
        'evaluate',
        '--prompt',
        String(t.prompt_id),
        '--data',
        dev,
        '--no-header',
        '--quoting',
        'none',
        '--label-column',
        '1',
        '--limit',
        '50',
        '--device',
        'cpu',
      ],
      home,
    );
    expect(evaluated.code).toBe(0);
    const e = lastJson(evaluated) as {
      examples: number;
      labels: string[];
      confusion: number[][];
      metric: string;
      value: number;
      mcc: number;
      baselines: { majority: { label: string; share: number }; zero_shot: unknown };
      warnings: string[];
    };
    expect(e.examples).toBe(50);
    expect(e.labels).toEqual(['0', '1']);
    // Row k of the confusion matrix holds the examples whose gold label is k.
    expect(e.confusion.map((row) => row[0] + row[1])).toEqual(['0', '1'].map((l) => gold.filter((g) => g === l).length));
    expect(e.metric).toBe('mcc');
    expect(e.value).toBe(e.mcc);
    expect(e.baselines.majority.share).toBeCloseTo(gold.filter((g) => g === '1').length / 50, 6);
    expect(e.baselines.zero_shot).toBeNull();
    // The prompt answers "fine" (1) for every row: column 0 is empty, and the warning says so.
    expect(e.confusion.map((row) => row[0])).toEqual([0, 0]);
    expect(e.warnings[0]).toMatch(/^Every evaluated example was predicted "1"/);
    expect(evaluated.stderr).toMatch(/^warning: Every evaluated example/m);
    // Scored on the weights the prompt was trained on, whose converted files are checked first, as train and label say.
    expect(evaluated.stderr).toMatch(/^verifying the converted weights: 100% of /m);

    [promptId, fileScore] = [t.prompt_id, e];
  });

  it('evaluate --dataset scores the imported validation split (CoLA dev as the validation file) with the same judgement', async () => {
    const imported = await sprout(
      [
        'data',
        'import',
        join(shared, 'data/cola/in_domain_train.tsv'),
        ...COLA_TSV_FLAGS,
        '--validation',
        dev,
        '--test-split',
        '0',
        '--name',
        'cola',
      ],
      home,
    );
    expect(imported.code).toBe(0);
    const datasetId = (lastJson(imported) as { id: number }).id;
    const byDataset = await sprout(
      ['evaluate', '--prompt', String(promptId), '--dataset', String(datasetId), '--limit', '50', '--device', 'cpu'],
      home,
    );
    expect(byDataset.code).toBe(0);
    const d = lastJson(byDataset) as { split: string; examples: number; confusion: number[][]; warnings: string[] };
    expect(d.split).toBe('validation');
    expect(d.examples).toBe(50);
    expect(d.confusion).toEqual(fileScore.confusion);
    expect(d.warnings).toEqual(fileScore.warnings.map((w) => w.replace('evaluated', 'validation')));

    // A split the dataset does not have is said to be empty, before the model loads, not to be "unlabelled".
    const noTest = await sprout(['data', 'import', dev, ...COLA_TSV_FLAGS, '--test-split', '0', '--name', 'cola dev'], home);
    const noTestId = (lastJson(noTest) as { id: number }).id;
    const empty = await sprout(['evaluate', '--prompt', String(promptId), '--dataset', String(noTestId), '--split', 'test'], home);
    expect([empty.code, empty.stderr.trim().split('\n').at(-1)]).toEqual([
      2,
      `sprout: Dataset ${noTestId} (test) has no rows at all. Choose another split or file: a dataset imported without a test share has no test split.`,
    ]);
    expect(empty.stderr).not.toMatch(/verifying the converted weights/);
    // A dataset imported without labels has rows, none of them labelled: said so, not "no rows".
    const unlabelled = await sprout(['data', 'import', dev, '--no-header', '--quoting', 'none', '--text-column', '3', '--no-label'], home);
    const unlabelledId = (lastJson(unlabelled) as { id: number }).id;
    const none = await sprout(['evaluate', '--prompt', String(promptId), '--dataset', String(unlabelledId)], home);
    expect([none.code, none.stderr.trim().split('\n').at(-1)]).toEqual([
      2,
      expect.stringMatching(
        new RegExp(
          `^sprout: Dataset ${unlabelledId} has no labelled rows to score \\(it was imported without a label column\\)\\. Evaluate on data with gold labels`,
        ),
      ),
    ]);
  });

  it('evaluate names what to do for a prompt that came without a task (a PEFT round trip)', async () => {
    const peft = join(mkdtempSync(join(tmpdir(), 'sprout-evaluate-peft-')), 'adapter');
    expect((await sprout(['library', 'export', String(promptId), '--peft', peft], home)).code).toBe(0);
    const imported = await sprout(['library', 'import', '--peft', peft, '--model', tinyModel], home);
    expect(imported.code, imported.stderr).toBe(0);
    const id = String((lastJson(imported) as { id: number }).id);
    const refused = await sprout(
      ['evaluate', '--prompt', id, '--data', dev, '--no-header', '--label-column', '1', '--device', 'cpu'],
      home,
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`Prompt ${id} has no task, so its labels are unknown`);
    expect(refused.stderr).toContain(`sprout label --prompt ${id} --input FILE --labels A,B --template T --label-column GOLD`);
  });

  it('evaluate says which columns or labels a file lacks, instead of blaming the labels for both', async () => {
    const evaluate = (file: string, labelColumn: string) =>
      sprout(
        ['evaluate', '--prompt', String(promptId), '--data', file, '--no-header', '--quoting', 'none', '--label-column', labelColumn],
        home,
      );
    // SST-2's dev file read without its header has columns 0 and 1; the prompt's template reads column 3.
    const narrow = await evaluate(join(shared, 'data/sst2/dev.tsv'), '1');
    expect(narrow.code).toBe(2);
    expect(narrow.stderr).toContain(
      'The prompt was trained on column(s) "3", which this file lacks; which column holds the text? The input\'s columns are "0", "1".',
    );
    expect(narrow.stderr).toContain('Pass --text-column NAME');
    // RTE dev's fourth column holds its header's "label" and two words, none of CoLA's 0 and 1.
    const otherLabels = await evaluate(join(shared, 'data/rte/dev.tsv'), '3');
    expect(otherLabels.code).toBe(2);
    expect(otherLabels.stderr).toContain(
      'has no rows with one of the prompt\'s labels (0, 1): its rows are labelled "label", "not_entailment", "entailment".',
    );
  });

  it('evaluate reads a file whose text column is named otherwise with --text-column, scoring what `sprout label` labels', async () => {
    // The prompt was trained on column 3 of headerless CoLA; SST-2's dev file names its text "sentence".
    const sst2 = join(mkdtempSync(join(tmpdir(), 'sprout-evaluate-sst2-')), 'dev.tsv');
    writeFileSync(sst2, readFileSync(join(shared, 'data/sst2/dev.tsv'), 'utf8').split('\n').slice(0, 61).join('\n') + '\n');
    const cut = ['--max-input-length', '20'];
    const evaluated = await sprout(
      ['evaluate', '--prompt', String(promptId), '--data', sst2, '--label-column', 'label', '--text-column', 'sentence', ...cut],
      home,
    );
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const e = lastJson(evaluated) as { template: string; examples: number; truncated: number; confusion: number[][] };
    expect([e.template, e.examples]).toEqual(['{sentence}', 60]);
    // The sentences were read: as many are cut as SentencePiece (Python) finds longer than 19 tokens and eos.
    const longer = debianPython(
      `import csv, sys, sentencepiece
sp = sentencepiece.SentencePieceProcessor(model_file=sys.argv[2])
rows = csv.DictReader(open(sys.argv[1], newline=''), delimiter='\\t', quoting=csv.QUOTE_NONE)
print(sum(len(sp.encode(r['sentence'])) + 1 > 20 for r in rows))`,
      sst2,
      join(tinyModel, 'spiece.model'),
    );
    expect(e.truncated).toBe(Number(longer));
    // A spreadsheet's stray spaces around gold labels ("0 "): the same rows and scores, as import and label read them.
    const spaced = join(dirname(sst2), 'spaced.tsv');
    debianPython(
      `import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline=''), delimiter='\\t', quoting=csv.QUOTE_NONE))
w = csv.writer(open(sys.argv[2], 'w', newline=''), delimiter='\\t', quoting=csv.QUOTE_NONE, lineterminator='\\n')
w.writerows([rows[0]] + [[r[0], r[1] + ' '] for r in rows[1:]])`,
      sst2,
      spaced,
    );
    const withSpaces = await sprout(
      ['evaluate', '--prompt', String(promptId), '--data', spaced, '--label-column', 'label', '--text-column', 'sentence', ...cut],
      home,
    );
    expect(withSpaces.code, withSpaces.stderr).toBe(0);
    expect(lastJson(withSpaces)).toMatchObject({ examples: 60, skipped: 0, confusion: e.confusion });
    const output = join(dirname(sst2), 'labelled.csv');
    const labelled = await sprout(
      ['label', '--prompt', String(promptId), '--input', sst2, '--text-column', 'sentence', '--output', output, ...cut],
      home,
    );
    expect(labelled.code, labelled.stderr).toBe(0);
    expect((lastJson(labelled) as { truncated: number }).truncated).toBe(e.truncated);
    // Python's csv reads the labelled copy: its gold and predicted labels make the same confusion matrix.
    const rows = JSON.parse(
      python(
        'import csv, json, sys\nprint(json.dumps([[r["label"], r["predicted_label"]] for r in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8-sig"))]))',
        output,
      ),
    ) as [string, string][];
    const count = (g: number, p: number) => rows.filter(([gold, predicted]) => gold === String(g) && predicted === String(p)).length;
    expect(e.confusion).toEqual([0, 1].map((g) => [0, 1].map((p) => count(g, p))));
  });

  it('evaluate refuses unclear requests with a one-line usage error', async () => {
    const home = mkdtempSync(join(tmpdir(), 'sprout-evaluate-'));
    const none = await sprout(['evaluate', '--data', dev], home);
    expect([none.code, none.stderr.trim()]).toEqual([2, expect.stringContaining('--prompt ID')]);
    const both = await sprout(['evaluate', '--prompt', '1', '--data', dev, '--dataset', '1'], home);
    expect([both.code, both.stderr]).toEqual([2, expect.stringContaining('--data FILE or --dataset ID (one of them)')]);
    const columnOfDataset = await sprout(['evaluate', '--prompt', '1', '--dataset', '1', '--text-column', 'review'], home);
    expect([columnOfDataset.code, columnOfDataset.stderr]).toEqual([
      2,
      expect.stringContaining('a --dataset keeps the template it was imported with'),
    ]);
  });
});
