import { execFileSync } from 'node:child_process';

/** Label column (1) of the first `limit` records of a headerless CoLA TSV, read by Python's csv module. */
export function pythonLabels(file: string, limit: number): string[] {
  const script =
    'import csv,json,sys\nrows=list(csv.reader(open(sys.argv[1],newline=""),delimiter="\\t",quoting=csv.QUOTE_NONE))\nprint(json.dumps([r[1] for r in rows[:int(sys.argv[2])]]))';
  return JSON.parse(execFileSync('python3', ['-c', script, file, String(limit)], { encoding: 'utf8' }));
}
