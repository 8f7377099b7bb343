import { defaultTemplate, parseTemplate, renderTemplate, type Template } from '../data/template.js';
import { SproutError } from '../errors.js';

/**
 * How an input record becomes the text the model reads: a template with `{column}` placeholders (main/data/template.ts,
 * the same syntax the dataset import and tasks use), or the chosen text columns — one column as it is, several as
 * "column: value" pairs joined by a space.
 */
export interface TextSpec {
  template: string;
  /** The columns the template reads. */
  textColumns: string[];
}

export type RenderedText = { text: string } | { skip: string };

/**
 * Checks the choice against the input's columns. With neither a template nor text columns, a lone column or one
 * named text/sentence is used; otherwise the user has to say.
 */
export function resolveTextSpec(choice: { template: string | null; textColumns: string[] }, columns: readonly string[], file: string): TextSpec {
  const quoted = columns.map((x) => JSON.stringify(x)).join(', ');
  let template = choice.template;
  if (template === null) {
    let textColumns = choice.textColumns;
    if (!textColumns.length) {
      const guess = columns.length === 1 ? columns[0] : columns.find((c) => ['text', 'sentence'].includes(c.toLowerCase()));
      if (guess === undefined) {
        throw new SproutError('label-no-text-column', `Which column holds the text? The input's columns are ${quoted}.`, {
          file,
          hint: 'Pass --text-column NAME (repeat it for several), or --template "…{column}…".',
        });
      }
      textColumns = [guess];
    }
    template = defaultTemplate(textColumns, true);
  }
  const parsed = parseTemplate(template);
  for (const c of parsed.columns) {
    if (!columns.includes(c)) {
      throw new SproutError('label-unknown-column', `The input has no column "${c}"; its columns are ${quoted}.`, {
        file,
        hint: 'Name an existing column with --text-column, or fix the template.',
      });
    }
  }
  return { template, textColumns: parsed.columns };
}

/** The model's input text for one record, or why the record cannot be labelled. */
export function renderText(template: Template, fields: Readonly<Record<string, string | null>>): RenderedText {
  const values: Record<string, string> = {};
  // Whether any column gave more than whitespace: a template around empty columns is still an empty example.
  let content = false;
  for (const c of template.columns) {
    const v = fields[c];
    if (v === null || v === undefined) return { skip: `missing value in column "${c}"` };
    content ||= v.trim() !== '';
    values[c] = v;
  }
  if (!content) return { skip: 'empty text' };
  return { text: renderTemplate(template, values) };
}
