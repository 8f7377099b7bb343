/**
 * Multi-task labelling: each row (or each text column of a row) goes to its own prompt, and all of a window's
 * examples — whatever their prompt — are sorted by length together and scored in mixed-prompt batches, one pass
 * over the file. Routes are either a task column (its value names the prompt) or one prompt per text column.
 */
import { addCount } from '../data/values.js';
import type { SourceRecord } from '../data/types.js';
import { parseTemplate, type Template } from '../data/template.js';
import { SproutError } from '../errors.js';
import type { PromptModel, SoftPrompt } from '../runtime/types.js';
import { columnClaimer, type AddedColumns } from './columns.js';
import { predict, type Prediction } from './confidence.js';
import { roundProbability, type AddedValue } from './encode.js';
import { unscoredRow, type ScoredRow } from './jobs.js';
import type { LabelTokenizer } from './scorer.js';
import { truncateIds } from '../tokenizer/index.js';
import { renderText, resolveTextSpec, retargetTemplate } from './text.js';
import { withoutDecision, type LabelPrompt, type LabelRouting, type LabelStats, type LabelTask } from './types.js';

/** As asked for: route i uses the engine's prompt i. */
export type RoutingChoice = { by: 'task-column'; column: string; keys: string[] } | { by: 'text-column'; columns: string[] };

/** Fixes each route's template against the input's columns, and the output columns. */
export function planRouting(
  choice: RoutingChoice,
  prompts: readonly LabelPrompt[],
  inputColumns: readonly string[],
  file: string,
): { routing: LabelRouting; columns: AddedColumns } {
  const keys = choice.by === 'task-column' ? choice.keys : choice.columns;
  if (keys.length !== prompts.length) throw new RangeError('one prompt per route');
  if (new Set(keys).size !== keys.length) {
    throw new SproutError('label-bad-option', `A ${choice.by === 'task-column' ? 'task value' : 'text column'} is given two prompts.`, {
      hint: 'Name each one once.',
    });
  }
  if (choice.by === 'task-column' && !inputColumns.includes(choice.column)) {
    throw new SproutError(
      'label-unknown-column',
      `The input has no task column "${choice.column}"; its columns are ${inputColumns.join(', ')}.`,
      { file },
    );
  }
  const routes = prompts.map((p, i) => {
    if (p.task.kind !== 'classification') {
      throw new SproutError(
        'label-routed-generation',
        `The prompt "${p.name}" generates free text; a multi-task job labels classification tasks only.`,
        {
          hint: 'Label free-text tasks in a job of their own.',
        },
      );
    }
    const template = choice.by === 'task-column' ? p.task.template : columnTemplate(p, choice.columns[i]);
    const text = resolveTextSpec({ template, taskTemplate: p.task.template, textColumns: [] }, inputColumns, file);
    return { key: keys[i], task: withoutDecision(p.task), template: text.template, textColumns: text.textColumns };
  });
  const routing: LabelRouting = { by: choice.by, column: choice.by === 'task-column' ? choice.column : null, routes };
  return { routing, columns: routedColumns(routing, inputColumns) };
}

/** The prompt's own template with its one text column read from `column` instead (no template: the column as it is). */
function columnTemplate(p: LabelPrompt, column: string): string {
  if (p.task.template === null) return `{${column}}`;
  const t = parseTemplate(p.task.template);
  if (t.columns.length !== 1) {
    throw new SproutError(
      'label-bad-option',
      `The prompt "${p.name}" reads ${t.columns.length} columns (${t.columns.join(', ')}), so it cannot label the one column "${column}".`,
      {
        hint: 'Use --task-column, or a prompt whose template reads a single column.',
      },
    );
  }
  return retargetTemplate(t, [column]);
}

/**
 * Task column: `task`, predicted_label, confidence, p_<label> for the union of the label sets, skipped_reason.
 * One prompt per column: predicted_label_<col>, confidence_<col>, p_<label>_<col> per column, then skipped_reason;
 * the first column's prediction is the one kept for review.
 */
