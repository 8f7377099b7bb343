import { exportCorrected } from '../label/export.js';
import { printJson, UsageError, type Command } from './command.js';
import { onePositional } from './data-shared.js';
import { withLibrary } from './model-shared.js';
import { outputFormatFlag } from './flags.js';
import { dataDir } from '../paths.js';
import { checkOutputFile } from '../output-path.js';

export const labelExportCommand: Command = {
  path: ['label', 'export'],
  summary: "Write a finished labelling job's output with the review's corrections applied",
  usage: `Usage: sprout label export JOB --output FILE [${outputFormatFlag.help}] [--overwrite] [--replace-job JOB2]

Writes every row of the job, in input order, from the library (so it is right even if the job's output file was
since changed or replaced): the input's columns, the model's columns as labelling wrote them (predicted_label,
confidence, runner_up, margin, p_<label>, …, skipped_reason), then
  label         the final label: the person's where they gave one, else the model's (empty for a skipped row)
  label_source  person, model, or empty for a skipped row
(names the input already uses get a suffix _1, …). The format comes from --format, else FILE's extension (.csv,
.tsv, .jsonl, .parquet, .xlsx), else CSV. The file is written under a temporary name and renamed into place when
complete. Writing over another labelling job's output needs --replace-job naming that job.

Prints one JSON line: file, format, rows, reviewed (rows a person labelled), corrected (of those, changed).`,
  options: { output: { type: 'string' }, overwrite: { type: 'boolean', default: false }, 'replace-job': { type: 'string' } },
  choices: [outputFormatFlag],
  positionals: true,
  async run({ values, positionals, listHint }) {
    const jobId = onePositional({ positionals, listHint }, 'labelling job id', 'label export');
    const output = values.output as string | undefined;
    if (output === undefined) throw new UsageError('--output FILE is required. Run `sprout label export --help`.');
    checkOutputFile(output, dataDir(), 'export file');
    const result = await withLibrary((db) =>
      exportCorrected(db, jobId, {
        file: output,
        format: outputFormatFlag.read(values),
        overwrite: values.overwrite === true,
        replaceJob: values['replace-job'] as string | undefined,
      }),
    );
    printJson(result);
  },
};
