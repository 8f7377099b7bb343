import { execFileSync } from 'node:child_process';

/** Each exported row as Python's csv/json modules read it: [sentence, predicted_label, label_source]. */
export function pythonRows(file: string, format: 'csv' | 'tsv' | 'jsonl', textColumn: string): string[][] {
  const script = `
import csv, json, sys
path, fmt, text = sys.argv[1:]
rows = []
if fmt == 'jsonl':
    with open(path, encoding='utf-8') as f:
        for line in f:
            r = json.loads(line)
            rows.append([r[text], r['predicted_label'], r.get('label_source') or ''])
else:
    with open(path, newline='', encoding='utf-8') as f:
        reader = csv.DictReader(f, delimiter=',' if fmt == 'csv' else '\\t', quoting=csv.QUOTE_MINIMAL if fmt == 'csv' else csv.QUOTE_NONE)
        for r in reader:
            assert None not in r, 'a row has more fields than the header'
            rows.append([r[text], r['predicted_label'], r.get('label_source') or ''])
print(json.dumps(rows))
`;
  return JSON.parse(
    execFileSync('python3', ['-c', script, file, format, textColumn], { encoding: 'utf8', maxBuffer: 1 << 26 }),
  ) as string[][];
}
