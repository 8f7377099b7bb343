import { readCorrectionsFile } from '../label/corrections-file.js';
import { recordCorrections, reviewCounts } from '../label/review.js';
import { printJson, UsageError, type Command } from './command.js';
import { onePositional } from './data-shared.js';
import { encodingFlag } from './flags.js';
import { withLibrary } from './model-shared.js';

export const labelCorrectCommand: Command = {
  path: ['label', 'correct'],
  summary: "Record a person's labels for a labelling job's rows (one, or a file of them)",
  usage: `Usage: sprout label correct JOB --row N (--label L | --clear)
       sprout label correct JOB --file CORRECTIONS.csv [${encodingFlag.help}]

Records the person's label for row N (the \`row\` number \`sprout label review\` prints; 0 is the first record), or
withdraws it with --clear. The label must be one of the task's labels. --file reads many at once from a CSV, TSV
or JSON Lines file with a header naming a "row" and a "label" column (other columns are ignored; an empty label
withdraws); all of them are recorded, or none when one row or label is wrong (the error names file:line).
Exports then write these labels as \`label\` with \`label_source\` person. A file without a byte order mark is read as
UTF-8 unless --encoding names its code page (a sheet Excel saved as "CSV" rather than "CSV UTF-8" is in one).

Prints one JSON line: job_id, recorded, labelled, reviewed (rows with a person's label), corrected (of those,
different from the model's).`,
  options: {
    row: { type: 'string' },
    label: { type: 'string' },
    clear: { type: 'boolean', default: false },
    file: { type: 'string' },
  },
  choices: [encodingFlag],
  positionals: true,
  async run({ values, positionals, listHint }) {
    const jobId = onePositional({ positionals, listHint }, 'labelling job id', 'label correct');
    const file = values.file as string | undefined;
    const rowText = values.row as string | undefined;
    const label = values.label as string | undefined;
    if ((file === undefined) === (rowText === undefined))
      throw new UsageError('Give either --row N with --label L (or --clear), or --file CORRECTIONS.csv.');
    let corrections: { row: number; label: string | null; where?: string }[];
    if (file !== undefined) {
      if (label !== undefined || values.clear) throw new UsageError('--label and --clear go with --row; a --file names its labels itself.');
      corrections = await readCorrectionsFile(file, encodingFlag.read(values));
    } else {
      if (values.encoding !== undefined) throw new UsageError('--encoding goes with --file: it says how that file is read.');
      const row = Number(rowText);
      if (!/^\d+$/.test(rowText!) || !Number.isSafeInteger(row))
        throw new UsageError(`--row must be a row number (0 or more), not "${rowText}".`);
      if (label !== undefined && values.clear) throw new UsageError('Give --label L or --clear, not both.');
      if (label === undefined && !values.clear) throw new UsageError('Give --label L, or --clear to withdraw the label.');
      corrections = [{ row, label: label ?? null }];
    }
    const counts = await withLibrary((db) => {
      recordCorrections(db, jobId, corrections);
      return reviewCounts(db, jobId);
    });
    printJson({ job_id: jobId, recorded: corrections.length, ...counts });
  },
};
