/**
 * A job owns its output (#23 item 1): default output names never collide, a second job writes over the first one's
 * file only with consent naming that job, the first job then knows its file no longer holds its labels and still
 * exports its own rows; a resume never cuts a file that is no longer the job's. Input: CoLA's real dev file
 * (headerless, quote-less TSV), copied byte for byte beside the outputs; exports read by python3.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, copyFileSync, linkSync, readFileSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportCorrected } from '../../main/label/export.js';
import { resumeLabelJob, startLabelJob, type LabelEngine } from '../../main/label/job.js';
import { getJob } from '../../main/label/jobs.js';
import { defaultOutputPath, outputState } from '../../main/label/ownership.js';
import { listReviewRows, recordCorrection } from '../../main/label/review.js';
import type { LabelTask } from '../../main/label/types.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { checkExport } from './python-export.js';
import { pythonRows } from './python-rows.js';
import { data, freshLibrary, repoRoot, tempDir, tinyEngine, tinyModel } from './helpers.js';
import { writePromptFiles } from './prompt-fixture.js';

const colaTask: LabelTask = {
  kind: 'classification',
  labels: ['0', '1'],
  verbalisers: ['unacceptable', 'acceptable'],
  template: 'sentence: {3}',
};
const shape = { text: '3', labels: colaTask.labels, label: 'label', source: 'label_source' };

let engine: LabelEngine;
beforeAll(async () => {
  engine = await tinyEngine(colaTask, [1, 2]);
});
afterAll(() => engine.model.dispose());
const prompt = (k: number): LabelEngine => ({ ...engine, prompts: [engine.prompts[k]] });

/** CoLA's dev file as it is, in a folder of its own (outputs go beside their input by default). */
function colaCopy(): { dir: string; input: string } {
  const dir = tempDir();
  const input = join(dir, 'in_domain_dev.tsv');
  copyFileSync(data('cola/in_domain_dev.tsv'), input);
  return { dir, input };
}

