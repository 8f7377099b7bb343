import { listReviewRows } from '../label/review.js';
import { printJson, UsageError, type Command } from './command.js';
import { onePositional, withLibrary } from './data-shared.js';

function probability(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isFinite(n) && n >= 0 && n <= 1)) throw new UsageError(`${flag} must be a number from 0 to 1, not "${String(v)}".`);
  return n;
}

function count(v: unknown, flag: string, min: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(Number.isInteger(n) && n >= min && n <= 10_000)) throw new UsageError(`${flag} must be a whole number from ${min} to 10000, not "${String(v)}".`);
  return n;
}

export const labelReviewCommand: Command = {
  path: ['label', 'review'],
  summary: "List a labelling job's least confident rows (JSON), with filters",
  usage: `Usage: sprout label review JOB [--limit 20] [--offset 0] [--predicted LABEL] [--min-confidence P]
                          [--max-confidence P] [--search TEXT] [--uncorrected]

Lists the job's labelled rows, least confident first (ties in input order): --limit rows from --offset, only those
predicted as LABEL, with a confidence in [min, max], whose text contains TEXT (any case), or not yet corrected.

Prints one JSON line: job_id, total (rows matching the filters), offset, rows [{row, line, text, predicted,
confidence, margin, corrected, gold}].`,
  options: {
    limit: { type: 'string' },
    offset: { type: 'string' },
    predicted: { type: 'string' },
    'min-confidence': { type: 'string' },
    'max-confidence': { type: 'string' },
    search: { type: 'string' },
    uncorrected: { type: 'boolean', default: false },
  },
  positionals: true,
  async run({ values, positionals }) {
    const jobId = onePositional(positionals, 'labelling job id', 'label review');
    const offset = count(values.offset, '--offset', 0) ?? 0;
    const page = await withLibrary((db) =>
      listReviewRows(db, jobId, {
        offset,
        limit: count(values.limit, '--limit', 1) ?? 20,
        predicted: values.predicted as string | undefined,
        minConfidence: probability(values['min-confidence'], '--min-confidence'),
        maxConfidence: probability(values['max-confidence'], '--max-confidence'),
        search: values.search as string | undefined,
        uncorrectedOnly: values.uncorrected === true,
      }),
    );
    printJson({ job_id: jobId, total: page.total, offset, rows: page.rows });
  },
};
