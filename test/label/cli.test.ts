import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parquetReadObjects } from 'hyparquet';
import { beforeAll, describe, expect, it } from 'vitest';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { insertPrompt } from '../../main/library/prompts.js';
import { insertTask } from '../../main/library/tasks.js';
import { readSafetensorsFile, readTensorF32 } from '../../main/checkpoint/safetensors.js';
import { readJob, waitForJob } from './job-row.js';
import { openpyxlRows, pythonCsvRows, sst2Workbook } from '../data/helpers.js';
import { data, repoRoot, tempDir, tinyModel } from './helpers.js';
import { writePromptFiles } from './prompt-fixture.js';

const run = promisify(execFile);
const cli = join(repoRoot, 'out/cli.js');
let dir: string;
let promptFile: string;

beforeAll(async () => {
  dir = tempDir();
  [promptFile] = await writePromptFiles(dir, [1]);
});

const rteArgs = [
  '--prompt-file',
  () => promptFile,
  '--model',
  tinyModel,
  '--labels',
  'entailment,not_entailment',
  '--device',
  'cpu',
] as const;
const base = () => rteArgs.map((a) => (typeof a === 'function' ? a() : a));

async function label(home: string, args: string[], prompt: string[] = base()) {
  const { stdout, stderr } = await run(process.execPath, [cli, 'label', ...prompt, ...args], {
    env: { ...process.env, SPROUT_HOME: home },
    maxBuffer: 1 << 26,
  });
  return { summary: JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, any>, stderr };
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);

