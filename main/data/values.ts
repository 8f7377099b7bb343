import { SPLITS, type Split } from '../choices.js';
import { agreeing, allOf, counted, firstOf } from '../wording.js';
import { numberText, stringifyJsonExact } from './json-number.js';

/**
 * A field value as Sprout stores it: strings exactly as given; numbers as the file wrote them (json-number.ts), booleans
 * and big integers as their decimal text; nested values as JSON; null stays null (a missing value).
 */
export function fieldText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') return numberText(value) ?? value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  return stringifyJsonExact(value);
}

/**
 * A label as Sprout reads it: the value without the spaces around it, since a spreadsheet cell's stray space
 * ("positive ") is not another class; undefined when the value is blank or missing.
 */
export function labelOf(value: string | null | undefined): string | undefined {
  const label = value?.trim();
  return label ? label : undefined;
}

/** A label that is a number ("1", "0.0", "-2e3"), which a model cannot learn to write as its answer: it needs words. */
export function isNumericLabel(label: string): boolean {
  return /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(label.trim());
}

/** What an import says when it stored labels without their spaces, in the app and on the command line alike. */
export function trimmedLabelsNote(rows: number): string {
  const which = `${counted(rows, 'label')} had spaces around ${agreeing(rows, 'it', 'them')}`;
  return `${which} in the file, stored without: a cell's "positive " is the class "positive"`;
}

/** Labels that differ only in case ("Positive", "positive"), each group in label order: classes of their own. */
export function caseVariants(labels: readonly string[]): string[][] {
  const groups = new Map<string, string[]>();
  for (const label of [...labels].sort()) {
    const key = label.toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), label]);
  }
  return [...groups.values()].filter((g) => g.length > 1);
}

/** What a report says of such labels, in the app and on the command line alike. */
export function caseVariantsNote(groups: readonly string[][]): string {
  const named = groups.map((g) => g.map((l) => `"${l}"`).join(' and ')).join('; ');
  return `${named} differ only in case, so each is a class of its own; if they mean one class, write them the same in the file`;
}

/** caseVariantsNote for a label set, or none where no two of its labels differ only in case. */
export function caseVariantsNotes(labels: readonly string[]): string[] {
  const groups = caseVariants(labels);
  return groups.length ? [caseVariantsNote(groups)] : [];
}

/**
 * A label's value in a record keyed by labels, else undefined: labels are the user's words, and "constructor" or
 * "toString" must not find the Object prototype's.
 */
export function ownValue<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

/** Adds `n` to a label's count in a record keyed by labels (see ownValue), "__proto__" as any other label. */
export function addCount(counts: Record<string, number>, key: string, n = 1): void {
  Object.defineProperty(counts, key, { value: (ownValue(counts, key) ?? 0) + n, enumerable: true, writable: true, configurable: true });
}

/** Labelled rows per split and label, as an import report keeps them. */
type SplitLabels = Partial<Record<Split, Readonly<Record<string, number>>>>;

const quotedLabels = (labels: readonly string[]) => firstOf(labels.map((l) => JSON.stringify(l)));

/**
 * What a report says of a label set that training cannot use as it is, in the app and on the command line alike: a
 * single training label, which training refuses, and validation or test labels that the training rows lack (training
 * refuses those rows too) or that lack a training label (that label is never scored). Free text and unlabelled: none.
 */
export function labelSetNotes(splitLabels: SplitLabels): string[] {
  const train = Object.keys(splitLabels.train ?? {});
  if (train.length === 0) return [];
  const notes: string[] = [];
  if (train.length === 1) {
    notes.push(
      `Every training row has the label ${quotedLabels(train)}: a prompt cannot learn to tell labels apart from one, so training refuses it; add rows of another label`,
    );
  }
  for (const split of SPLITS.filter((s) => s !== 'train')) {
    const held = Object.keys(splitLabels[split] ?? {});
    if (held.length === 0) continue;
    const unknown = held.filter((l) => !Object.hasOwn(splitLabels.train!, l));
    const unseen = train.filter((l) => !Object.hasOwn(splitLabels[split]!, l));
    if (unknown.length) {
      notes.push(
        `The ${split} rows have ${agreeing(unknown.length, 'the label', 'labels')} ${quotedLabels(unknown)}, which no training row has` +
          ` (training labels: ${quotedLabels(train)}), so training refuses them; check that the files label alike`,
      );
    }
    if (unseen.length) {
      notes.push(
        `No ${split} row has the training ${agreeing(unseen.length, 'label', 'labels')} ${allOf(unseen.map((l) => JSON.stringify(l)))}` +
          `, so ${split} cannot say how well the prompt finds ${agreeing(unseen.length, 'it', 'them')}`,
      );
    }
  }
  return notes;
}

export function objectFields(object: Record<string, unknown>): Record<string, string | null> {
  // No prototype: a key named __proto__ or constructor is a field like any other.
  const fields: Record<string, string | null> = Object.create(null);
  for (const key of Object.keys(object)) fields[key] = fieldText(object[key]);
  return fields;
}

/**
 * Nesting deeper than this is refused with the record's place: JSON.stringify and every other recursive walk of a
 * value overflow the stack a few thousand levels down ("Maximum call stack size exceeded", no line), and no real
 * dataset nests a field even a few dozen levels.
 */
export const MAX_JSON_DEPTH = 512;

/** Whether `value` nests arrays and objects more than MAX_JSON_DEPTH levels deep (walked without recursion). */
export function nestedTooDeep(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_JSON_DEPTH) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
