import { SproutError } from '../errors.js';

/** A text template such as `premise: {premise} hypothesis: {hypothesis}`; `{{` and `}}` stand for literal braces. */
export interface Template {
  source: string;
  /** Literal text and column references, in order. */
  parts: (string | { column: string })[];
  /** Distinct referenced columns in order of first use. */
  columns: string[];
}

export function parseTemplate(source: string): Template {
  const parts: Template['parts'] = [];
  const columns: string[] = [];
  let literal = '';
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if ((c === '{' || c === '}') && source[i + 1] === c) {
      literal += c;
      i++;
    } else if (c === '{') {
      const end = source.indexOf('}', i + 1);
      const column = end < 0 ? '' : source.slice(i + 1, end);
      if (end < 0 || column === '' || column.includes('{')) {
        throw new SproutError(
          'data-bad-template',
          `The template ${JSON.stringify(source)} has an unfinished or empty {column} reference at character ${i + 1}.`,
          {
            hint: 'Write column names in braces, e.g. "premise: {premise} hypothesis: {hypothesis}"; write {{ and }} for literal braces.',
          },
        );
      }
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ column });
      if (!columns.includes(column)) columns.push(column);
      i = end;
    } else if (c === '}') {
      throw new SproutError(
        'data-bad-template',
        `The template ${JSON.stringify(source)} has a "}" without a matching "{" at character ${i + 1}.`,
        {
          hint: 'Write }} for a literal closing brace.',
        },
      );
    } else literal += c;
  }
  if (literal) parts.push(literal);
  return { source, parts, columns };
}

export function renderTemplate(template: Template, values: Readonly<Record<string, string>>): string {
  let out = '';
  for (const part of template.parts) out += typeof part === 'string' ? part : values[part.column];
  return out;
}

/** The template used when none is given: the column itself, or `name: {name}` per column for several. */
export function defaultTemplate(textColumns: string[], named: boolean): string {
  const escape = (s: string) => s.replace(/[{}]/g, (b) => b + b);
  if (textColumns.length === 1) return `{${textColumns[0]}}`;
  return textColumns.map((c) => (named ? `${escape(c)}: {${c}}` : `{${c}}`)).join(' ');
}