describe('sprout label', () => {
  it('keeps RTE dev (TSV, quoting off) row for row: each output line is the input line plus the label columns', async () => {
    const home = tempDir();
    const out = join(dir, 'rte-dev.tsv');
    const { summary, stderr } = await label(home, [
      '--input',
      data('rte/dev.tsv'),
      '--template',
      'rte sentence1: {sentence1} sentence2: {sentence2}',
      '--label-column',
      'label',
      '--output',
      out,
      '--threads',
      '1',
    ]);
    expect(stderr).toMatch(/^labelling on CPU · 1 thread\b/m);
    const input = lines(data('rte/dev.tsv'));
    const output = lines(out);
    expect(output).toHaveLength(input.length);
    expect(summary).toMatchObject({ status: 'done', rows: 277, total_rows: 277, labelled: 277, skipped: 0 });
    expect(output[0]).toBe(`${input[0]}\tpredicted_label\tconfidence\trunner_up\tmargin\tp_entailment\tp_not_entailment\tskipped_reason`);
    input.forEach((line, i) => expect(output[i].startsWith(`${line}\t`)).toBe(true));
    expect(stderr).toMatch(/277\/277 rows \(100\.0%\) · [\d.]+ rows\/s/);

    // The summary's accuracy agrees with the file's own gold and predicted columns.
    const rows = output.slice(1).map((l) => l.split('\t'));
    const correct = rows.filter((r) => r[3] === r[4]).length;
    expect(summary.accuracy.accuracy).toBeCloseTo(correct / 277, 12);
    expect(summary.accuracy.confusion.flat().reduce((a: number, b: number) => a + b, 0)).toBe(277);
    const counts: Record<string, number> = {};
    for (const r of rows) counts[r[4]] = (counts[r[4]] ?? 0) + 1;
    expect(summary.label_counts).toEqual(counts);
  });

  it('predicts the argmax of `sprout forward` rank scores, with probabilities their softmax', async () => {
    const home = tempDir();
    const out = join(dir, 'cb-val.csv');
    const { summary } = await label(home, [
      '--input',
      data('cb/val.jsonl'),
      '--text-column',
      'premise',
      '--output',
      out,
      '--batch-size',
      '5',
    ]);
    expect(summary.rows).toBe(56);
    const records = readFileSync(data('cb/val.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { premise: string });
    const prompt = readFileSync(promptFile);
    const headerLength = Number(prompt.readBigUInt64LE(0));
    const values = new Float32Array(prompt.buffer.slice(prompt.byteOffset + 8 + headerLength, prompt.byteOffset + prompt.length));
    const d = values.length / 4;
    const request = join(dir, 'forward.json');
    const n = 24;
    writeFileSync(
      request,
      JSON.stringify({
        texts: records.slice(0, n).map((r) => r.premise),
        prompt: Array.from({ length: 4 }, (_, i) => Array.from(values.subarray(i * d, (i + 1) * d))),
        candidates: ['entailment', 'not_entailment'],
      }),
    );
    const { stdout } = await run(process.execPath, [cli, 'forward', '--model', tinyModel, '--request', request, '--device', 'cpu'], {
      env: { ...process.env, SPROUT_HOME: home },
      maxBuffer: 1 << 26,
    });
    const scores = (JSON.parse(stdout.trim().split('\n').pop()!) as { rank_scores: number[][] }).rank_scores;
    const table = parseCsv(readFileSync(out, 'utf8'));
    const header = table[0];
    const col = (name: string) => header.indexOf(name);
    for (let i = 0; i < n; i++) {
      const row = table[i + 1];
      const [a, b] = scores[i];
      expect(row[col('predicted_label')]).toBe(a >= b ? 'entailment' : 'not_entailment');
      const pA = 1 / (1 + Math.exp(b - a));
      expect(Math.abs(Number(row[col('p_entailment')]) - pA)).toBeLessThan(2e-6);
      expect(row[col('premise')]).toBe(records[i].premise);
    }
  });

  it('resumes after kill -9 to a file byte-identical to an uninterrupted run', async () => {
    // A slice of SST-2 dev (header and the first 400 rows, bytes as they are) keeps the test short.
    const input = join(dir, 'sst2-dev-400.tsv');
    writeFileSync(input, `${lines(data('sst2/dev.tsv')).slice(0, 401).join('\n')}\n`);
    const args = (out: string) => [
      '--input',
      input,
      '--text-column',
      'sentence',
      '--output',
      out,
      '--batch-size',
      '4',
      '--commit-every',
      '8',
    ];
    const whole = join(dir, 'sst2-whole.tsv');
    await label(tempDir(), args(whole));

    const home = tempDir();
    const cut = join(dir, 'sst2-cut.tsv');
    const child = spawn(process.execPath, [cli, 'label', ...base(), ...args(cut)], {
      env: { ...process.env, SPROUT_HOME: home },
      stdio: 'ignore',
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    const committed = await waitForJob(libraryPath(home), child, (j) => j.rows_done >= 120);
    child.kill('SIGKILL');
    await exited;
    const job = readJob(libraryPath(home))!;
    expect(job.status).toBe('running');
    expect(job.rows_done).toBeGreaterThanOrEqual(committed.rows_done);
    expect(job.rows_done).toBeLessThan(400);
    // Whatever was appended after the last commit is cut away on resume.
    expect(statSync(cut).size).toBeGreaterThanOrEqual(job.output_bytes);

    const { summary } = await label(home, ['--resume', job.id]);
    expect(summary).toMatchObject({ job_id: job.id, status: 'done', rows: 400, labelled: 400 });
    expect(readFileSync(cut).equals(readFileSync(whole))).toBe(true);
  });

  it('labels with a library prompt by name, its task supplying template and verbaliser', async () => {
    const home = tempDir();
    const db = openLibrary(libraryPath(home));
    const verbalizer = { entailment: 'yes', contradiction: 'no', neutral: 'maybe' };
    const template = 'premise: {premise} hypothesis: {hypothesis}';
    const task = insertTask(db, { name: 'cb', datasetId: null, template, verbalizer, labelSet: Object.keys(verbalizer) });
    const embedding = readTensorF32([...readSafetensorsFile(promptFile).tensors.values()][0]);
    insertPrompt(db, {
      name: 'cb tiny',
      model: { id: null, path: tinyModel, summary: null },
      length: 4,
      dModel: 64,
      embedding,
      init: 'random',
      taskId: task.id,
    });
    db.close();
    const fromLibrary = join(dir, 'cb-library.jsonl');
    const { summary } = await label(
      home,
      ['--input', data('cb/val.jsonl'), '--output', fromLibrary, '--device', 'cpu'],
      ['--prompt', 'cb tiny'],
    );
    expect(summary).toMatchObject({ rows: 56, labelled: 56 });
    const fromFile = join(dir, 'cb-file.jsonl');
    const flags = [
      '--prompt-file',
      promptFile,
      '--model',
      tinyModel,
      '--labels',
      'entailment,contradiction,neutral',
      '--verbalisers',
      'yes,no,maybe',
      '--task-template',
      template,
    ];
    await label(home, ['--input', data('cb/val.jsonl'), '--output', fromFile, '--device', 'cpu'], flags);
    expect(readFileSync(fromLibrary, 'utf8')).toBe(readFileSync(fromFile, 'utf8'));
    expect(Object.keys(JSON.parse(lines(fromLibrary)[0]))).toContain('p_neutral');
    // The input's own columns come back as the file typed them: CB's idx is a JSON number.
    const inputRecords = lines(data('cb/val.jsonl')).map((l) => JSON.parse(l) as Record<string, unknown>);
    lines(fromLibrary).forEach((l, i) => {
      const out = JSON.parse(l) as Record<string, unknown>;
      for (const [key, value] of Object.entries(inputRecords[i])) expect(out[key]).toStrictEqual(value);
    });
  });

  it('reports bad rows with their reason and keeps them in place, and says on stderr which rows it cut or skipped', async () => {
    const input = join(dir, 'bad.jsonl');
    writeFileSync(
      input,
      [
        '{"id":1,"text":"a fine sentence, and then some more"}',
        '{"id":2,"text":""}',
        '{"id":3,"text":"   "}',
        '{"id":4,"text":"another, \\"quoted\\" one"}',
        '{"id":5}',
        '{"id":6,"text":null}',
      ].join('\n') + '\n',
    );
    const out = join(dir, 'bad-out.csv');
    // Python's sentencepiece on T5's spiece.model: row 4 is 7 pieces (8 tokens with eos), at the limit, the least
    // --max-input-length takes; row 1 is 9 pieces, over it.
    const { summary, stderr } = await label(tempDir(), ['--input', input, '--output', out, '--max-input-length', '8']);
    expect(summary).toMatchObject({
      rows: 6,
      labelled: 2,
      skipped: 4,
      skipped_reasons: { 'empty text': 2, 'missing value in column "text"': 2 },
      truncated: 1,
    });
    expect(stderr).toContain(
      'note: 1 row was longer than 8 tokens: each was labelled on its first 7 tokens and the end-of-text token. 4 rows were left ' +
        'unlabelled (empty text: 2; missing value in column "text": 2); skipped_reason in the output says which. ' +
        '--max-input-length N raises the length limit (memory grows with it).',
    );
    const table = parseCsv(readFileSync(out, 'utf8'));
    expect(table.map((r) => r[0])).toEqual(['id', '1', '2', '3', '4', '5', '6']);
    expect(table[4][1]).toBe('another, "quoted" one');
    const reason = table[0].indexOf('skipped_reason');
    expect(table.slice(1).map((r) => r[reason])).toEqual([
      '',
      'empty text',
      'empty text',
      '',
      'missing value in column "text"',
      'missing value in column "text"',
    ]);
    expect(table[2][table[0].indexOf('predicted_label')]).toBe('');
    expect(table[4][table[0].indexOf('predicted_label')]).toMatch(/^(entailment|not_entailment)$/);
  });

  it('labels the first sentence of a headerless one-column file, and says on stderr how it read the file', async () => {
    // Row 1 was taken as the header "Great film." and left unlabelled, without a word on how the file was read.
    const input = join(dir, 'reviews.csv');
    const reviews = [
      'Great film.',
      'This movie was a complete waste of two hours.',
      'I loved every minute of it!',
      'The acting was wooden.',
    ];
    writeFileSync(input, reviews.map((r) => `${r}\n`).join(''));
    const out = join(dir, 'reviews-out.csv');
    const { summary, stderr } = await label(tempDir(), ['--input', input, '--output', out, '--text-column', '0']);
    expect(summary).toMatchObject({ rows: 4, labelled: 4 });
    expect(stderr).toContain(
      `input ${input}: CSV, utf-8, no header\n  header: no, row 1 reads like a sentence ("Great film."), not like column names`,
    );
    expect(pythonCsvRows(out, { delimiter: ',' }).map((r) => r[0])).toEqual(['0', ...reviews]);
  });

  it('refuses a --text-column the input lacks before planning memory or loading the model', async () => {
    const home = tempDir();
    const refused = await label(home, ['--input', data('rte/dev.tsv'), '--text-column', 'sentence']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect('code' in refused && refused.code).toBe(2);
    expect(refused.stderr).toMatch(/"sentence"/);
    expect(refused.stderr).not.toMatch(/memory plan|labelling on/);
  });

  it('writes Parquet through a part file, and refuses to overwrite without --overwrite', async () => {
    const out = join(dir, 'cb.parquet');
    const { summary } = await label(tempDir(), ['--input', data('cb/val.jsonl'), '--template', '{premise} {hypothesis}', '--output', out]);
    expect(summary).toMatchObject({ format: 'parquet', rows: 56 });
    expect(existsSync(`${out}.part.jsonl`)).toBe(false);
    const buffer = readFileSync(out);
    const rows = (await parquetReadObjects({ file: buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.length) })) as Record<
      string,
      unknown
    >[];
    expect(rows).toHaveLength(56);
    const records = readFileSync(data('cb/val.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { hypothesis: string });
    rows.forEach((r, i) => expect(r.hypothesis).toBe(records[i].hypothesis));
    expect(typeof rows[0].confidence).toBe('number');
    expect(Number(rows[0].p_entailment) + Number(rows[0].p_not_entailment)).toBeCloseTo(1, 5);

    const again = label(tempDir(), ['--input', data('cb/val.jsonl'), '--template', '{premise}', '--output', out]);
    await expect(again).rejects.toThrow(/already exists.*--overwrite/);
  });
  it('labels the sheet --sheet names into a workbook beside it, on a sheet of that name, as openpyxl reads it', async () => {
    const book = join(tempDir(), 'sst2.xlsx');
    sst2Workbook(book);
    const args = ['--input', book, '--sheet', 'validation', '--template', '{sentence}', '--label-column', 'label'];
    const { summary } = await label(tempDir(), args, [...base().slice(0, 4), '--labels', '0,1', '--device', 'cpu']);
    expect(summary).toMatchObject({ status: 'done', format: 'xlsx', rows: 272, output: join(book, '..', 'sst2.prompt-1.labelled.xlsx') });
    const [header, ...rows] = openpyxlRows(summary.output, 'validation').map((r) => r.cells);
    expect(header.slice(0, 3)).toEqual(['sentence', 'label', 'predicted_label']);
    expect(rows.map((r) => r.slice(0, 2))).toEqual(pythonCsvRows(data('sst2/dev.tsv'), { delimiter: '\t', quoting: 'none' }).slice(601));
  });
});

/** A small RFC 4180 reader for checking CSV output. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  return rows;
}
