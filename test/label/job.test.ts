import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLabelJob, type LabelEngine } from '../../main/label/job.js';
import { cbTask, data, freshLibrary, tempDir, tinyEngine } from './helpers.js';

let engine: LabelEngine;
beforeAll(async () => {
  engine = await tinyEngine(cbTask);
});
afterAll(() => engine.model.dispose());

describe('labelling a JSON Lines file', () => {
  it('keeps every row in order and adds the label columns', async () => {
    const { db } = freshLibrary();
    const out = join(tempDir(), 'cb.jsonl');
    const s = await startLabelJob(db, engine, { input: data('cb/val.jsonl'), output: out, goldColumn: 'label', batchSize: 8 });
    console.log(JSON.stringify(s));
    const lines = readFileSync(out, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l));
    console.log(lines[0]);
    expect(lines).toHaveLength(56);
  });
});
