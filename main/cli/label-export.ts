import { OUTPUT_FORMATS, type OutputFormat } from '../label/encode.js';
import { exportCorrected } from '../label/export.js';
import { printJson, UsageError, type Command } from './command.js';
import { onePositional, withLibrary } from './data-shared.js';

export const labelExportCommand: Command = {
  path: ['label', 'export'],
  summary: "Write a finished labelling job's output with the review's corrections applied",
  usage: `Usage: sprout label export JOB --output FILE [--format csv|tsv|jsonl|parquet] [--overwrite]

Copies the job's output (every row, in input order) to FILE with each corrected row's predicted label replaced by
the person's label, and adds label_source: person, model, or empty for a skipped row. The format comes from
--format, else FILE's extension (.csv, .tsv, .jsonl, .parquet), else CSV. The file is written under a temporary
name and renamed into place when complete.

Prints one JSON line: file, format, rows, corrected.`,
  options: { output: { type: 'string' }, format: { type: 'string' }, overwrite: { type: 'boolean', default: false } },
  positionals: true,
  async run({ values, positionals }) {
    const jobId = onePositional(positionals, 'labelling job id', 'label export');
    const output = values.output as string | undefined;
    if (output === undefined) throw new UsageError('--output FILE is required. Run `sprout label export --help`.');
    const format = values.format as string | undefined;
    if (format !== undefined && !OUTPUT_FORMATS.includes(format as OutputFormat)) throw new UsageError(`--format must be one of ${OUTPUT_FORMATS.join(', ')}.`);
    const result = await withLibrary((db) => exportCorrected(db, jobId, { file: output, format: format as OutputFormat | undefined, overwrite: values.overwrite === true }));
    printJson(result);
  },
};
