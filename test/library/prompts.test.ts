import { describe, expect, it } from 'vitest';
import { SproutError } from '../../main/errors.js';
import { mergeLibrary } from '../../main/library/merge.js';
import {
  deletePrompt,
  duplicatePrompt,
  getPrompt,
  listPrompts,
  loadSoftPrompt,
  parsePromptId,
  promptChildren,
  promptLineage,
  renamePrompt,
  requirePrompt,
  setPromptNotes,
  tagPrompt,
} from '../../main/library/prompts.js';
import { createRun, listRuns, recordRunMetric, runMetrics, updateRun } from '../../main/library/runs.js';
import { findOrInsertTask, listTasks } from '../../main/library/tasks.js';
import { addPrompt, freshLibrary, TINY_MODEL } from './helpers.js';

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof SproutError) return error.code;
    throw error;
  }
  throw new Error('expected a SproutError');
}

describe('prompt library', () => {
  it('stores a prompt with its embeddings, task and run, and reads it back exactly', () => {
    const { db } = freshLibrary();
    const task = findOrInsertTask(db, {
      name: 'cola',
      datasetId: null,
      template: '{sentence}',
      verbalizer: { '0': 'unacceptable', '1': 'acceptable' },
      labelSet: ['0', '1'],
    });
    expect(
      findOrInsertTask(db, {
        name: 'other name',
        datasetId: null,
        template: '{sentence}',
        verbalizer: { '0': 'unacceptable', '1': 'acceptable' },
        labelSet: ['0', '1'],
      }).id,
    ).toBe(task.id);
    expect(listTasks(db)).toHaveLength(1);
    const run = createRun(db, { taskId: task.id, modelId: TINY_MODEL.id, config: { lr: 0.3 }, plannedSteps: 100, provider: 'cpu' });
    expect(run).toMatchObject({ status: 'queued', step: 0, plannedSteps: 100 });
    expect(updateRun(db, run.id, { status: 'done', step: 100, timings: { total: 12.5 }, checkpointPath: '/x/ckpt' })).toMatchObject({
      status: 'done',
      step: 100,
      timings: { total: 12.5 },
      checkpointPath: '/x/ckpt',
    });
    expect(listRuns(db, { status: 'done' }).map((r) => r.id)).toEqual([run.id]);
    expect(listRuns(db, { status: 'running' })).toEqual([]);
    recordRunMetric(db, run.id, { step: 10, loss: 2.5, eval: null });
    recordRunMetric(db, run.id, { step: 20, loss: 1.25, eval: { accuracy: 0.75 } });
    expect(runMetrics(db, run.id)).toEqual([
      { step: 10, loss: 2.5, eval: null },
      { step: 20, loss: 1.25, eval: { accuracy: 0.75 } },
    ]);

    const early = Float32Array.from({ length: 12 }, (_, i) => -i);
    const id = addPrompt(db, 1, {
      taskId: task.id,
      runId: run.id,
      labels: ['0', '1'],
      metrics: { accuracy: 0.8 },
      tags: ['glue', ' glue ', 'cola'],
      taskEmbedding: early,
      taskEmbeddingStep: 10,
    });
    const p = requirePrompt(db, id);
    expect(p).toMatchObject({
      id,
      name: 'prompt 1',
      model: TINY_MODEL,
      length: 3,
      dModel: 4,
      init: 'vocab',
      taskId: task.id,
      runId: run.id,
      labels: ['0', '1'],
      metrics: { accuracy: 0.8 },
      tags: ['cola', 'glue'],
      taskEmbeddingStep: 10,
      parentId: null,
    });
    expect([...p.embedding]).toEqual(Array.from({ length: 12 }, (_, i) => 1 + i / 8));
    expect([...p.taskEmbedding!]).toEqual([...early]);
    expect(loadSoftPrompt(db, `prompt:${id}`)).toEqual({ length: 3, data: p.embedding });
    expect(errorCode(() => addPrompt(db, 2, { length: 5, embedding: new Float32Array(12) }))).toBe('bad-prompt');
    expect(errorCode(() => parsePromptId('12a'))).toBe('bad-prompt-id');
  });

  it('lists by model, task, tag and text; renames, tags and notes', () => {
    const { db } = freshLibrary();
    const task = findOrInsertTask(db, { name: 'sst2', datasetId: null, template: '{sentence}', verbalizer: {}, labelSet: null });
    const a = addPrompt(db, 1, { tags: ['glue'], taskId: task.id });
    const b = addPrompt(db, 2, { model: { id: 'google/other', path: '/models/other', summary: null } });
    const c = addPrompt(db, 3, { notes: 'Best so far on MNLI' });
    const ids = (filter: Parameters<typeof listPrompts>[1]) => listPrompts(db, filter).map((p) => p.id);
    expect(ids({})).toEqual([a, b, c]);
    expect(ids({ model: 'google/tiny-t5' })).toEqual([a, c]);
    expect(ids({ model: '/models/other' })).toEqual([b]);
    expect(ids({ task: String(task.id) })).toEqual([a]);
    expect(ids({ task: 'sst2' })).toEqual([a]);
    expect(ids({ tag: 'glue' })).toEqual([a]);
    expect(ids({ search: 'mnli' })).toEqual([c]);
    expect(ids({ search: 'PROMPT 2' })).toEqual([b]);
    // Case folds beyond ASCII, as the search box's users write: "ÉTUDE" finds "étude", "ünïcode" finds "Ünïcode".
    const d = addPrompt(db, 4, { name: 'Étude Ünïcode', notes: 'Nachrichten ÜBER Sport' });
    expect(ids({ search: 'étude ünïcode' })).toEqual([d]);
    expect(ids({ search: 'über sport' })).toEqual([d]);

    renamePrompt(db, b, 'renamed');
    expect(tagPrompt(db, b, ['x', 'y'])).toEqual(['x', 'y']);
    expect(tagPrompt(db, b, ['z'], ['x'])).toEqual(['y', 'z']);
    setPromptNotes(db, b, 'a note');
    expect(getPrompt(db, b)).toMatchObject({ name: 'renamed', tags: ['y', 'z'], notes: 'a note' });
    expect(errorCode(() => renamePrompt(db, 99, 'x'))).toBe('prompt-not-found');
    expect(errorCode(() => renamePrompt(db, b, '  '))).toBe('bad-name');
    // A name findPromptId would read as an id.
    expect(() => renamePrompt(db, b, ' 12 ')).toThrow('A prompt name cannot be a number alone ("12"): it would be read as a prompt id.');
    expect(errorCode(() => renamePrompt(db, b, 'prompt:3'))).toBe('bad-name');
    expect(errorCode(() => tagPrompt(db, b, ['']))).toBe('bad-tag');
    // 64 characters (an emoji is one) is the longest tag; a longer one, pasted text, belongs in the notes.
    expect(tagPrompt(db, b, [`🌱${'t'.repeat(63)}`])).toContain(`🌱${'t'.repeat(63)}`);
    expect(() => tagPrompt(db, b, ['t'.repeat(65)])).toThrow(`A tag is at most 64 characters; “${'t'.repeat(23)}…” has 65.`);
  });

  it('keeps names and tags on one line: control characters (terminal escapes from a PEFT file, a pasted line break) become spaces', () => {
    const { db } = freshLibrary();
    const id = addPrompt(db, 1, { name: 'big\x1b[31mRED\x1b]0;owned\x07', tags: ['news\nsports'] });
    expect(requirePrompt(db, id)).toMatchObject({ name: 'big [31mRED ]0;owned ', tags: ['news sports'] });
    renamePrompt(db, id, 'two\r\nlines');
    expect(requirePrompt(db, id).name).toBe('two  lines');
    expect(() => renamePrompt(db, id, '\x1b\x07')).toThrow('A prompt name cannot be empty.');
  });

  it('spells a tag as the library already does, whatever its case, so that one filter gathers its prompts', () => {
    const { db } = freshLibrary();
    const a = addPrompt(db, 1, { tags: ['Nachrichten', 'Glue'] });
    const b = addPrompt(db, 2, { tags: ['glue', 'GLUE', 'nachrichten'] });
    expect(getPrompt(db, b)?.tags).toEqual(['Glue', 'Nachrichten']);
    const c = addPrompt(db, 3);
    expect(tagPrompt(db, c, ['ÜBER', 'über', 'GLUE'])).toEqual(['Glue', 'ÜBER']);
    expect(tagPrompt(db, a, ['über'])).toEqual(['Glue', 'Nachrichten', 'ÜBER']);
    expect(listPrompts(db, { tag: 'glue' }).map((p) => p.id)).toEqual([a, b, c]);
    expect(listPrompts(db, { tag: 'über' }).map((p) => p.id)).toEqual([a, c]);
    expect(tagPrompt(db, a, [], ['glue', 'über'])).toEqual(['Nachrichten']);
    // A merged library's prompts take this library's spellings too.
    const other = freshLibrary().db;
    const merged = addPrompt(other, 1, { tags: ['NACHRICHTEN', 'new'] });
    mergeLibrary(db, other);
    expect(requirePrompt(db, c + 1).tags).toEqual(['Nachrichten', 'new']);
    expect(requirePrompt(other, merged).tags).toEqual(['NACHRICHTEN', 'new']);
  });

  it('shows lineage, refuses to delete a source unless forced, then re-parents to the grandparent', () => {
    const { db } = freshLibrary();
    const root = addPrompt(db, 1);
    const mid = addPrompt(db, 2, { parentId: root, init: `prompt:${root}` });
    const leaf = addPrompt(db, 3, { parentId: mid, init: `prompt:${mid}` });
    const copy = duplicatePrompt(db, leaf, 'leaf copy');
    expect(promptLineage(db, copy).map((p) => p.id)).toEqual([copy, leaf, mid, root]);
    expect(requirePrompt(db, copy)).toMatchObject({ name: 'leaf copy', init: `copy:${leaf}`, parentId: leaf });
    expect([...requirePrompt(db, copy).embedding]).toEqual([...requirePrompt(db, leaf).embedding]);
    expect(promptChildren(db, root).map((p) => p.id)).toEqual([mid]);

    expect(() => deletePrompt(db, mid)).toThrow(`Prompt ${mid} ("prompt 2") is the source of prompt ${leaf}, so it was not deleted.`);
    expect(getPrompt(db, mid)).toBeDefined();
    expect(deletePrompt(db, mid, { force: true })).toEqual({ deleted: mid, reparented: [leaf] });
    expect(promptLineage(db, copy).map((p) => p.id)).toEqual([copy, leaf, root]);
    expect(deletePrompt(db, copy)).toEqual({ deleted: copy, reparented: [] });
    expect(deletePrompt(db, root, { force: true })).toEqual({ deleted: root, reparented: [leaf] });
    expect(requirePrompt(db, leaf).parentId).toBeNull();
    expect(errorCode(() => promptLineage(db, root))).toBe('prompt-not-found');
    expect(errorCode(() => addPrompt(db, 4, { parentId: root }))).toBe('prompt-not-found');
  });
});
