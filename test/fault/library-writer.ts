/**
 * Bundled and spawned by library-writes.test.ts: `node writer.cjs LIBRARY MODE ROUND [DATA_FILE]` performs one kind of
 * library write in a loop, as fast as it can, printing one line after each iteration commits, until it is killed.
 * Each mode keeps an invariant that a torn transaction would break; the test checks it after every kill.
 */
import { importDataset } from '../../main/library/import-dataset.js';
import { deleteDataset } from '../../main/library/datasets.js';
import { openLibrary, type LibraryDb } from '../../main/library/db.js';
import { removeModel, saveModel } from '../../main/library/models.js';
import {
  deletePrompt,
  duplicatePrompt,
  insertPrompt,
  renamePrompt,
  setPromptNotes,
  tagPrompt,
  type NewPrompt,
} from '../../main/library/prompts.js';
import { createRun, recordRunMetric, updateRun } from '../../main/library/runs.js';
import { findOrInsertTask, insertTask } from '../../main/library/tasks.js';
import { commitChunk, createJob, getJob, type LabelRow } from '../../main/label/jobs.js';
import { recordCorrection, saveCorrectionsAsDataset } from '../../main/label/review.js';
import type { LabelJobSpec, LabelStats } from '../../main/label/types.js';
import { CHUNK, EDIT_PROMPTS, LABEL_JOB, MODEL_SLOTS, ROW_BYTES } from './library-writer-sizes.js';

const [file, mode, roundText, dataFile] = process.argv.slice(2);
const round = Number(roundText);
const db = openLibrary(file);
const say = (line: string) => process.stdout.write(`${line}\n`);

const prompt = (name: string, value: number): NewPrompt => ({
  name,
  model: { id: 'fault/model', path: null, summary: null },
  length: 2,
  dModel: 8,
  embedding: new Float32Array(16).fill(value),
  init: 'vocab',
});

