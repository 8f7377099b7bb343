import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { peakRssMb } from './measure.js';
import { openLibrary } from '../library/db.js';
import { seededRandom } from '../data/split.js';
import { importDataset } from '../library/import-dataset.js';

const WORDS = 'the a movie film was great terrible plot acting , "quoted" and but not really quite fun boring long short story'.split(' ');

const LABELS = ['world', 'sports', 'business', 'science'];

/** The generated rows: row i's text (5–25 words, some needing quotes in a CSV) and its label, the same every run. */
export function* generatedRows(rows: number): Generator<[string, string]> {
  const random = seededRandom(1);
  for (let i = 0; i < rows; i++) {
    const n = 5 + Math.floor(random() * 21);
    let text = String(i);
    for (let w = 0; w < n; w++) text += ' ' + WORDS[Math.floor(random() * WORDS.length)];
    yield [text, LABELS[i % 4]];
  }
}

/** Writes a CSV with a header and `rows` rows of 5–25 words (some needing quotes) and one of four labels. */
async function writeCsv(file: string, rows: number): Promise<void> {
  const out = createWriteStream(file);
  out.write('text,label\n');
  let batch = '';
  for (const [text, label] of generatedRows(rows)) {
    const field = /[",]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
    batch += `${field},${label}\n`;
    if (batch.length > 1 << 20) {
      if (!out.write(batch)) await once(out, 'drain');
      batch = '';
    }
  }
  out.end(batch);
  await once(out, 'finish');
}

/**
 * `npm run bench -- import`: imports a generated 1,000,000-row CSV into a fresh library and reports rows per second
 * of the import alone and the peak RSS of the process. Targets: over 100,000 rows/s, under 300 MB.
 */
export async function benchImport(rows = 1_000_000): Promise<Record<string, unknown>> {
  return {
    ...(await timeImport('import', 'generated.csv', (csv) => writeCsv(csv, rows))),
    targets: { rows_per_s: 100_000, peak_rss_mb: 300 },
  };
}

/**
 * Writes a file named `name` in a fresh folder with `write`, then times its import into a fresh library (the import
 * alone): the figures the import benchmarks report.
 */
export async function timeImport(
  benchmark: string,
  name: string,
  write: (file: string) => Promise<void> | void,
): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), `sprout-bench-${benchmark}-`));
  try {
    const file = join(dir, name);
    await write(file);
    const db = openLibrary(join(dir, 'library.sqlite'));
    const start = performance.now();
    const report = await importDataset(db, file, { textColumns: ['text'], labelColumn: 'label' });
    const seconds = (performance.now() - start) / 1000;
    db.close();
    return {
      benchmark,
      rows: report.rows,
      file_mb: Math.round(statSync(file).size / 2 ** 20),
      seconds: Number(seconds.toFixed(2)),
      rows_per_s: Math.round(report.rows / seconds),
      peak_rss_mb: peakRssMb(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
