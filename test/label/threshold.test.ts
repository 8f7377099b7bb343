/**
 * Rare-class decision thresholds (#25 item 3) through the CLI, on CoLA's dev file in its original form (headerless,
 * quote-less TSV; the first 160 lines, 34 % "0"): `sprout library threshold` draws precision and recall of "0"
 * against the threshold on the dataset's validation rows and stores the threshold that reaches a target recall;
 * `sprout label` applies it and names it; `sprout evaluate` scores with it and names it. Python (sqlite3 + csv)
 * recomputes the curve, the chosen threshold, every labelled row's answer and the evaluation's confusion matrix from
 * the labelled file's probabilities, and checks the job's export in every output format row by row.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OUTPUT_FORMATS } from '../../main/choices.js';
import { exportCorrected } from '../../main/label/export.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { importDataset } from '../../main/library/import-dataset.js';
import { insertPrompt } from '../../main/library/prompts.js';
import { insertTask } from '../../main/library/tasks.js';
import { loadPromptModel } from '../../main/runtime/model.js';
import { pointAt, thresholdCurve, thresholdFor } from '../../main/train/threshold.js';
import { lastJson, sprout } from '../fault/spawn.js';
import { checkExport } from './python-export.js';
import { data, fixedPrompt, freshLibrary, tempDir, tinyModel } from './helpers.js';

describe('the threshold rule', () => {
  // Probabilities of the positive label, highest first, and whether each row is positive.
  const curve = thresholdCurve('spam', [0.9, 0.8, 0.8, 0.4, 0.2, 0.1], [true, true, false, true, false, false]);
  it('puts one point after each run of equal probabilities', () => {
    expect(curve.points.map((p) => [p.threshold, p.predicted, p.precision, p.recall])).toEqual([
      [0.9, 1, 1, 1 / 3],
      [0.8, 3, 2 / 3, 2 / 3],
      [0.4, 4, 3 / 4, 1],
      [0.2, 5, 3 / 5, 1],
      [0.1, 6, 1 / 2, 1],
    ]);
  });
  it('takes the lowest threshold that keeps a target precision, the highest that reaches a target recall, and nothing it cannot reach', () => {
    expect(thresholdFor(curve, 'precision', 0.7)).toBe(0.4);
    expect(thresholdFor(curve, 'recall', 0.6)).toBe(0.8);
    expect(thresholdFor(curve, 'threshold', 0.33)).toBe(0.33);
    expect(thresholdFor(curve, 'precision', 1.01)).toBeUndefined();
    expect(pointAt(curve, 0.5)).toEqual({ threshold: 0.5, precision: 2 / 3, recall: 2 / 3, predicted: 3 });
    expect(pointAt(curve, 0.95)).toEqual({ threshold: 0.95, precision: 1, recall: 0, predicted: 0 });
  });
});

const PYTHON = `
import csv, json, sqlite3, sys
library, dataset, labelled, stored = sys.argv[1], int(sys.argv[2]), sys.argv[3], json.loads(sys.argv[4])
db = sqlite3.connect(library)
validation = {json.loads(t)[0] for (t,) in db.execute("SELECT texts FROM dataset_rows WHERE dataset_id = ? AND split = 'validation'", (dataset,))}
decision = json.loads(db.execute('SELECT decision FROM prompts WHERE id = 1').fetchone()[0])
with open(labelled, newline='', encoding='utf-8') as f:
    rows = list(csv.DictReader(f))
t = decision['threshold']
answers = []
for r in rows:
    p = float(r['p_0'])
    assert float(r['threshold_0']) == t, r
    assert abs(float(r['confidence']) - float(r['p_' + r['predicted_label']])) <= 1e-6, r
    if abs(p - t) > 1e-6:
        assert r['predicted_label'] == ('0' if p >= t else '1'), r
    answers.append(r['predicted_label'])
val = [(float(r['p_0']), r['1'] == '0', r['predicted_label'], r['1']) for r in rows if r['3'] in validation]
positives = sum(1 for _, g, _, _ in val if g)
def at(th):
    chosen = [g for p, g, _, _ in val if p >= th]
    return (sum(chosen) / len(chosen) if chosen else 1.0, sum(chosen) / positives)
points = [[th, *at(th)] for th in sorted({p for p, _, _, _ in val}, reverse=True)]
# The highest threshold whose recall of "0" reaches the target, from the file's probabilities (6 places).
chosen = next(th for th, _, rec in points if rec >= stored['target'])
confusion = [[sum(1 for _, _, a, g in val if g == gold and a == ans) for ans in '01'] for gold in '01']
print(json.dumps({'answers': answers, 'validation': len(val), 'positives': positives, 'points': points, 'chosen': chosen, 'confusion': confusion,
                  'label_counts': {l: answers.count(l) for l in sorted(set(answers))}}))
`;

describe('sprout library threshold, label and evaluate on CoLA', () => {
  it(
    'draws the curve on validation, stores the threshold for a target recall, and labels and evaluates with it, naming it',
    { timeout: 120_000 },
    async () => {
      const { home, db } = freshLibrary();
      const dir = tempDir();
      const file = join(dir, 'cola-dev-160.tsv');
      writeFileSync(
        file,
        readFileSync(data('cola/in_domain_dev.tsv'), 'utf8')
          .split(/(?<=\n)/)
          .slice(0, 160)
          .join(''),
      );
      const { id: datasetId } = await importDataset(db, file, {
        header: false,
        quoting: 'none',
        textColumns: ['3'],
        labelColumn: '1',
        template: '{3}',
        split: 0.5,
        name: 'cola',
      });
      const task = insertTask(db, {
        name: 'cola',
        datasetId,
        template: '{3}',
        verbalizer: { 0: 'unacceptable', 1: 'acceptable' },
        labelSet: ['0', '1'],
      });
      const model = await loadPromptModel(tinyModel, { device: 'cpu' });
      const prompt = fixedPrompt(model, 4, 3);
      insertPrompt(db, {
        name: 'cola',
        model: { id: null, path: tinyModel, summary: null },
        length: 4,
        dModel: model.config.dModel,
        embedding: prompt.data,
        init: 'vocab',
        taskId: task.id,
        weightWidth: 'fp32',
      });
      await model.dispose();
      db.close();

      const set = await sprout(
        ['library', 'threshold', '1', '--positive', '0', '--recall', '0.8', '--device', 'cpu', '--threads', '1'],
        home,
      );
      expect(set.code, set.stderr).toBe(0);
      const view = lastJson(set) as {
        positive: string;
        examples: number;
        positives: number;
        decision: { threshold: number; chosen_by: string; target: number; precision: number; recall: number };
        rule: string;
        points: { threshold: number; precision: number; recall: number }[];
      };
      expect(view).toMatchObject({ positive: '0', decision: { chosen_by: 'recall', target: 0.8 } });
      expect(view.decision.recall).toBeGreaterThanOrEqual(0.8);
      expect(view.rule).toBe(`"0" when p(0) ≥ ${Number(view.decision.threshold.toPrecision(4))}, else "1"`);

      const labelled = join(dir, 'cola-labelled.csv');
      const label = await sprout(
        ['label', '--prompt', '1', '--input', file, '--no-header', '--quoting', 'none', '--output', labelled, '--device', 'cpu'],
        home,
      );
      expect(label.code).toBe(0);
      const summary = lastJson(label) as {
        decision: { positive: string; threshold: number; rule: string };
        label_counts: Record<string, number>;
      };
      expect(summary.decision).toEqual({ positive: '0', threshold: view.decision.threshold, rule: view.rule });

      const evaluated = await sprout(
        ['evaluate', '--prompt', '1', '--dataset', String(datasetId), '--device', 'cpu', '--threads', '1'],
        home,
      );
      expect(evaluated.code).toBe(0);
      const report = lastJson(evaluated) as {
        split: string;
        examples: number;
        confusion: number[][];
        decision: string;
        per_class: { precision: number; recall: number }[];
      };

      const py = JSON.parse(
        execFileSync('python3', ['-c', PYTHON, libraryPath(home), String(datasetId), labelled, JSON.stringify(view.decision)], {
          encoding: 'utf8',
        }),
      ) as {
        answers: string[];
        validation: number;
        positives: number;
        points: [number, number, number][];
        chosen: number;
        confusion: number[][];
        label_counts: Record<string, number>;
      };
      // The curve: Sprout's points at Python's thresholds (the file's probabilities are rounded to 6 places).
      expect([view.examples, view.positives]).toEqual([py.validation, py.positives]);
      expect(view.points.length).toBe(py.points.length);
      view.points.forEach((p, i) => {
        expect(p.threshold).toBeCloseTo(py.points[i][0], 5);
        expect([p.precision, p.recall]).toEqual([py.points[i][1], py.points[i][2]]);
      });
      expect(view.decision.threshold).toBeCloseTo(py.chosen, 5);
      expect(summary.label_counts).toEqual(py.label_counts);
      // Evaluation answers as the labelled file does on the validation rows, and says by which rule.
      expect(report).toMatchObject({ split: 'validation', examples: py.validation, confusion: py.confusion, decision: view.rule });
      expect([report.per_class[0].precision, report.per_class[0].recall]).toEqual([view.decision.precision, view.decision.recall]);

      // Every export format keeps the threshold column, and python3 finds every row answered by it.
      const library = openLibrary(libraryPath(home));
      try {
        for (const format of OUTPUT_FORMATS) {
          const exported = join(dir, `cola-exported.${format}`);
          await exportCorrected(library, lastJson(label).job_id as string, { file: exported, format });
          const rows = await checkExport(exported, format, { text: '3', labels: ['0', '1'], label: 'label', source: 'label_source' });
          expect(rows.map((r) => r[1])).toEqual(py.answers);
        }
      } finally {
        library.close();
      }

      // A target out of range is said before anything else; without --positive, the stored threshold's label is taken.
      const outOfRange = await sprout(['library', 'threshold', '1', '--recall', '1.5', '--device', 'cpu'], home);
      expect([outOfRange.code, outOfRange.stderr]).toEqual([2, expect.stringMatching(/^sprout: --recall .*1\.5/)]);
      const again = await sprout(['library', 'threshold', '1', '--precision', '0.5', '--device', 'cpu', '--threads', '1'], home);
      expect(again.code, again.stderr).toBe(0);
      expect(lastJson(again)).toMatchObject({ positive: '0', decision: { positive: '0', chosen_by: 'precision', target: 0.5 } });
    },
  );
});
