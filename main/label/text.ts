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
 * What the job reads. An explicit template wins. Otherwise the task's training template is kept for its literal
 * text, but its columns are the ones chosen for this file (in order): a prompt trained on `{3}` of a headerless
 * file labels the `sentence` column of another. With no columns chosen, the task's template is used when this file
 * has its columns, else a lone column or one named text/sentence; otherwise the person has to say.
 */
export function resolveTextSpec(
  choice: { template?: string | null; taskTemplate: string | null; textColumns: readonly string[] },
  columns: readonly string[],
  file: string,
): TextSpec {
  const quoted = columns.map((x) => JSON.stringify(x)).join(', ');
  const task = choice.taskTemplate === null ? null : parseTemplate(choice.taskTemplate);
  let template = choice.template ?? null;
  if (template === null) {
    let textColumns = [...choice.textColumns];
    if (!textColumns.length && task && task.columns.every((c) => columns.includes(c))) textColumns = task.columns;
    if (!textColumns.length) {
      const guess = columns.length === 1 ? columns[0] : columns.find((c) => ['text', 'sentence'].includes(c.toLowerCase()));
      if (guess === undefined || (task && task.columns.length > 1)) {
        const reads = task
          ? `The prompt was trained on column(s) ${task.columns.map((c) => JSON.stringify(c)).join(', ')}, which this file lacks; w`
          : 'W';
        throw new SproutError('label-no-text-column', `${reads}hich column holds the text? The input's columns are ${quoted}.`, {
          file,
          hint: 'Pass --text-column NAME (repeat it for several), or --template "…{column}…".',
          uiHint: 'Tick the column(s) that hold the text.',
        });
      }
      textColumns = [guess];
    }
    template =
      task && task.columns.length === textColumns.length ? retargetTemplate(task, textColumns) : defaultTemplate(textColumns, true);
  }
  const parsed = parseTemplate(template);
  for (const c of parsed.columns) {
    if (!columns.includes(c)) {
      throw new SproutError('label-unknown-column', `The input has no column "${c}"; its columns are ${quoted}.`, {
        file,
        hint: 'Name an existing column with --text-column, or fix the template.',
        uiHint: 'Tick one of its columns as the text.',
      });
    }
  }
  return { template, textColumns: parsed.columns };
}

/** The template's literal text around `columns` instead of its own, the i-th reference reading columns[i]. */
export function retargetTemplate(template: Template, columns: readonly string[]): string {
  const escape = (s: string) => s.replace(/[{}]/g, (b) => b + b);
  return template.parts
    .map((part) => (typeof part === 'string' ? escape(part) : `{${columns[template.columns.indexOf(part.column)]}}`))
    .join('');
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
