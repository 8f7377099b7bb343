import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { parquetReadObjects } from 'hyparquet';
import { openpyxlRows } from '../data/helpers.js';

/** `tsv-none`: a TSV written with quoting off (a job on a quote-less TSV exporting to TSV). */
export type ExportFormat = 'csv' | 'tsv' | 'tsv-none' | 'jsonl' | 'parquet' | 'xlsx';

/** What the checker needs to know of the export: its text column, the label set and the final columns' names. */
export interface ExportShape {
  text: string;
  labels: readonly string[];
  /** The final label column (`label`, or `label_1` where the input has a `label` column). */
  label: string;
  source: string;
}

/** One exported row as Python read it: [text, model's predicted_label, final label, label_source]. */
export type CheckedRow = [string, string, string, string];

/**
 * Reads an export with Python's csv/json modules (Parquet through hyparquet into JSON Lines first: this python3 has
 * no Parquet reader; a workbook through openpyxl, its cells as text) and asserts that no row contradicts itself: the model's predicted label is the most probable
 * one (or, where a threshold_<label> column says so, the label its threshold picks), confidence its probability,
 * runner_up the next, margin their difference, the probabilities sum to 1; the
 * final label is the model's where label_source says model; a skipped row has no label at all.
 */
export async function checkExport(file: string, format: ExportFormat, shape: ExportShape): Promise<CheckedRow[]> {
  let path = file;
  let fmt: Exclude<ExportFormat, 'parquet' | 'xlsx'> = format === 'parquet' || format === 'xlsx' ? 'jsonl' : format;
  if (format === 'xlsx') {
    const [header, ...rows] = openpyxlRows(file).map((r) => r.cells);
    path = `${file}.as.jsonl`;
    writeFileSync(path, rows.map((r) => `${JSON.stringify(Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])))}\n`).join(''));
  }
  if (format === 'parquet') {
    const bytes = readFileSync(file);
    const rows = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    });
    path = `${file}.as.jsonl`;
    writeFileSync(path, rows.map((r) => `${JSON.stringify(r)}\n`).join(''));
    fmt = 'jsonl';
  }
  const out = execFileSync('python3', ['-c', CHECK, path, fmt, JSON.stringify(shape)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(out) as CheckedRow[];
}

const CHECK = `
import csv, json, sys
path, fmt, shape = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
labels, text, final, source_col = shape['labels'], shape['text'], shape['label'], shape['source']
if fmt == 'jsonl':
    with open(path, encoding='utf-8') as f:
        rows = [json.loads(line) for line in f]
else:
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f, delimiter=',' if fmt == 'csv' else '\\t', quoting=csv.QUOTE_NONE if fmt == 'tsv-none' else csv.QUOTE_MINIMAL)
        rows = list(reader)
        assert all(None not in r for r in rows), 'a row has more fields than the header'
empty = lambda v: v is None or v == ''
out = []
for i, r in enumerate(rows):
    where = 'row %d: %r' % (i, r)
    predicted, label, source = r['predicted_label'], r[final], r[source_col]
    if not empty(r['skipped_reason']):
        assert empty(predicted) and empty(label) and empty(source), where
        out.append([r[text], '', '', ''])
        continue
    probs = [float(r['p_' + l]) for l in labels]
    top = max(probs)
    assert abs(sum(probs) - 1) <= 1e-5, where
    confidence = float(r['confidence'])
    assert predicted in labels and abs(confidence - probs[labels.index(predicted)]) <= 1e-6, where
    others = [p for k, p in enumerate(probs) if labels[k] != predicted]
    assert r['runner_up'] in labels and r['runner_up'] != predicted and probs[labels.index(r['runner_up'])] >= max(others) - 1e-6, where
    thresholds = [k for k in r if k.startswith('threshold_') and k[len('threshold_'):] in labels]
    if thresholds:
        # A decision threshold answers its label when that label's probability reaches it (probabilities are written to 6 places).
        positive, threshold = thresholds[0][len('threshold_'):], float(r[thresholds[0]])
        p = probs[labels.index(positive)]
        if abs(p - threshold) > 1e-6:
            assert predicted == (positive if p >= threshold else [l for l in labels if l != positive][0]), where
    else:
        assert probs[labels.index(predicted)] >= top - 1e-6, where
    assert abs(float(r['margin']) - (confidence - probs[labels.index(r['runner_up'])])) <= 2e-6, where
    assert source in ('person', 'model'), where
    assert label in labels, where
    if source == 'model':
        assert label == predicted, where
    out.append([r[text], predicted, label, source])
print(json.dumps(out))
`;
