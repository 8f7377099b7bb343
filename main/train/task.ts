/**
 * What a training run learns: inputs rendered from a template over text columns, targets from a label column
 * through a verbaliser (label value → target text). Numeric labels must be given words, since a prompt can
 * only teach the model to emit text.
 */
import { SproutError } from '../errors.js';
import { parseTemplate, renderTemplate, type Template } from '../data/template.js';
import { isNumericLabel, labelOf } from '../data/values.js';
import { counted } from '../wording.js';

export interface TaskDefinition {
  /** e.g. "{sentence}" or "premise: {premise} hypothesis: {hypothesis}". */
  template: string;
  labelColumn: string;
  /** Label value → target text; without one each label is its own target. */
  verbalizer?: Record<string, string>;
  /** Longest input in tokens, eos included (longer inputs keep their first tokens and the eos). */
  maxInputLength: number;
  /** Longest target in tokens, eos included. */
  maxTargetLength: number;
  /** `classification` scores the label set; `generation` compares free-text targets. Default: inferred. */
  kind?: 'classification' | 'generation';
}

export const DEFAULT_MAX_INPUT_LENGTH = 512;
export const DEFAULT_MAX_TARGET_LENGTH = 32;

/** One example as read: its template fields and label value, and where it came from. */
export interface RawExample {
  fields: Readonly<Record<string, string | null>>;
  line: number;
}

/** `0=unacceptable,1=acceptable`; `\,` and `\=` stand for literal commas and equals signs. */
export function parseVerbalizer(spec: string): Record<string, string> {
  const out = new Map<string, string>();
  const entries = spec.split(/(?<!\\),/).filter((e) => e.trim() !== '');
  for (const entry of entries) {
    const m = /^(.*?)(?<!\\)=(.*)$/s.exec(entry);
    const unescape = (s: string) => s.replace(/\\([,=\\])/g, '$1');
    const key = m ? unescape(m[1].trim()) : '';
    const value = m ? unescape(m[2].trim()) : '';
    if (!m || key === '' || value === '') {
      throw new SproutError('bad-verbalizer', `The verbaliser entry "${entry}" is not LABEL=WORDS.`, {
        hint: "Write e.g. --verbalizer '0=unacceptable,1=acceptable'.",
      });
    }
    if (out.has(key)) throw new SproutError('bad-verbalizer', `The verbaliser maps label "${key}" twice.`);
    out.set(key, value);
  }
  if (entries.length === 0)
    throw new SproutError('bad-verbalizer', 'The verbaliser is empty.', { hint: "Write e.g. --verbalizer '0=unacceptable,1=acceptable'." });
  return Object.fromEntries(out);
}

/** Free text rather than classes: many distinct values, few repeats. */
const MAX_CLASSES = 100;

export interface ResolvedTask {
  kind: 'classification' | 'generation';
  template: Template;
  /** Label values in order (the verbaliser's key order — JavaScript puts integer keys first, ascending — else sorted); empty for generation. */
  labels: string[];
  /** Target text of each label, same order. */
  labelTexts: string[];
}

/** The template reads the label column: every input would hold its own answer. */
function labelInText(column: string, source: string): SproutError {
  return new SproutError('label-in-text', `The label column "${column}" is also read as text: each input would hold its own answer.`, {
    file: source,
    hint: 'Name the text column(s) with --text-column (or --template) and the label column with --label-column, two different columns.',
    uiHint: 'Untick the label column among the text columns.',
  });
}

/** Two labels the model would write alike, or one it would write as nothing, cannot be told apart by their words. */
function refuseIndistinctWords(verbalizer: Record<string, string>, source: string): void {
  const byWords = new Map<string, string>();
  for (const [label, words] of Object.entries(verbalizer)) {
    const key = words.trim();
    if (key === '')
      throw new SproutError('verbalizer-blank', `Label "${label}" has no words in the verbaliser, only spaces.`, {
        file: source,
        hint: 'Give each label a word or a few the model can write, e.g. 0=negative,1=positive.',
      });
    const other = byWords.get(key);
    if (other !== undefined)
      throw new SproutError(
        'verbalizer-duplicate',
        `Labels "${other}" and "${label}" have the same words ("${key}"): the model could not tell them apart.`,
        {
          file: source,
          hint: 'Give each label words of its own.',
        },
      );
    byWords.set(key, label);
  }
}

/**
 * Fixes the label set and task kind from the training examples. Numeric labels without a verbaliser, labels
 * the verbaliser does not name, a single label and missing columns are user mistakes reported with the line.
 */
