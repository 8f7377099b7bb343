import { listReviewRows } from '../label/review.js';
import { REVIEW_STATES, type ReviewState } from '../label/review-state.js';
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
                          [--max-confidence P] [--search TEXT] [--state ${REVIEW_STATES.join('|')}]

Lists the job's labelled rows, least confident first (ties in input order): --limit rows from --offset, only those
predicted as LABEL, with a confidence in [min, max], with a column containing TEXT (any case), and in a review
state: unreviewed (no label from a person yet), reviewed (one given), corrected (one that differs from the model's).
Record labels with \`sprout label correct\`.

Prints one JSON line: job_id, total (rows matching the filters), offset, counts {labelled, reviewed, corrected},
rows [{row, line, text, fields (every input column), predicted, confidence, margin, probs, corrected, gold}].`,
  options: {
    limit: { type: 'string' },
    offset: { type: 'string' },
    predicted: { type: 'string' },
    'min-confidence': { type: 'string' },
    'max-confidence': { type: 'string' },
    search: { type: 'string' },
    state: { type: 'string' },
  },
  positionals: true,
  async run({ values, positionals }) {
    const jobId = onePositional(positionals, 'labelling job id', 'label review');
    const offset = count(values.offset, '--offset', 0) ?? 0;
    const state = values.state as string | undefined;
    if (state !== undefined && !REVIEW_STATES.includes(state as ReviewState)) throw new UsageError(`--state must be one of ${REVIEW_STATES.join(', ')}, not "${state}".`);
    const page = await withLibrary((db) =>
      listReviewRows(db, jobId, {
        offset,
        limit: count(values.limit, '--limit', 1) ?? 20,
        predicted: values.predicted as string | undefined,
        minConfidence: probability(values['min-confidence'], '--min-confidence'),
        maxConfidence: probability(values['max-confidence'], '--max-confidence'),
        search: values.search as string | undefined,
        state: state as ReviewState | undefined,
      }),
    );
    printJson({ job_id: jobId, total: page.total, offset, counts: page.counts, rows: page.rows });
  },
};
