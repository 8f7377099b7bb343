import type { ReadProgress } from '../data/types.js';
import { DEFAULT_MAX_CHARS, importDataset, type ImportReport } from '../library/import-dataset.js';
import { printJson, UsageError, type Command, type ParsedArgs } from './command.js';
import { interruptSignal } from './interrupt.js';
import {
  fileReadChoices,
  FILE_READ_HELP,
  TEXT_READ_HELP,
  ENCODING_NOTE,
  importJson,
  onePositional,
  progressLine,
  readFlags,
  readOptions,
} from './data-shared.js';
import { withLibrary } from './model-shared.js';
import { countFlag, heldOutFlag, runLimitFlag } from './flags.js';
import { DEFAULT_HELD_OUT, MAX_HELD_OUT } from '../data/split.js';

export const dataImportCommand: Command = {
  path: ['data', 'import'],
  summary: 'Import a data file into the library as a dataset',
  usage: `Usage: sprout data import FILE ${FILE_READ_HELP}
                          ${TEXT_READ_HELP}
                          [--text-column C]... [--label-column L | --no-label] [--template T]
                          [--validation FILE [--validation-sheet NAME]] [--split ${DEFAULT_HELD_OUT.validation}] [--test-split ${DEFAULT_HELD_OUT.test}] [--seed N]
                          [--name NAME] [--max-chars ${DEFAULT_MAX_CHARS}]

Whether the first row of a CSV, a TSV or a workbook's sheet is a header is detected unless --header says
(--no-header is --header no); a workbook (.xlsx) is read from its first visible sheet, as Excel shows its values;
columns are named as in the header, or by 0-based index for headerless files. Without --text-column,
--label-column or --template the mapping is suggested from the data (see \`sprout data preview\`); --no-label
imports the rows unlabelled (for batch labelling). A pair task joins columns with a template, e.g.
--template "premise: {premise} hypothesis: {hypothesis}". Without --validation, a seeded stratified split moves
--split (default ${DEFAULT_HELD_OUT.validation}, at most ${MAX_HELD_OUT.validation}) of every class to validation, by unique text: all copies of a text stay on one
side. --test-split (default ${DEFAULT_HELD_OUT.test} as in the app's Data step, at most ${MAX_HELD_OUT.test}, 0 for none) also holds that share of every
class out as the test split, drawn the same way (from the training file when --validation is given): training never
sees it nor chooses its best step by it, and it is scored once when a run ends, the score to report. Everything is
stored in one transaction: a failed import leaves nothing behind, and Ctrl-C stops one while it reads (exit code
130), keeping nothing of it. The report counts texts over --max-chars characters (after the template) as long.
${ENCODING_NOTE}

Prints one JSON line: id, name, rows, splits {train, validation, test}, labels {label: count}, split_labels,
dropped {reason: count}, missing_label_lines, duplicates, conflicting_duplicates, quoting, quoting_reason,
free_text, distinct_labels, long, blank_lines, columns, text_columns, label_column, template, bytes, sha256, …`,
  options: {
    ...readFlags,
    'text-column': { type: 'string', multiple: true },
    'label-column': { type: 'string' },
    'no-label': { type: 'boolean', default: false },
    template: { type: 'string' },
    validation: { type: 'string' },
    'validation-sheet': { type: 'string' },
    split: { type: 'string' },
    'test-split': { type: 'string' },
    seed: { type: 'string' },
    name: { type: 'string' },
    'max-chars': { type: 'string' },
  },
  choices: fileReadChoices,
  positionals: true,
  async run({ values, positionals, listHint }) {
    const file = onePositional({ positionals, listHint }, 'data file', 'data import');
    if (values['no-label'] && values['label-column'] !== undefined)
      throw new UsageError('Give either --label-column or --no-label, not both.');
    const progress = progressLine('importing');
    // Ctrl-C is noticed at the next chunk read, so that the staging library's files go with the import.
    const interrupt = interruptSignal();
    let report: ImportReport;
    try {
      report = await importFile(file, values, (p) => {
        interrupt.signal.throwIfAborted();
        progress.update(p.bytesRead, p.totalBytes);
      });
    } catch (error) {
      if (!interrupt.signal.aborted || error !== interrupt.signal.reason) throw error;
      progress.end();
      process.stderr.write('sprout: The import was stopped; nothing of it was added to the library.\n');
      return 130;
    } finally {
      interrupt.dispose();
    }
    progress.end();
    printJson(importJson(report));
  },
};

function importFile(file: string, values: ParsedArgs['values'], onProgress: (p: ReadProgress) => void): Promise<ImportReport> {
  return withLibrary((db) =>
    importDataset(db, file, {
      ...readOptions(values),
      textColumns: values['text-column'] as string[] | undefined,
      labelColumn: values['no-label'] ? null : (values['label-column'] as string | undefined),
      template: values.template as string | undefined,
      validationFile: values.validation as string | undefined,
      validationSheet: values['validation-sheet'] as string | undefined,
      split: heldOutFlag(values, 'split'),
      testSplit: heldOutFlag(values, 'test-split') ?? DEFAULT_HELD_OUT.test,
      seed: runLimitFlag(values, 'seed', 'seed'),
      name: values.name as string | undefined,
      maxChars: countFlag(values, 'max-chars'),
      onProgress,
    }),
  );
}
