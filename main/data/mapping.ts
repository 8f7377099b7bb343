/**
 * Which columns of a data file hold the text and the label, and the template that renders them: as given, or
 * suggested by profiling the first records (which are held back and yielded again, so the file is read once).
 */
import { SproutError } from '../errors.js';
import { Profiler, suggestMapping } from './profile.js';
import type { Source } from './read.js';
import { defaultTemplate, parseTemplate, type Template } from './template.js';
import type { SourceInfo, SourceRecord } from './types.js';

const SUGGEST_SAMPLE = 1000;

/** What the person chose; what is undefined is suggested from the data. */
export interface MappingRequest {
  /** Columns holding the text; suggested from the data when omitted (and no template names them). */
  textColumns?: string[];
  /** The label column; undefined: suggested from the data; null: import unlabelled rows (for labelling). */
  labelColumn?: string | null;
  /** e.g. `premise: {premise} hypothesis: {hypothesis}`; its columns are text columns too. */
  template?: string;
}

export interface Mapping {
  textColumns: string[];
  labelColumn: string | null;
  template: Template;
}

/**
 * When the mapping must be guessed, the first records are held back and profiled; the returned source yields them
 * again before the rest, so the file is read once.
 */
export async function bufferForSuggestion(source: Source, request: MappingRequest): Promise<Source & { sample: SourceRecord[] }> {
  const needed = (request.textColumns === undefined && request.template === undefined) || request.labelColumn === undefined;
  const sample: SourceRecord[] = [];
  if (!needed) return { ...source, sample };
  const iterator = source.records[Symbol.asyncIterator]();
  let done = false;
  while (sample.length < SUGGEST_SAMPLE) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    sample.push(next.value);
  }
  async function* replay(): AsyncGenerator<SourceRecord> {
    yield* sample;
    if (done) return;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return { ...source, records: replay(), sample };
}

export function resolveMapping(info: SourceInfo, request: MappingRequest, buffered: { sample: SourceRecord[] }): Mapping {
  let suggestion: { textColumns: string[]; labelColumn: string | null } | undefined;
  const suggest = () => {
    if (!suggestion) {
      const profiler = new Profiler(info.columns);
      for (const r of buffered.sample) profiler.add(r);
      suggestion = suggestMapping(profiler.profiles(), profiler.rows);
    }
    return suggestion;
  };
  const template = request.template === undefined ? undefined : parseTemplate(request.template);
  const labelColumn = request.labelColumn === undefined ? suggest().labelColumn : request.labelColumn;
  let textColumns = request.textColumns ?? (template ? template.columns : suggest().textColumns.filter((c) => c !== labelColumn));
  if (template) textColumns = [...textColumns, ...template.columns.filter((c) => !textColumns.includes(c))];
  textColumns = [...new Set(textColumns)];
  if (textColumns.length === 0) {
    throw new SproutError('data-no-text-column', 'No column looks like text.', {
      file: info.file,
      hint: `Choose one with --text-column (columns: ${info.columns.join(', ')}).`,
      uiHint: 'Tick the column(s) that hold the text.',
    });
  }
  if (labelColumn !== null && textColumns.includes(labelColumn)) {
    throw new SproutError(
      'data-label-in-text',
      `The label column "${labelColumn}" is also a text column: each row's text would hold its answer.`,
      {
        file: info.file,
        hint: `Name two different columns: --text-column (or --template) for the text, --label-column for the label (columns: ${info.columns.join(', ')}).`,
        uiHint: 'Untick the label column among the text columns.',
      },
    );
  }
  const mapping: Mapping = {
    textColumns,
    labelColumn,
    template: template ?? parseTemplate(defaultTemplate(textColumns, info.header)),
  };
  return checkColumns(info, mapping);
}

/** Every mapped column must exist; a headerless file's columns are its 0-based indexes. */
export function checkColumns(info: SourceInfo, mapping: Mapping): Mapping {
  const wanted = [...mapping.textColumns, ...(mapping.labelColumn === null ? [] : [mapping.labelColumn])];
  for (const column of wanted) {
    if (!info.columns.includes(column)) {
      const what = column === mapping.labelColumn ? 'label' : 'text';
      throw new SproutError(
        'data-missing-column',
        `The ${what} column ${JSON.stringify(column)} is not in this ${info.format.toUpperCase()} file.`,
        {
          file: info.file,
          hint: `Its columns are: ${info.columns.map((c) => JSON.stringify(c)).join(', ')}${info.header ? '' : ' (0-based indexes: the file has no header)'}.${
            what === 'label' ? ' To import examples without labels (for labelling), leave out --label-column.' : ''
          }`,
          uiHint: `Its columns are: ${info.columns.map((c) => JSON.stringify(c)).join(', ')}.`,
        },
      );
    }
  }
  return mapping;
}