function routedColumns(routing: LabelRouting, inputColumns: readonly string[]): AddedColumns {
  const claim = columnClaimer(inputColumns);
  if (routing.by === 'task-column') {
    // A task column already named `task` says it all; repeating it would only add `task_1`.
    const task = routing.column === 'task' ? undefined : claim('task');
    const predicted = claim('predicted_label');
    const confidence = claim('confidence');
    const probs = unionLabels(routing).map((l) => claim(`p_${l}`));
    return { task, predicted, confidence, probs, skipped: claim('skipped_reason') };
  }
  const groups = routing.routes.map((r) => ({
    predicted: claim(`predicted_label_${r.key}`),
    confidence: claim(`confidence_${r.key}`),
    probs: r.task.labels.map((l) => claim(`p_${l}_${r.key}`)),
  }));
  return { predicted: groups[0].predicted, confidence: groups[0].confidence, probs: [], groups, skipped: claim('skipped_reason') };
}

/** Every route's labels, in order of first appearance. */
export function unionLabels(routing: LabelRouting): string[] {
  return [...new Set(routing.routes.flatMap((r) => r.task.labels))];
}

/** The job's task as review and export see it: the union of the label sets. */
export function unionTask(routing: LabelRouting): LabelTask {
  const labels = unionLabels(routing);
  return { kind: 'classification', labels, verbalisers: labels, template: routing.routes[0].template };
}

/** Scores (input, route) examples in mixed-prompt batches; each route brings its own candidates. */
export class RoutedScorer {
  private readonly candidates: number[][][];
  private readonly tokenCounts: number[][];

  constructor(
    private readonly model: PromptModel,
    tokenizer: LabelTokenizer,
    private readonly prompts: SoftPrompt[],
    tasks: readonly LabelTask[],
    private readonly options: { batchSize: number; lengthNormalise: boolean },
  ) {
    this.candidates = tasks.map((t) => t.verbalisers.map((v) => tokenizer.encode(v)));
    this.tokenCounts = this.candidates.map((c) => c.map((ids) => ids.length));
  }

  /** Predictions for the examples, in the order given (sort by length first to pad little). */
  async classify(examples: readonly { ids: number[]; route: number }[]): Promise<Prediction[]> {
    const out: Prediction[] = [];
    const B = this.options.batchSize;
    for (let start = 0; start < examples.length; start += B) {
      const chunk = examples.slice(start, start + B);
      const scores = await this.model.scoreMixed(
        { prompts: this.prompts, promptIndex: chunk.map((e) => e.route) },
        chunk.map((e) => e.ids),
        chunk.map((e) => this.candidates[e.route]),
      );
      chunk.forEach((e, b) => out.push(predict(scores[b], this.tokenCounts[e.route], this.options.lengthNormalise)));
    }
    return out;
  }
}

export interface RoutedRow {
  fields: Readonly<Record<string, string | null>>;
  values?: Readonly<Record<string, unknown>>;
  added: AddedValue[];
  stored: ScoredRow;
}

interface RoutedSpec {
  routing: LabelRouting;
  columns: AddedColumns;
  maxInputTokens: number;
}

/** Labels one window (rows in input order) and returns its output rows in that order; updates the running totals. */
export async function labelRoutedWindow(
  scorer: RoutedScorer,
  tokenizer: LabelTokenizer,
  eos: number,
  spec: RoutedSpec,
  stats: LabelStats,
  window: readonly { row: number; record: SourceRecord }[],
): Promise<RoutedRow[]> {
  const { routing } = spec;
  const templates: Template[] = routing.routes.map((r) => parseTemplate(r.template));
  const byKey = new Map(routing.routes.map((r, i) => [r.key, i]));
  const examples: { ids: number[]; route: number; row: number }[] = [];
  // Per row and route: why the example was not scored (null: it was).
  const reasons: (string | null)[][] = window.map(() => routing.routes.map(() => null));
  window.forEach(({ record }, w) => {
    let routes = routing.routes.map((_, i) => i);
    if (routing.column !== null) {
      const value = record.fields[routing.column];
      const route = value === null || value === undefined ? undefined : byKey.get(value);
      if (route === undefined) {
        reasons[w][0] =
          value === null || value === undefined || value === ''
            ? `missing value in column "${routing.column}"`
            : `no prompt for task "${value}"`;
        return;
      }
      routes = [route];
    }
    for (const i of routes) {
      const rendered = renderText(templates[i], record.fields);
      if ('skip' in rendered) {
        reasons[w][i] = rendered.skip;
        continue;
      }
      const ids = tokenizer.encode(rendered.text);
      if (truncateIds(ids, spec.maxInputTokens, eos)) stats.truncated++;
      examples.push({ ids, route: i, row: w });
    }
  });
  // All routes' examples sorted by length together: batches pad little whichever prompt each example uses.
  const order = examples.map((_, k) => k).sort((a, b) => examples[a].ids.length - examples[b].ids.length);
  const scored = await scorer.classify(order.map((k) => examples[k]));
  const predictions: (Prediction | undefined)[][] = window.map(() => []);
  order.forEach((k, j) => (predictions[examples[k].row][examples[k].route] = scored[j]));
  return window.map(({ row, record }, w) =>
    routing.column !== null
      ? taskColumnRow(spec, stats, row, record, predictions[w], reasons[w])
      : perColumnRow(spec, stats, row, record, predictions[w], reasons[w]),
  );
}

