import { SproutError } from '../errors.js';

/**
 * How an input record becomes the text the model reads: a template with `{column}` placeholders (`{{` and `}}` for
 * literal braces), or the chosen text columns — one column as it is, several as "column: value" pairs joined by a
 * space (the T5 convention for multi-field tasks).
 */
export interface TextSpec {
  template: string | null;
  textColumns: string[];
}

export type RenderedText = { text: string } | { skip: string };

/** Placeholder names of a template, in order; throws on an unbalanced brace. */
export function templateColumns(template: string): string[] {
  const names: string[] = [];
  for (const part of templateParts(template)) if (part.column !== undefined) names.push(part.column);
  return names;
}

type Part = { literal: string; column?: undefined } | { column: string };

function templateParts(template: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    const ch = template[i];
    if ((ch === '{' || ch === '}') && template[i + 1] === ch) {
      literal += ch;
      i++;
    } else if (ch === '{') {
      const end = template.indexOf('}', i);
      if (end < 0) throw badTemplate(template, `the "{" at character ${i + 1} is never closed`);
      if (literal) parts.push({ literal });
      literal = '';
      parts.push({ column: template.slice(i + 1, end) });
      i = end;
    } else if (ch === '}') {
      throw badTemplate(template, `the "}" at character ${i + 1} closes nothing`);
    } else {
      literal += ch;
    }
  }
  if (literal) parts.push({ literal });
  return parts;
}

function badTemplate(template: string, why: string): SproutError {
  return new SproutError('label-bad-template', `The template ${JSON.stringify(template)} is not valid: ${why}.`, {
    hint: 'Write columns as {name}, and a literal brace as {{ or }}.',
  });
}

/**
 * Checks the spec against the input's columns. With neither a template nor text columns, a lone column or one
 * named text/sentence is used; otherwise the user has to say.
 */
export function resolveTextSpec(spec: TextSpec, columns: readonly string[], file: string): TextSpec {
  const known = (c: string) => {
    if (!columns.includes(c)) {
      throw new SproutError('label-unknown-column', `The input has no column "${c}"; its columns are ${columns.map((x) => JSON.stringify(x)).join(', ')}.`, {
        file,
        hint: 'Name an existing column with --text-column, or fix the template.',
      });
    }
  };
  if (spec.template !== null) {
    templateColumns(spec.template).forEach(known);
    return spec;
  }
  if (spec.textColumns.length) {
    spec.textColumns.forEach(known);
    return spec;
  }
  const guess = columns.length === 1 ? columns[0] : columns.find((c) => ['text', 'sentence'].includes(c.toLowerCase()));
  if (guess === undefined) {
    throw new SproutError('label-no-text-column', `Which column holds the text? The input's columns are ${columns.map((x) => JSON.stringify(x)).join(', ')}.`, {
      file,
      hint: 'Pass --text-column NAME (repeat it for several), or --template "…{column}…".',
    });
  }
  return { template: null, textColumns: [guess] };
}

/** The model's input text for one record, or why the record cannot be labelled. */
export function renderText(spec: TextSpec, fields: Readonly<Record<string, string | null>>): RenderedText {
  const value = (c: string): string | undefined => fields[c] ?? undefined;
  let text: string;
  // Whether any column gave more than whitespace: a template around empty columns is still an empty example.
  let content = false;
  if (spec.template !== null) {
    text = '';
    for (const part of templateParts(spec.template)) {
      if (part.column === undefined) {
        text += part.literal;
        continue;
      }
      const v = value(part.column);
      if (v === undefined) return { skip: `missing value in column "${part.column}"` };
      content ||= v.trim() !== '';
      text += v;
    }
  } else if (spec.textColumns.length === 1) {
    const v = value(spec.textColumns[0]);
    if (v === undefined) return { skip: `missing value in column "${spec.textColumns[0]}"` };
    text = v;
    content = v.trim() !== '';
  } else {
    const pieces: string[] = [];
    for (const c of spec.textColumns) {
      const v = value(c);
      if (v === undefined) return { skip: `missing value in column "${c}"` };
      content ||= v.trim() !== '';
      pieces.push(`${c}: ${v}`);
    }
    text = pieces.join(' ');
  }
  if (!content) return { skip: 'empty text' };
  return { text };
}