describe('a job owns its output', () => {
  it("default outputs are named after the prompt and never collide; a second prompt replaces the first one's file only with consent naming its job, which still exports its own labels", async () => {
    const { db } = freshLibrary();
    const { dir, input } = colaCopy();
    const a = await startLabelJob(db, prompt(0), { input, batchSize: 64 });
    expect(a.output).toBe(join(dir, 'in_domain_dev.test-prompt-1.labelled.tsv'));
    const least = listReviewRows(db, a.job_id, { limit: 3 }).rows;
    for (const r of least) recordCorrection(db, a.job_id, r.row, r.predicted === '0' ? '1' : '0');
    const aLabels = readFileSync(a.output, 'utf8');

    // The same file with prompt B, as the person would start it: its own default file.
    const b = await startLabelJob(db, prompt(1), { input, batchSize: 64 });
    expect(b.output).toBe(join(dir, 'in_domain_dev.test-prompt-2.labelled.tsv'));
    // Prompt A again: A's name is taken, so the new job gets the next one.
    expect((await startLabelJob(db, prompt(0), { input, batchSize: 64 })).output).toBe(
      join(dir, 'in_domain_dev.test-prompt-1-2.labelled.tsv'),
    );

    // B onto A's file: --overwrite is not consent to replace another job's labels.
    const onto = { input, output: a.output, batchSize: 64, overwrite: true };
    const refused = startLabelJob(db, prompt(1), onto);
    await expect(refused).rejects.toMatchObject({ code: 'label-output-owned' });
    await expect(refused).rejects.toThrow(
      new RegExp(`is the output of labelling job ${a.job_id} \\(prompt "test prompt 1", 527 rows, .*pass --replace-job ${a.job_id}`),
    );
    await expect(startLabelJob(db, prompt(1), { ...onto, replaceJob: b.job_id })).rejects.toMatchObject({ code: 'label-output-owned' });
    // A link to A's file is A's file.
    const link = join(dir, 'link-to-a.tsv');
    symlinkSync(a.output, link);
    await expect(startLabelJob(db, prompt(1), { ...onto, output: link })).rejects.toThrow(new RegExp(`labelling job ${a.job_id}`));
    expect(readFileSync(a.output, 'utf8')).toBe(aLabels);
    expect(outputState(db, getJob(db, a.job_id)!)).toBe('intact');

    const taken = await startLabelJob(db, prompt(1), { ...onto, replaceJob: a.job_id });
    expect(readFileSync(a.output, 'utf8')).not.toBe(aLabels);
    const jobA = getJob(db, a.job_id)!;
    expect(outputState(db, jobA)).toBe('replaced');
    expect(jobA.outputReplaced).toMatchObject({ jobId: taken.job_id, how: 'labelled' });

    // A's export still says A: its predictions, its three corrections, from the library.
    const exported = join(dir, 'a.reviewed.csv');
    expect(await exportCorrected(db, a.job_id, { file: exported })).toMatchObject({ rows: 527, reviewed: 3, corrected: 3 });
    const original = join(dir, 'a-as-written.tsv');
    writeFileSync(original, aLabels);
    const aPredicted = pythonRows(original, 'tsv', '3').map((r) => r[1]);
    const rows = await checkExport(exported, 'csv', shape);
    expect(rows.map((r) => r[1])).toEqual(aPredicted);
    expect(rows.map((r) => r[1])).not.toEqual(pythonRows(a.output, 'tsv', '3').map((r) => r[1]));
    const inRowOrder = [...least].sort((x, y) => x.row - y.row);
    expect(rows.filter((r) => r[3] === 'person').map((r) => r[2])).toEqual(inRowOrder.map((r) => (r.predicted === '0' ? '1' : '0')));
    db.close();
  });

  it('refuses an output that is a hard link (to the library, to the input), which every check of paths passes, and changes neither', async () => {
    const { db, home } = freshLibrary();
    const { dir, input } = colaCopy();
    const before = { input: readFileSync(input), library: readFileSync(libraryPath(home)) };
    const toInput = join(dir, 'in_domain_dev.labelled.tsv');
    linkSync(input, toInput);
    for (const overwrite of [false, true])
      await expect(startLabelJob(db, prompt(0), { input, output: toInput, overwrite })).rejects.toMatchObject({
        code: 'label-output-is-input',
      });
    unlinkSync(toInput);
    linkSync(libraryPath(home), toInput);
    await expect(startLabelJob(db, prompt(0), { input, output: toInput, overwrite: true })).rejects.toThrow(
      `The output file ${toInput} is one of 2 names of one file (hard links): writing it would change the file under its other names too.`,
    );
    expect(readFileSync(input).equals(before.input)).toBe(true);
    expect(readFileSync(libraryPath(home)).equals(before.library)).toBe(true);
    db.close();
  });

  it('notices a file changed outside Sprout, even at the same length, and forgives one saved unchanged', async () => {
    const { db } = freshLibrary();
    const { input } = colaCopy();
    const { job_id, output } = await startLabelJob(db, prompt(0), { input, batchSize: 64 });
    const job = () => getJob(db, job_id)!;
    const bytes = readFileSync(output);
    // Opened and saved unchanged: a new mtime, the same bytes.
    utimesSync(output, new Date(), new Date(Date.now() + 5000));
    expect(outputState(db, job())).toBe('intact');
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 2] = flipped[flipped.length - 2] === 0x30 ? 0x31 : 0x30;
    writeFileSync(output, flipped);
    utimesSync(output, new Date(), new Date(Date.now() + 10_000));
    expect(outputState(db, job())).toBe('changed');
    appendFileSync(output, 'x');
    expect(outputState(db, job())).toBe('changed');
    db.close();
  });

  it('a cancelled job whose file was replaced, or edited, refuses to resume and leaves the file as it is', async () => {
    const { db } = freshLibrary();
    const { dir, input } = colaCopy();
    const cancelAt = (rows: number) => {
      const controller = new AbortController();
      return { signal: controller.signal, onProgress: (p: { rowsDone: number }) => p.rowsDone >= rows && controller.abort() };
    };
    const c = await startLabelJob(db, prompt(0), { input, output: join(dir, 'c.csv'), batchSize: 16, commitRows: 32 }, cancelAt(64));
    expect(c.status).toBe('cancelled');
    const d = await startLabelJob(db, prompt(1), { input, output: c.output, batchSize: 64, replaceJob: c.job_id });
    const dBytes = readFileSync(d.output);
    await expect(resumeLabelJob(db, c.job_id, prompt(0))).rejects.toThrow(
      new RegExp(`cannot resume: .*c\\.csv no longer holds this job's labels: labelling job ${d.job_id} wrote its own labels there`),
    );
    expect(readFileSync(d.output).equals(dBytes)).toBe(true);

    // Edited without getting shorter: resuming would cut the person's file back, so it refuses.
    const e = await startLabelJob(db, prompt(0), { input, output: join(dir, 'e.csv'), batchSize: 16, commitRows: 32 }, cancelAt(64));
    const edited = `${readFileSync(e.output, 'utf8').replace('predicted_label', 'PREDICTED_LABEL')}more of the person's own text\n`;
    writeFileSync(e.output, edited);
    await expect(resumeLabelJob(db, e.job_id, prompt(0))).rejects.toMatchObject({ code: 'label-output-changed' });
    expect(readFileSync(e.output, 'utf8')).toBe(edited);
    db.close();
  });
});