const modes: Record<string, (db: LibraryDb) => Promise<void>> = {
  /** Dataset import: one transaction per file (dataset row, every example row, validation split, report). */
  async import(db) {
    for (let i = 1; ; i++) {
      const report = await importDataset(db, dataFile, {
        name: `d${round}-${i}`,
        textColumns: ['premise', 'hypothesis'],
        labelColumn: 'label',
        seed: i,
      });
      say(`${report.id} ${report.rows}`);
    }
  },

  /** Rename, tag (add the new generation tag and drop the old one together) and note, round-robin over a few prompts. */
  async edit(db) {
    let ids = (db.prepare('SELECT id FROM prompts ORDER BY id').all() as { id: number }[]).map((r) => r.id);
    if (ids.length === 0) {
      ids = db.transaction(() =>
        Array.from({ length: EDIT_PROMPTS }, (_, k) => insertPrompt(db, { ...prompt(`start-${k}`, k), tags: ['gen-start'] })),
      )();
      say('setup');
    }
    for (let i = 1; ; i++) {
      const id = ids[i % ids.length];
      const label = `r${round}-${i}`;
      const old = (db.prepare("SELECT tag FROM prompt_tags WHERE prompt_id = ? AND tag LIKE 'gen-%'").all(id) as { tag: string }[]).map(
        (r) => r.tag,
      );
      tagPrompt(db, id, [`gen-${label}`], old);
      renamePrompt(db, id, label);
      setPromptNotes(db, id, label);
      say(`${id} ${label}`);
    }
  },

  /** Deletes: a prompt with a derived copy (force: the copy is reparented), the copy, a dataset its task points to. */
  async delete(db) {
    for (let i = 1; ; i++) {
      const parent = insertPrompt(db, { ...prompt(`del-${round}-${i}`, i), tags: ['x', 'y'] });
      const child = duplicatePrompt(db, parent);
      const dataset = (
        await importDataset(db, dataFile, {
          name: `tiny-${round}-${i}`,
          textColumns: ['premise', 'hypothesis'],
          labelColumn: 'label',
          split: 0,
        })
      ).id;
      const task = insertTask(db, { name: `t${i}`, datasetId: dataset, template: '{premise}', verbalizer: {}, labelSet: null });
      insertPrompt(db, { ...prompt(`keep-${round}-${i}`, i), taskId: task.id, parentId: child });
      deletePrompt(db, parent, { force: true });
      deletePrompt(db, child, { force: true });
      deleteDataset(db, dataset);
      say(`${i}`);
    }
  },

  /** A labelling job's chunk commits (rows + progress + totals in one transaction), corrections, corrections saved as a dataset. */
  async label(db) {
    const labels = ['a', 'b'];
    const spec = {
      input: '/in.csv',
      inputBytes: 1,
      inputMtimeMs: 0,
      read: { format: 'csv', header: true },
      inputColumns: ['text'],
      output: '/out.csv',
      format: 'csv',
      tsvQuoting: 'none',
      model: 'fault/model',
      prompts: [],
      task: { kind: 'classification', labels, verbalisers: labels, template: null },
      textColumns: ['text'],
      template: '{text}',
      goldColumn: null,
      batchSize: 8,
      lengthNormalise: false,
      maxInputTokens: 64,
      maxNewTokens: 4,
      commitRows: CHUNK,
      columns: {},
      totalRows: 1e9,
    } as unknown as LabelJobSpec;
    const stats = (labelled: number): LabelStats =>
      ({
        labelled,
        skipped: {},
        labelCounts: { a: labelled / 2, b: labelled / 2 },
        truncated: 0,
        gold: null,
        agreementSum: labelled,
        seconds: 0,
      }) as LabelStats;
    const job = getJob(db, LABEL_JOB) ?? createJob(db, LABEL_JOB, spec, stats(0), 0);
    for (let done = job.rowsDone; ;) {
      const rows: LabelRow[] = Array.from({ length: CHUNK }, (_, k) => ({
        row: done + k,
        line: done + k + 2,
        fields: { text: `row ${done + k}` },
        predicted: labels[(done + k) % 2],
        confidence: 0.5,
        margin: 0.1,
        skippedReason: null,
        corrected: null,
        added: [labels[(done + k) % 2], 0.5],
        values: null,
      }));
      done += CHUNK;
      commitChunk(db, LABEL_JOB, done, done * ROW_BYTES, stats(done), rows);
      recordCorrection(db, LABEL_JOB, done - 1 - (done % 7), 'b');
      if (done % (10 * CHUNK) === 0) saveCorrectionsAsDataset(db, LABEL_JOB, { name: `fixed-${done}`, split: 0 });
      say(`${done}`);
    }
  },

  /** Model registration and removal, tasks, and a run's progress and metrics. */
  async register(db) {
    const run = createRun(db, { config: { writer: process.pid }, status: 'running' });
    for (let i = 1; ; i++) {
      const summary = {
        parameters: i,
        encoderLayers: 2,
        decoderLayers: 2,
        dModel: 8,
        dKv: 4,
        numHeads: 2,
        dFf: 16,
        vocabSize: 100,
        feedForward: 'relu' as const,
        tiedEmbeddings: true,
        weightBytes: 4 * i,
      };
      saveModel(db, {
        id: `hub/m${i % MODEL_SLOTS}`,
        repo: `hub/m${i % MODEL_SLOTS}`,
        revision: 'main',
        sha: `${i}`,
        path: `/models/${i}`,
        summary,
      });
      removeModel(db, `hub/m${(i + 3) % MODEL_SLOTS}`);
      findOrInsertTask(db, {
        name: `task ${i % 5}`,
        datasetId: null,
        template: `{text} ${i % 5}`,
        verbalizer: { a: 'a' },
        labelSet: ['a'],
      });
      recordRunMetric(db, run.id, { step: i, loss: 1 / i, eval: i % 10 === 0 ? { accuracy: i } : null });
      updateRun(db, run.id, { step: i });
      say(`${i}`);
    }
  },
};

modes[mode](db).catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
