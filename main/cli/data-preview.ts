import { PREVIEW_ROWS } from '../choices.js';
import { previewFile } from '../data/preview.js';
import { howRead } from '../data/read.js';
import { caseVariantsNotes } from '../data/values.js';
import { printJson, type Command } from './command.js';
import {
  fileReadChoices,
  FILE_READ_HELP,
  TEXT_READ_HELP,
  ENCODING_NOTE,
  howReadJson,
  onePositional,
  readAs,
  readFlags,
  readingNotes,
  readOptions,
} from './data-shared.js';
import { numberFlag } from './flags.js';

export const dataPreviewCommand: Command = {
  path: ['data', 'preview'],
  summary: 'Show the first rows, columns and label counts of a data file before importing it',
  usage: `Usage: sprout data preview FILE ${FILE_READ_HELP}
                           ${TEXT_READ_HELP}
                           [--label-column L] [--rows ${PREVIEW_ROWS.rows}] [--json]

Reads the whole file once. Shows the first --rows rows (at most ${PREVIEW_ROWS.most}), each column's detected type and statistics, the suggested text and
label columns, and the label set with counts. TSV quoting is detected unless --quoting is given; whether the first
row of a CSV, a TSV or a workbook's sheet (.xlsx: the first visible one) is a header is detected (and the reason
shown) unless --header is given (--no-header is --header no). Headerless files' columns are named by their 0-based
index. --json prints one JSON line.
${ENCODING_NOTE}`,
  options: { ...readFlags, 'label-column': { type: 'string' }, rows: { type: 'string' } },
  choices: fileReadChoices,
  positionals: true,
  async run({ values, positionals, listHint }) {
    const file = onePositional({ positionals, listHint }, 'data file', 'data preview');
    const rows = numberFlag(values, 'rows', { min: 1, max: PREVIEW_ROWS.most });
    const preview = await previewFile(file, { ...readOptions(values), labelColumn: values['label-column'] as string | undefined, rows });
    const { info } = preview;
    if (values.json) {
      printJson({
        file: info.file,
        ...howReadJson(howRead(info)),
        rows: preview.rows,
        blank_lines: preview.blankLines,
        columns: preview.columns.map((c) => ({
          name: c.name,
          type: c.type,
          present: c.present,
          blank: c.blank,
          distinct: c.distinct,
          distinct_capped: c.distinctCapped,
          mean_chars: c.meanChars,
          max_chars: c.maxChars,
        })),
        suggested: { text_columns: preview.suggestion.textColumns, label_column: preview.suggestion.labelColumn },
        label_column: preview.labelColumn,
        labels: preview.labels,
        free_text: preview.freeText,
        label_notes: preview.freeText ? [] : caseVariantsNotes(Object.keys(preview.labels ?? {})),
        first_rows: preview.firstRows.map((r) => ({ line: r.line, fields: r.fields })),
      });
      return;
    }
    const out: string[] = [];
    out.push(
      `${info.file}: ${readAs(info)}${info.separator === 'semicolon' ? ', semicolon-separated' : ''}` +
        `${info.quoting ? `, quoting ${info.quoting}` : ''}, ${preview.rows} rows${info.header ? '' : ', no header'}`,
    );
    out.push(...readingNotes(info), '', 'Columns:');
    for (const c of preview.columns) {
      out.push(
        `  ${JSON.stringify(c.name)}  ${c.type}, ${c.distinctCapped ? '>1000' : c.distinct} distinct` +
          `, ${c.blank} blank, mean ${c.meanChars} chars, max ${c.maxChars}`,
      );
    }
    out.push(
      '',
      `Suggested: text ${preview.suggestion.textColumns.map((c) => JSON.stringify(c)).join(' + ') || '(none)'}` +
        `, label ${preview.suggestion.labelColumn === null ? '(none)' : JSON.stringify(preview.suggestion.labelColumn)}`,
    );
    if (preview.labelColumn !== null) {
      out.push(
        preview.labels
          ? `Labels in ${JSON.stringify(preview.labelColumn)}: ${Object.entries(preview.labels)
              .map(([l, n]) => `${JSON.stringify(l)} ${n}`)
              .join(', ')}`
          : `Labels in ${JSON.stringify(preview.labelColumn)}: more than 1000 distinct values`,
      );
      if (preview.freeText) out.push('  More than 100 distinct labels: this looks like a free-text task rather than classification.');
      if (!preview.freeText) out.push(...caseVariantsNotes(Object.keys(preview.labels ?? {})).map((note) => `  ${note}.`));
    }
    out.push('', 'First rows:');
    for (const r of preview.firstRows)
      out.push(
        `  line ${r.line}: ${Object.entries(r.fields)
          .map(([k, v]) => `${k}=${JSON.stringify(v !== null && v.length > 80 ? `${v.slice(0, 77)}...` : v)}`)
          .join('  ')}`,
      );
    process.stdout.write(`${out.join('\n')}\n`);
  },
};