describe('sprout label and sprout label export (spawned)', () => {
  it(
    "names the default output after the prompt, and needs --replace-job, not --overwrite, to write over another job's file",
    { timeout: 150_000 },
    async () => {
      const home = tempDir('sprout-home-');
      const { dir, input } = colaCopy();
      const [p1, p2] = await writePromptFiles(dir, [1, 2]);
      const cli = (args: string[]) =>
        promisify(execFile)(process.execPath, [join(repoRoot, 'out/cli.js'), ...args], {
          env: { ...process.env, SPROUT_HOME: home },
          maxBuffer: 1 << 26,
        }).then(({ stdout }) => JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, any>);
      const label = (file: string, extra: string[] = []) =>
        cli([
          'label',
          '--prompt-file',
          file,
          '--model',
          tinyModel,
          '--labels',
          '0,1',
          '--verbalisers',
          'unacceptable,acceptable',
          '--task-template',
          'sentence: {3}',
          '--device',
          'cpu',
          '--input',
          input,
          ...extra,
        ]);
      const first = await label(p1);
      expect(first.output).toBe(join(dir, 'in_domain_dev.prompt-1.labelled.tsv'));
      const written = readFileSync(first.output, 'utf8');
      await expect(label(p2, ['--output', first.output, '--overwrite'])).rejects.toThrow(
        new RegExp(`is the output of labelling job ${first.job_id} .*pass --replace-job ${first.job_id} to replace it`),
      );
      expect(readFileSync(first.output, 'utf8')).toBe(written);
      const second = await label(p2, ['--output', first.output, '--replace-job', first.job_id]);
      expect(second).toMatchObject({ status: 'done', output: first.output });

      // An export onto a job's file needs the same consent.
      const onto = ['label', 'export', first.job_id, '--output', second.output];
      await expect(cli([...onto, '--overwrite'])).rejects.toThrow(new RegExp(`is the output of labelling job ${second.job_id}`));
      expect(await cli([...onto, '--format', 'tsv', '--replace-job', second.job_id])).toMatchObject({ rows: 527 });
      const db = openLibrary(libraryPath(home));
      expect(getJob(db, second.job_id)!.outputReplaced).toMatchObject({ jobId: first.job_id, how: 'exported' });
      db.close();
      const firstAsWritten = join(dir, 'first-as-written.tsv');
      writeFileSync(firstAsWritten, written);
      expect(pythonRows(second.output, 'tsv', '3').map((r) => r[1])).toEqual(pythonRows(firstAsWritten, 'tsv', '3').map((r) => r[1]));
    },
  );
});

describe('default output names', () => {
  it('keep the letters of a prompt name in any script, and cut long ones at a character', () => {
    const { db } = freshLibrary();
    const dir = tempDir();
    const input = join(dir, 'rev.csv');
    writeFileSync(input, 'text\nfine\n');
    const named = (prompt: string) => defaultOutputPath(db, input, prompt, 'csv').slice(dir.length + 1);
    expect(named('sst2 früh')).toBe('rev.sst2-früh.labelled.csv');
    expect(named('日本語 プロンプト')).toBe('rev.日本語-プロンプト.labelled.csv');
    expect(named('🌱 Nachrichten-Thema')).toBe('rev.nachrichten-thema.labelled.csv');
    expect(named('🌱')).toBe('rev.prompt.labelled.csv');
    // 48 bytes of UTF-8 at most: sixteen three-byte characters, not a broken seventeenth.
    expect(named('語'.repeat(20))).toBe(`rev.${'語'.repeat(16)}.labelled.csv`);
    db.close();
  });
});
