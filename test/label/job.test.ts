import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabelJob, resumeLabelJob, type LabelEngine } from '../../main/label/job.js';
import { exportCorrected } from '../../main/label/export.js';
import { getJob } from '../../main/label/jobs.js';
import { listReviewRows, recordCorrection, saveCorrectionsAsDataset } from '../../main/label/review.js';
import type { SproutError } from '../../main/errors.js';
import { getDataset, loadDatasetRows } from '../../main/library/datasets.js';
import { debianPython, openpyxlRows, openpyxlWorkbook, python, transcode } from '../data/helpers.js';
import { cbTask, data, fixedPrompt, freshLibrary, tempDir, tinyEngine } from './helpers.js';

let engine: LabelEngine;
beforeAll(async () => {
  engine = await tinyEngine(cbTask, [1, 2, 3]);
});
afterAll(() => engine.model.dispose());

const one = (k: number): LabelEngine => ({ ...engine, prompts: [engine.prompts[k]] });
const readJsonl = (file: string) =>
  readFileSync(file, 'utf8')
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, any>);
const cbInput = data('cb/val.jsonl');
/** CoLA's acceptability, read from its fourth column, for the files Excel writes. */
const task = { ...cbTask, labels: ['0', '1'], verbalisers: ['unacceptable', 'acceptable'], template: '{3}' };
const cola: () => LabelEngine = () => ({ ...engine, prompts: [{ ...engine.prompts[0], task }] });
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

describe('a prompt ensemble', () => {
  it("votes the single prompts' labels, averages their probabilities and reports agreement", async () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const singles: Record<string, any>[][] = [];
    for (let k = 0; k < 3; k++) {
      const out = join(dir, `single-${k}.jsonl`);
      await startLabelJob(db, one(k), { input: cbInput, output: out, batchSize: 8 });
      singles.push(readJsonl(out));
    }
    const out = join(dir, 'ensemble.jsonl');
    const summary = await startLabelJob(db, engine, { input: cbInput, output: out, batchSize: 8, goldColumn: 'label' });
    const rows = readJsonl(out);
    expect(rows).toHaveLength(56);
    let agreementSum = 0;
    rows.forEach((row, i) => {
      const votes: Record<string, number> = {};
      for (const s of singles) votes[s[i].predicted_label] = (votes[s[i].predicted_label] ?? 0) + 1;
      const mean = (l: string) => singles.reduce((a, s) => a + s[i][`p_${l}`], 0) / 3;
      for (const l of cbTask.labels) expect(Math.abs(row[`p_${l}`] - mean(l))).toBeLessThan(3e-6);
      const top = Math.max(...Object.values(votes));
      const winners = cbTask.labels.filter((l) => votes[l] === top);
      const expected = winners.reduce((a, b) => (mean(b) > mean(a) ? b : a));
      expect(row.predicted_label).toBe(expected);
      expect(row.agreement).toBeCloseTo(top / 3, 6);
      agreementSum += top / 3;
    });
    expect(summary.agreement).toBeCloseTo(agreementSum / 56, 5);
    expect(new Set(singles.flatMap((s) => s.map((r) => r.predicted_label))).size).toBeGreaterThan(1);
  });
});

describe('cancel and resume in process', () => {
  it('stops at a commit when the signal aborts and resumes to the same file', async () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const whole = join(dir, 'whole.csv');
    const input = join(dir, 'input.tsv');
    copyFileSync(data('rte/dev.tsv'), input);
    const options = { input, template: '{sentence1} {sentence2}', goldColumn: 'label', batchSize: 8, commitRows: 16 };
    const task = { ...cbTask, labels: ['entailment', 'not_entailment'], verbalisers: ['entailment', 'not_entailment'] };
    const rte: LabelEngine = { ...engine, prompts: [{ ...engine.prompts[0], task }] };
    const full = await startLabelJob(db, rte, { ...options, output: whole });

    const cut = join(dir, 'cut.csv');
    const controller = new AbortController();
    const progress: number[] = [];
    const first = await startLabelJob(
      db,
      rte,
      { ...options, output: cut },
      {
        signal: controller.signal,
        onProgress: (p) => {
          progress.push(p.rowsDone);
          if (p.rowsDone >= 48) controller.abort();
        },
      },
    );
    expect(first).toMatchObject({ status: 'cancelled', rows: 48, total_rows: 277 });
    expect(progress).toEqual([0, 16, 32, 48]);
    expect(getJob(db, first.job_id)!.status).toBe('cancelled');

    // A resume with another prompt is refused before anything is touched.
    const other = { ...rte, prompts: [{ ...rte.prompts[0], prompt: fixedPrompt(engine.model, 4, 99) }] };
    await expect(resumeLabelJob(db, first.job_id, other)).rejects.toThrow(/differ from those/);

    const done = await resumeLabelJob(db, first.job_id, rte);
    expect(done).toMatchObject({ status: 'done', rows: 277, labelled: 277 });
    expect(readFileSync(cut).equals(readFileSync(whole))).toBe(true);
    expect(done.accuracy).toEqual(full.accuracy);
    expect(done.label_counts).toEqual(full.label_counts);
  });
});

