import { join } from 'node:path';
import { openLibrary, type LibraryDb } from '../../main/library/db.js';
import { insertDataset } from '../../main/library/datasets.js';
import { insertPrompt, type ModelRef, type NewPrompt } from '../../main/library/prompts.js';
import { findOrInsertTask } from '../../main/library/tasks.js';
import type { ArchitectureSummary } from '../../main/checkpoint/summary.js';
import { tempDir } from '../checkpoint/helpers.js';

export function freshLibrary(): { db: LibraryDb; file: string; dir: string } {
  const dir = tempDir('sprout-library-');
  const file = join(dir, 'library.sqlite');
  return { db: openLibrary(file), file, dir };
}

export const TINY_MODEL: ModelRef = { id: 'google/tiny-t5', path: '/models/tiny', summary: { dModel: 4, encoderLayers: 3, numHeads: 2 } };

/** TINY_MODEL's whole summary, for a model registered in the library. */
export const TINY_SUMMARY: ArchitectureSummary = {
  parameters: 1,
  encoderLayers: 3,
  decoderLayers: 2,
  dModel: 4,
  dKv: 2,
  numHeads: 2,
  dFf: 8,
  vocabSize: 32,
  feedForward: 'gated-gelu',
  tiedEmbeddings: false,
  weightBytes: 4,
};

/** A prompt whose values are `seed + i / 8` for value i, so that every prompt differs and is easy to check. */
export function testPrompt(seed: number, overrides: Partial<NewPrompt> = {}): NewPrompt {
  const length = overrides.length ?? 3;
  const dModel = overrides.dModel ?? 4;
  const embedding = Float32Array.from({ length: length * dModel }, (_, i) => seed + i / 8);
  return { name: `prompt ${seed}`, model: TINY_MODEL, length, dModel, embedding, init: 'vocab', ...overrides };
}

export function addPrompt(db: LibraryDb, seed: number, overrides: Partial<NewPrompt> = {}): number {
  return insertPrompt(db, testPrompt(seed, overrides));
}

/**
 * A dataset record without rows, labelled in column 1 with its text in column 3 (CoLA's TSV), and its task: what
 * a stored prompt of that task points at. `sha256` is its source file's, so that the same file is known as it.
 */
export function addTaskRecord(db: LibraryDb, name: string, sha256 = '0'.repeat(64)): { datasetId: number; taskId: number } {
  const datasetId = insertDataset(db, {
    name,
    source: { name: `${name}.tsv`, size: 1, sha256 },
    validation: null,
    format: 'tsv',
    options: {},
    columnMapping: { columns: [], textColumns: [], labelColumn: null },
    labelColumn: '1',
    textColumns: ['3'],
    template: '{3}',
  });
  return { datasetId, taskId: findOrInsertTask(db, { name, datasetId, template: '{3}', verbalizer: {}, labelSet: null }).id };
}
