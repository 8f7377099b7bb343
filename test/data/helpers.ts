import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { libraryPath, openLibrary, type LibraryDb } from '../../main/library/db.js';

const repoRoot = path.resolve(fileURLToPath(import.meta.url), '../../..');
export const sharedData = path.resolve(repoRoot, '../shared/data');

export function dataFile(...parts: string[]): string {
  return path.join(sharedData, ...parts);
}

export function tempDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'sprout-data-'));
}

/** A fresh library in a temp SPROUT_HOME-like folder. */
export function freshLibrary(): LibraryDb {
  return openLibrary(libraryPath(tempDir()));
}

export function tableCounts(db: LibraryDb): { datasets: number; rows: number } {
  return {
    datasets: (db.prepare('SELECT COUNT(*) AS n FROM datasets').get() as { n: number }).n,
    rows: (db.prepare('SELECT COUNT(*) AS n FROM dataset_rows').get() as { n: number }).n,
  };
}

/** The file's physical lines split on tabs: GLUE's own reading, independent of the importer. */
export function tsvLines(file: string): string[][] {
  const text = readFileSync(file, 'utf8');
  return (text.endsWith('\n') ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
}