describe('a file from Excel', () => {
  it('a Windows-1252 input: read as chosen, resumed so, written as UTF-8 with the byte order mark Excel needs', async () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const input = join(dir, 'in_domain_dev.tsv');
    transcode(data('cola/in_domain_dev.tsv'), input, 'cp1252');
    const options = { input, header: false, encoding: 'windows-1252' as const, batchSize: 8, commitRows: 64 };
    const whole = join(dir, 'whole.csv');
    await startLabelJob(db, cola(), { ...options, output: whole });
    const cut = join(dir, 'cut.csv');
    const controller = new AbortController();
    const first = await startLabelJob(
      db,
      cola(),
      { ...options, output: cut },
      { signal: controller.signal, onProgress: (p) => p.rowsDone >= 128 && controller.abort() },
    );
    expect(first).toMatchObject({ status: 'cancelled', rows: 128 });
    expect(await resumeLabelJob(db, first.job_id, cola())).toMatchObject({ status: 'done', rows: 527 });
    expect(readFileSync(cut).equals(readFileSync(whole))).toBe(true);
    expect(readFileSync(whole).subarray(0, 3).equals(BOM)).toBe(true);
    // Python reads the output as UTF-8 with its mark, and the input as cp1252: the sentences agree, José included.
    const script = `
import csv, json, sys
out = list(csv.DictReader(open(sys.argv[1], newline='', encoding='utf-8-sig')))
src = list(csv.reader(open(sys.argv[2], newline='', encoding='cp1252'), delimiter='\\t', quoting=csv.QUOTE_NONE))
print(json.dumps({'header': list(out[0].keys())[:4], 'out': [r['3'] for r in out], 'in': [r[3] for r in src]}))`;
    const read = JSON.parse(python(script, whole, input)) as { header: string[]; out: string[]; in: string[] };
    expect(read.header).toEqual(['0', '1', '2', '3']);
    expect(read.out).toEqual(read.in);
    expect(read.out.filter((t) => t.includes('é'))).toHaveLength(2);
  });

  it('a German sheet (semicolons, cp1252, decimal commas): output and export keep the semicolons, with the mark', async () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const input = join(dir, 'bewertungen.csv');
    python(
      'import csv, sys\nwith open(sys.argv[1], "w", newline="", encoding="cp1252") as f:\n    w = csv.writer(f, delimiter=";")\n    w.writerow(["Text", "Preis"])\n    for i in range(40): w.writerow([f"Größe passt; Qualität „gut“ {i}", f"{i},50"])',
      input,
    );
    const german = { ...task, template: '{Text}' };
    const labeller: LabelEngine = { ...engine, prompts: [{ ...engine.prompts[0], task: german }] };
    const output = join(dir, 'bewertungen.labelled.csv');
    const { job_id: job } = await startLabelJob(db, labeller, { input, encoding: 'windows-1252', output, batchSize: 8 });
    const exported = join(dir, 'bewertungen.export.csv');
    await exportCorrected(db, job, { file: exported });
    const script = `
import csv, json, sys
read = lambda path, enc: list(csv.DictReader(open(path, newline='', encoding=enc), delimiter=';'))
src, out, exp = read(sys.argv[1], 'cp1252'), read(sys.argv[2], 'utf-8-sig'), read(sys.argv[3], 'utf-8-sig')
print(json.dumps({'src': [[r['Text'], r['Preis']] for r in src], 'out': [[r['Text'], r['Preis'], r['predicted_label']] for r in out],
  'exp': [[r['Text'], r['Preis'], r['label']] for r in exp]}))`;
    const read = JSON.parse(python(script, input, output, exported)) as Record<'src' | 'out' | 'exp', string[][]>;
    expect(read.out.map((r) => r.slice(0, 2))).toEqual(read.src);
    expect(read.exp).toEqual(read.out);
    expect(read.out.every((r) => task.labels.includes(r[2]))).toBe(true);
    for (const file of [output, exported]) expect(readFileSync(file).subarray(0, 3).equals(BOM)).toBe(true);
    expect(read.src[1]).toEqual(['Größe passt; Qualität „gut“ 1', '1,50']);
  });

  it('a UTF-8 input keeps its byte order mark in the output, and one without gets none', async () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const marked = join(dir, 'marked.tsv');
    python(
      `import sys; open(sys.argv[2], 'w', encoding='utf-8-sig', newline='').write(open(sys.argv[1], encoding='utf-8').read())`,
      data('cola/out_of_domain_dev.tsv'),
      marked,
    );
    const withMark = join(dir, 'with.tsv');
    const without = join(dir, 'without.tsv');
    await startLabelJob(db, cola(), { input: marked, header: false, output: withMark, batchSize: 8 });
    await startLabelJob(db, cola(), { input: data('cola/out_of_domain_dev.tsv'), header: false, output: without, batchSize: 8 });
    expect(readFileSync(withMark).subarray(0, 3).equals(BOM)).toBe(true);
    expect(readFileSync(without)[0]).toBe('0'.charCodeAt(0));
    expect(readFileSync(withMark).subarray(3).equals(readFileSync(without))).toBe(true);
  });
});

