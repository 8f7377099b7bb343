import { formatIn, HEADER_FORMATS } from '../choices.js';
import { SproutError } from '../errors.js';
import { heldOutWords, repeatsTrainingNote } from '../data/split.js';
import { caseVariantsNotes, labelSetNotes, trimmedLabelsNote } from '../data/values.js';
import { getDataset, type DatasetRecord } from '../library/datasets.js';
import type { ImportReport } from '../library/import-dataset.js';
import { count, percentText } from '../wording.js';
import { printJson, UsageError, type Command } from './command.js';
import { datasetJson, datasetLine, onePositional } from './data-shared.js';
import { withLibrary } from './model-shared.js';

export const dataShowCommand: Command = {
  path: ['data', 'show'],
  summary: 'Show one dataset: its source, column mapping, splits, labels and import report',
  usage: `Usage: sprout data show ID [--json]

--json prints one JSON line with the dataset's record and its import report.`,
  options: { json: { type: 'boolean', default: false } },
  positionals: true,
  async run({ values, positionals, listHint }) {
    const raw = onePositional({ positionals, listHint }, 'dataset id', 'data show');
    const id = Number(raw);
    if (!Number.isInteger(id) || id <= 0)
      throw new UsageError(`A dataset id is a positive whole number, not "${raw}". See \`sprout data list\`.`);
    const dataset = await withLibrary((db) => getDataset(db, id));
    if (!dataset)
      throw new SproutError('data-no-dataset', `There is no dataset ${id} in the library.`, {
        hint: 'See `sprout data list` for the ids.',
      });
    if (values.json) {
      printJson(datasetJson(dataset));
      return;
    }
    process.stdout.write(`${[datasetLine(dataset), ...datasetDetail(dataset).map((l) => `      ${l}`)].join('\n')}\n`);
  },
};

/**
 * A dataset's record and import report in words, as the app's import report gives them. Reports of older imports
 * may lack a field: what is absent is left out.
 */
function datasetDetail(d: DatasetRecord): string[] {
  const r = d.report as Partial<ImportReport>;
  const file = (name: string, f: { size: number; sha256: string | null }) =>
    `${name} (${count(f.size)} bytes${f.sha256 ? `, sha256 ${f.sha256.slice(0, 12)}…` : ''})`;
  const heldOut = heldOutWords(r.splitFraction ?? null, r.testFraction ?? null, percentText);
  const labels = Object.entries(r.labels ?? {}).map(([label, n]) => `"${label}" ${count(n)}`);
  return [
    `file ${file(r.file ?? d.source.name, d.source)}`,
    d.validation ? `validation file ${file(r.validation?.file ?? d.validation.name, d.validation)}` : '',
    `read as ${readAs(d.format, r)}`,
    `text ${d.template} (columns ${d.textColumns.join(', ')})`,
    d.labelColumn ? `labels from column "${d.labelColumn}": ${labels.join(', ')}` : 'unlabelled (for labelling)',
    heldOut
      ? `held out ${heldOut} of each class${r.splitBy ? `, by ${r.splitBy}` : ''}${r.seed === null || r.seed === undefined ? '' : ` (seed ${r.seed})`}`
      : '',
    r.dropped
      ? `dropped ${r.dropped.empty_text} with empty text, ${r.dropped.missing_text} without text, ${r.dropped.missing_label} without a label`
      : '',
    r.duplicates ? `duplicates ${count(r.duplicates)} (${count(r.conflictingDuplicates ?? 0)} with other labels)` : '',
    ...reportNotes(r).map((note) => `note: ${note}`),
    `imported ${d.created}`,
  ].filter(Boolean);
}

/** The notes of an import report, as the app's import report gives them. */
function reportNotes(r: Partial<ImportReport>): string[] {
  return [
    r.trimmedLabels ? trimmedLabelsNote(r.trimmedLabels) : '',
    ...caseVariantsNotes(Object.keys(r.labels ?? {})),
    ...labelSetNotes(r.splitLabels ?? {}),
    r.imbalance?.message ?? '',
    r.validationRepeatsTraining ? repeatsTrainingNote(r.validationRepeatsTraining, r.splits?.validation ?? 0, 'validation') : '',
  ].filter(Boolean);
}

/** How a dataset's file was read, as `data show` lists it: "tsv · utf-8 · quoting none · header row". */
function readAs(format: string, r: Partial<ImportReport>): string {
  return [
    format,
    r.sheet && `sheet "${r.sheet}"`,
    r.encoding !== 'binary' && r.encoding,
    r.separator === 'semicolon' && 'semicolon-separated',
    r.quoting && `quoting ${r.quoting}`,
    // Records (JSON Lines, Parquet) name their fields; only a table's first row can be names or data.
    !formatIn(HEADER_FORMATS, format) || r.header === undefined ? '' : r.header ? 'header row' : 'no header row',
  ]
    .filter(Boolean)
    .join(' · ');
}