const taskValue = (spec: RoutedSpec, key: string | null): AddedValue[] => (spec.columns.task === undefined ? [] : [key]);

function taskColumnRow(
  spec: RoutedSpec,
  stats: LabelStats,
  row: number,
  record: SourceRecord,
  predictions: (Prediction | undefined)[],
  reasons: (string | null)[],
): RoutedRow {
  const { routing } = spec;
  const stored = unscoredRow(row, record);
  const union = unionLabels(routing);
  const i = predictions.findIndex((p) => p !== undefined);
  if (i < 0) {
    // A row whose task has a prompt but whose text is missing still names its task; an unknown task leaves it empty.
    const route = reasons.findIndex((r) => r !== null);
    const reason = reasons[route]!;
    const known = routing.routes.some((r) => r.key === record.fields[routing.column!]);
    stored.skippedReason = reason;
    addCount(stats.skipped, reason);
    return {
      fields: record.fields,
      values: record.values,
      added: [...taskValue(spec, known ? routing.routes[route].key : null), null, null, ...union.map(() => null), reason],
      stored,
    };
  }
  const p = predictions[i]!;
  const route = routing.routes[i];
  stored.predicted = route.task.labels[p.best];
  stored.confidence = roundProbability(p.confidence);
  stored.margin = roundProbability(p.margin);
  stats.labelled++;
  addCount(stats.labelCounts, `${route.key}:${stored.predicted}`);
  const probs = union.map((l) => {
    const c = route.task.labels.indexOf(l);
    return c < 0 ? null : roundProbability(p.probs[c]);
  });
  return {
    fields: record.fields,
    values: record.values,
    added: [...taskValue(spec, route.key), stored.predicted, stored.confidence, ...probs, null],
    stored,
  };
}

function perColumnRow(
  spec: RoutedSpec,
  stats: LabelStats,
  row: number,
  record: SourceRecord,
  predictions: (Prediction | undefined)[],
  reasons: (string | null)[],
): RoutedRow {
  const { routing } = spec;
  const stored = unscoredRow(row, record);
  const added: AddedValue[] = [];
  const skipped: string[] = [];
  routing.routes.forEach((route, i) => {
    const p = predictions[i];
    if (!p) {
      const reason = `${route.key}: ${reasons[i]}`;
      skipped.push(reason);
      addCount(stats.skipped, reason);
      added.push(null, null, ...route.task.labels.map(() => null));
      return;
    }
    const label = route.task.labels[p.best];
    const confidence = roundProbability(p.confidence);
    addCount(stats.labelCounts, `${route.key}:${label}`);
    if (i === 0) Object.assign(stored, { predicted: label, confidence, margin: roundProbability(p.margin) });
    added.push(label, confidence, ...Array.from(p.probs, roundProbability));
  });
  if (predictions.some((p) => p !== undefined)) stats.labelled++;
  stored.skippedReason = skipped.length ? skipped.join('; ') : null;
  added.push(stored.skippedReason);
  return { fields: record.fields, values: record.values, added, stored };
}