describe('a workbook from Excel', () => {
  it('is labelled into a workbook beside it, resumed to the same bytes; openpyxl reads it, on the same sheet', async () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const input = join(dir, 'cola-dev.xlsx');
    openpyxlWorkbook(data('cola/in_domain_dev.tsv'), input, { delimiter: '\t', quoting: 'none' });
    const whole = await startLabelJob(db, cola(), { input, batchSize: 8 });
    expect(whole).toMatchObject({
      status: 'done',
      rows: 527,
      format: 'xlsx',
      output: join(dir, 'cola-dev.test-prompt-1.labelled.xlsx'),
    });
    const controller = new AbortController();
    const cut = join(dir, 'cut.xlsx');
    const first = await startLabelJob(
      db,
      cola(),
      { input, output: cut, batchSize: 8, commitRows: 64 },
      { signal: controller.signal, onProgress: (p) => p.rowsDone >= 128 && controller.abort() },
    );
    expect(first).toMatchObject({ status: 'cancelled', rows: 128 });
    expect(await resumeLabelJob(db, first.job_id, cola())).toMatchObject({ status: 'done', rows: 527 });
    expect(readFileSync(cut).equals(readFileSync(whole.output))).toBe(true);
    // The part file is gone once the workbook is written.
    expect(existsSync(`${cut}.part.jsonl`)).toBe(false);
    // Stopped after its last row, before the workbook is written: the resume only converts, to the same bytes.
    const late = new AbortController();
    const last = join(dir, 'last.xlsx');
    const stopped = await startLabelJob(
      db,
      cola(),
      // One window of every row, committed before the input is found to end, where a stop is looked at.
      { input, output: last, batchSize: 8, commitRows: 527 },
      { signal: late.signal, onProgress: (p) => p.rowsDone === 527 && late.abort() },
    );
    expect([stopped.status, stopped.rows, existsSync(last), existsSync(`${last}.part.jsonl`)]).toEqual(['cancelled', 527, false, true]);
    expect(await resumeLabelJob(db, stopped.job_id, cola())).toMatchObject({ status: 'done', rows: 527 });
    expect(readFileSync(last).equals(readFileSync(whole.output))).toBe(true);
    const [header, ...rows] = openpyxlRows(cut, 'data').map((r) => r.cells);
    const source = openpyxlRows(input, 'data').map((r) => r.cells);
    // CoLA has no header row: the copy's names its columns by position, as a CSV copy does.
    expect(header).toEqual(['0', '1', '2', '3', 'predicted_label', 'confidence', 'runner_up', 'margin', 'p_0', 'p_1', 'skipped_reason']);
    expect(rows.map((r) => r.slice(0, 4))).toEqual(source.map((r) => r.slice(0, 4)));
    expect(new Set(rows.map((r) => r[4]))).toEqual(new Set(['0', '1']));
    expect(debianPython('import openpyxl, sys\nprint(openpyxl.load_workbook(sys.argv[1])["data"].freeze_panes)', cut).trim()).toBe('A2');
    // Asked for CSV, it writes CSV with the mark Excel needs to read UTF-8.
    const csv = await startLabelJob(db, cola(), { input, output: join(dir, 'as.csv'), batchSize: 8 });
    expect(csv.format).toBe('csv');
    expect(readFileSync(csv.output).subarray(0, 3).equals(BOM)).toBe(true);
  });
});