export function resolveTask(task: TaskDefinition, train: RawExample[], source: string): ResolvedTask {
  const template = parseTemplate(task.template);
  if (train.length === 0) throw new SproutError('no-examples', 'The training data has no examples.', { file: source });
  const first = train[0];
  for (const column of [...template.columns, task.labelColumn]) {
    if (!Object.hasOwn(first.fields, column)) {
      throw new SproutError('missing-column', `There is no column "${column}" (columns: ${Object.keys(first.fields).join(', ')}).`, {
        file: source,
        line: first.line,
        hint: 'Name text columns with --text-column/--template and the label column with --label-column.',
      });
    }
  }
  if (template.columns.includes(task.labelColumn)) throw labelInText(task.labelColumn, source);
  const values = new Map<string, number>();
  for (const ex of train) {
    const label = labelOf(ex.fields[task.labelColumn]);
    if (label !== undefined) values.set(label, (values.get(label) ?? 0) + 1);
  }
  // Classes when a verbaliser names them, or when there are few values that repeat (two values always count).
  const classes = values.size <= MAX_CLASSES && (values.size <= 2 || train.length >= 2 * values.size);
  const kind = task.kind ?? (task.verbalizer || classes ? 'classification' : 'generation');
  if (kind === 'generation') return { kind, template, labels: [], labelTexts: [] };
  if (values.size === 1) throw oneLabel([...values.keys()][0], source);
  const verbalizer = task.verbalizer;
  if (verbalizer) {
    const unnamed = [...values.keys()].filter((v) => !Object.hasOwn(verbalizer, v));
    if (unnamed.length) {
      const ex = train.find((e) => labelOf(e.fields[task.labelColumn]) === unnamed[0])!;
      throw new SproutError(
        'verbalizer-incomplete',
        `Label "${unnamed[0]}" has no words in the verbaliser (${counted(unnamed.length, 'label')} without).`,
        {
          file: source,
          line: ex.line,
          hint: `Add ${wordsFor(unnamed)} to --verbalizer.`,
        },
      );
    }
    const labels = Object.keys(verbalizer);
    refuseIndistinctWords(verbalizer, source);
    return { kind, template, labels, labelTexts: labels.map((l) => verbalizer[l]) };
  }
  const labels = [...values.keys()].sort();
  const numeric = labels.filter(isNumericLabel);
  if (numeric.length) {
    throw new SproutError(
      'numeric-labels',
      `The labels include numbers (${numeric.slice(0, 5).join(', ')}), which the model cannot learn to say as such.`,
      {
        file: source,
        hint: `Give each label words: --verbalizer '${wordsFor(labels)}' (SST-2's 0 and 1, say, as '0=negative,1=positive').`,
        uiHint: 'Give each label words in the "Model writes" column of the Data step (e.g. 0 → negative).',
      },
    );
  }
  return { kind, template, labels, labelTexts: labels };
}

/**
 * Training rows that all carry one label: the prompt would learn to always say it and score 100 % on validation rows
 * of that label alone, a result that means nothing.
 */
function oneLabel(label: string, source: string): SproutError {
  return new SproutError(
    'one-label',
    `Every training example has the label "${label}": a prompt cannot learn to tell labels apart from one label alone.`,
    {
      file: source,
      hint: 'Add training rows of at least one other label, or check that --label-column names the column of labels.',
      uiHint: 'Add training rows of at least one other label, or check which column is the label in the Data step.',
    },
  );
}

/** `1=<words>,2=<words>,…`: the verbaliser entries still to write, every label of a short list named. */
function wordsFor(labels: readonly string[]): string {
  const shown = labels.slice(0, 12).map((l) => `${l}=<words>`);
  return `${shown.join(',')}${labels.length > shown.length ? ',…' : ''}`;
}

/** Input text and target text of one example; null when its label is empty (skipped, counted). */
export function renderExample(
  task: TaskDefinition,
  resolved: ResolvedTask,
  ex: RawExample,
  source: string,
): { input: string; target: string; label: number } | null {
  const values: Record<string, string> = {};
  for (const column of resolved.template.columns) {
    const v = ex.fields[column];
    if (v === undefined) throw new SproutError('missing-column', `The record has no column "${column}".`, { file: source, line: ex.line });
    values[column] = v ?? '';
  }
  const label = labelOf(ex.fields[task.labelColumn]);
  if (label === undefined) return null;
  const input = renderTemplate(resolved.template, values);
  if (resolved.kind === 'generation') return { input, target: label, label: -1 };
  const index = resolved.labels.indexOf(label);
  if (index < 0) {
    throw new SproutError('unknown-label', `Label "${label}" is not one of the task's labels (${resolved.labels.join(', ')}).`, {
      file: source,
      line: ex.line,
      hint: 'Validation labels must come from the training label set; add it to --verbalizer if it is meant.',
    });
  }
  return { input, target: resolved.labelTexts[index], label: index };
}
