import { execFileSync } from 'node:child_process';

export interface VersionCheck {
  /** The version's test rows are the parent's, row for row. */
  testSame: boolean;
  added: number;
  leftOut: number;
  /** Reviewed texts that replaced the label of at least one original row. */
  relabelled: number;
  splits: { train: number; validation: number; test: number };
}

/**
 * Rebuilds a "train again" dataset version in python3 from the library file (sqlite3) and compares it with the one
 * Sprout stored: the parent's rows with the person's label where a reviewed text matches (test rows untouched),
 * reviewed rows with new texts appended to training, reviewed rows whose text is a test text nowhere but in test.
 * A text is its template's columns joined by one space (the templates here are "{a} {b}"): `datasetColumns` for
 * the dataset's rows, `jobColumns` for the job's rows.
 */
export function checkVersion(library: string, parent: number, version: number, jobId: string, jobColumns: readonly string[]): VersionCheck {
  const script = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
parent, version, job, job_columns = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], json.loads(sys.argv[5])
corrections = {}
for fields, label in db.execute('SELECT fields, corrected FROM label_rows WHERE job_id = ? AND corrected IS NOT NULL ORDER BY row', (job,)):
    fields = json.loads(fields)
    corrections[' '.join(fields[c] for c in job_columns)] = label
def rows(d):
    return [(s, i, json.loads(t), l) for s, i, t, l in db.execute('SELECT split, row_index, texts, label FROM dataset_rows WHERE dataset_id = ? ORDER BY split, row_index', (d,))]
text = lambda values: ' '.join(values)
old, new = rows(parent), rows(version)
test_texts = {text(v) for s, _, v, _ in old if s == 'test'}
expected = [(s, i, v, l if s == 'test' else corrections.get(text(v), l)) for s, i, v, l in old]
relabelled = len({text(v) for s, _, v, l in old if s != 'test' and text(v) in corrections and corrections[text(v)] != l})
seen = {text(v) for _, _, v, _ in old}
last = max(i for _, i, _, _ in old)
assert sorted(r for r in new if r[1] <= last) == sorted(expected), 'the original rows, with the person\\'s labels'
added = [t for t in corrections if t not in seen]
appended = [r for r in new if r[1] > last]
assert [(s, text(v), l) for s, _, v, l in appended] == [('train', t, corrections[t]) for t in added], appended
left_out = [t for t in corrections if t in test_texts]
assert not any(s != 'test' and text(v) in left_out for s, _, v, _ in new), 'a test text in training'
print(json.dumps({'testSame': [r for r in old if r[0] == 'test'] == [r for r in new if r[0] == 'test'], 'added': len(appended), 'leftOut': len(left_out), 'relabelled': relabelled,
                  'splits': {s: sum(1 for r in new if r[0] == s) for s in ('train', 'validation', 'test')}}))
`;
  return JSON.parse(
    execFileSync('python3', ['-c', script, library, String(parent), String(version), jobId, JSON.stringify(jobColumns)], {
      encoding: 'utf8',
    }),
  ) as VersionCheck;
}