describe('numbers of a JSON input', () => {
  it('are written back as the file wrote them (64-bit ids, 1.0, 1e400, -0), in JSON Lines and CSV, as Python reads them', async () => {
    const dir = tempDir();
    const input = join(dir, 'cb-ids.jsonl');
    // CB's own lines, each with the numbers a double would change put in front of its fields.
    const lines = readFileSync(cbInput, 'utf8').trimEnd().split('\n').slice(0, 12);
    const numbers = (i: number) =>
      `"tweet_id": ${1453678912345678901n + BigInt(i)}, "score": ${i}.0, "huge": 1e400, "zero": -0, "n": [${i}.50]`;
    writeFileSync(input, lines.map((l, i) => `{${numbers(i)}, ${l.trimStart().slice(1)}`).join('\n') + '\n');
    const { db } = freshLibrary();
    const jsonl = await startLabelJob(db, one(0), { input, output: join(dir, 'out.jsonl') });
    const csv = await startLabelJob(db, one(0), { input, output: join(dir, 'out.csv') });
    // Python's json gives each number's own text; its csv reader each cell.
    const script = `
import csv, json, sys
text = lambda s: 'number ' + s
read = lambda f: [json.loads(l, parse_int=text, parse_float=text, parse_constant=text) for l in open(f)]
rows = [{k: r[k] for k in ('tweet_id', 'score', 'huge', 'zero', 'n', 'idx')} for r in read(sys.argv[2])]
cells = [{k: r[k] for k in ('tweet_id', 'score', 'huge', 'zero', 'n')} for r in csv.DictReader(open(sys.argv[3], encoding='utf-8-sig'))]
print(json.dumps([rows == [{k: r[k] for k in rows[0]} for r in read(sys.argv[1])], rows[:2], cells[:2]]))`;
    const [same, rows, cells] = JSON.parse(python(script, input, jsonl.output, csv.output));
    expect(same).toBe(true);
    expect(rows).toEqual(
      [0, 1].map((i) => ({
        tweet_id: `number ${1453678912345678901n + BigInt(i)}`,
        score: `number ${i}.0`,
        huge: 'number 1e400',
        zero: 'number -0',
        n: [`number ${i}.50`],
        idx: `number ${i}`,
      })),
    );
    expect(cells).toEqual(
      [0, 1].map((i) => ({ tweet_id: `${1453678912345678901n + BigInt(i)}`, score: `${i}.0`, huge: '1e400', zero: '-0', n: `[${i}.50]` })),
    );
  });
});

