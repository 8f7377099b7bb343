import { listReviewRows } from '../label/review.js';
import { REVIEW_PAGE, REVIEW_STATES } from '../choices.js';
import { printJson, type Command } from './command.js';
import { onePositional } from './data-shared.js';
import { withLibrary } from './model-shared.js';
import { choiceFlag, numberFlag, stringFlag } from './flags.js';

const probability = { fraction: true, min: 0, max: 1 };
const stateFlag = choiceFlag('state', REVIEW_STATES);

export const labelReviewCommand: Command = {
  path: ['label', 'review'],
  summary: "List a labelling job's least confident rows (JSON), with filters",
  usage: `Usage: sprout label review JOB [--limit ${REVIEW_PAGE.rows}] [--offset 0] [--predicted LABEL] [--min-confidence P]
                          [--max-confidence P] [--search TEXT] [${stateFlag.help}]

Lists the job's labelled rows, least confident first (ties in input order): --limit rows (at most ${REVIEW_PAGE.most})
from --offset (walk a large job page by page), only those predicted as LABEL, with a confidence in [min, max], with
a column containing TEXT (any case), and in a review state: unreviewed (no label from a person yet), reviewed (one
given), corrected (one that differs from the model's).
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
  },
  choices: [stateFlag],
  positionals: true,
  async run({ values, positionals, listHint }) {
    const jobId = onePositional({ positionals, listHint }, 'labelling job id', 'label review');
    const offset = numberFlag(values, 'offset', { min: 0 }) ?? 0;
    const page = await withLibrary((db) =>
      listReviewRows(db, jobId, {
        offset,
        limit: numberFlag(values, 'limit', { min: 1, max: REVIEW_PAGE.most }),
        predicted: stringFlag(values, 'predicted'),
        minConfidence: numberFlag(values, 'min-confidence', probability),
        maxConfidence: numberFlag(values, 'max-confidence', probability),
        search: stringFlag(values, 'search'),
        state: stateFlag.read(values),
      }),
    );
    printJson({ job_id: jobId, total: page.total, offset, counts: page.counts, rows: page.rows });
  },
};