describe('review', () => {
  it('lists rows lowest confidence first, records corrections and saves them as a dataset', async () => {
    const { db } = freshLibrary();
    const out = join(tempDir(), 'cb.jsonl');
    const job = await startLabelJob(db, one(0), { input: cbInput, output: out, goldColumn: 'label' });
    const written = readJsonl(out);
    const first = listReviewRows(db, job.job_id, { limit: 10 });
    const second = listReviewRows(db, job.job_id, { offset: 10, limit: 10 });
    expect(first.total).toBe(56);
    const confidences = [...first.rows, ...second.rows].map((r) => r.confidence);
    expect(confidences).toEqual([...confidences].sort((a, b) => a - b));
    const all = written.map((r) => r.confidence as number).sort((a, b) => a - b);
    expect(confidences).toEqual(all.slice(0, 20));
    const r0 = first.rows[0];
    expect(r0.text).toBe(`premise: ${written[r0.row].premise} hypothesis: ${written[r0.row].hypothesis}`);
    expect(r0.gold).toBe(written[r0.row].label);
    expect(r0.predicted).toBe(written[r0.row].predicted_label);

    // Correct the three least confident rows to their gold label; confirm a fourth.
    const corrected = first.rows.slice(0, 3);
    for (const r of corrected) recordCorrection(db, job.job_id, r.row, r.gold);
    recordCorrection(db, job.job_id, first.rows[3].row, first.rows[3].predicted);
    expect(() => recordCorrection(db, job.job_id, 0, 'maybe')).toThrow(/not one of this task's labels/);
    // A label in another case is refused too (classes are kept as written), naming the one it most likely meant.
    const refusal = (() => {
      try {
        recordCorrection(db, job.job_id, 0, 'Neutral');
      } catch (error) {
        return error as SproutError;
      }
    })();
    expect(refusal?.details.hint).toBe('Did you mean "neutral"? Labels are matched as written, case included.');
    expect(listReviewRows(db, job.job_id, { state: 'unreviewed' }).total).toBe(52);
    expect(listReviewRows(db, job.job_id, { state: 'reviewed' }).counts).toEqual({
      labelled: 56,
      reviewed: 4,
      corrected: corrected.filter((r) => r.gold !== r.predicted).length,
    });

    const expected = new Map([...corrected.map((r) => [r.row, r.gold] as const), [first.rows[3].row, first.rows[3].predicted] as const]);
    const id = saveCorrectionsAsDataset(db, job.job_id, { name: 'cb corrections', split: 0 });
    const rows = loadDatasetRows(db, id, 'train');
    expect(rows.map((r) => r.index)).toEqual([...expected.keys()].sort((a, b) => a - b));
    for (const r of rows) {
      const source = written[r.index];
      expect(r.fields).toEqual({ premise: source.premise, hypothesis: source.hypothesis });
      expect(r.label).toBe(expected.get(r.index));
    }
    expect(getDataset(db, id)).toMatchObject({
      name: 'cb corrections',
      template: 'premise: {premise} hypothesis: {hypothesis}',
      format: 'label-job',
    });

    const everything = saveCorrectionsAsDataset(db, job.job_id, { name: 'cb all', include: 'all' });
    const train = loadDatasetRows(db, everything, 'train');
    const validation = loadDatasetRows(db, everything, 'validation');
    expect(train.length + validation.length).toBe(56);
    expect(validation.length).toBeGreaterThan(0);
  });
});

describe('a free-text task', () => {
  it('writes the greedy decoding and its probability', async () => {
    const { db } = freshLibrary();
    const out = join(tempDir(), 'gen.jsonl');
    const task = { kind: 'generation' as const, labels: [], verbalisers: [], template: '{hypothesis}' };
    const gen: LabelEngine = { ...engine, prompts: [{ ...engine.prompts[0], task }] };
    const summary = await startLabelJob(db, gen, { input: cbInput, output: out, maxNewTokens: 5, batchSize: 16 });
    expect(summary).toMatchObject({ rows: 56, labelled: 56 });
    const rows = readJsonl(out);
    expect(Object.keys(rows[0]).slice(-3)).toEqual(['predicted_label', 'confidence', 'skipped_reason']);
    const inputs = rows.slice(0, 6).map((r) => engine.tokenizer.encode(r.hypothesis));
    const ids = await engine.model.generate(engine.prompts[0].prompt, inputs, 5);
    rows.slice(0, 6).forEach((r, i) => {
      expect(r.predicted_label).toBe(engine.tokenizer.decode(ids[i], { skipSpecialTokens: true }));
      expect(r.confidence).toBeGreaterThan(0);
      expect(r.confidence).toBeLessThanOrEqual(1);
    });
  });
});
