/**
 * Flags parsed one way in every command. A choice flag takes one of a list declared in main/choices.ts: its help
 * (`--device auto|gpu|…`) and its check come from that list, so a new value reaches every command by itself. Number
 * flags say what they take when refused.
 */
import {
  COMPUTES,
  DATA_FORMATS,
  DEVICE_PREFERENCES,
  ENCODING_CHOICES,
  HEADER_SETTINGS,
  INVALID_UTF8_CHOICES,
  isOneOf,
  METRIC_REQUESTS,
  OPTIMIZER_KINDS,
  OUTPUT_FORMATS,
  PRECISIONS,
  QUOTINGS,
  RUN_LIMITS,
  type RunLimited,
  SEPARATORS,
  SPLITS,
  WEIGHTS_CHOICES,
} from '../choices.js';
import { MAX_HELD_OUT } from '../data/split.js';
import { UsageError, type ChoiceFlag, type ParsedArgs } from './command.js';

export function choiceFlag<T extends string>(name: string, values: readonly T[]): ChoiceFlag<T> {
  return {
    name,
    values,
    help: `--${name} ${values.join('|')}`,
    read(given) {
      const value = given[name];
      if (value === undefined) return undefined;
      if (!isOneOf(values, value)) throw new UsageError(`--${name} must be one of ${values.join(', ')}, not "${String(value)}".`);
      return value;
    },
  };
}

export const deviceFlag = choiceFlag('device', DEVICE_PREFERENCES);
export const precisionFlag = choiceFlag('precision', PRECISIONS);
export const weightsFlag = choiceFlag('weights', WEIGHTS_CHOICES);
export const computeFlag = choiceFlag('compute', COMPUTES);
export const optimizerFlag = choiceFlag('optimizer', OPTIMIZER_KINDS);
export const metricFlag = choiceFlag('metric', METRIC_REQUESTS);
export const formatFlag = choiceFlag('format', DATA_FORMATS);
export const outputFormatFlag = choiceFlag('format', OUTPUT_FORMATS);
export const headerFlag = choiceFlag('header', HEADER_SETTINGS);
export const quotingFlag = choiceFlag('quoting', QUOTINGS);
export const separatorFlag = choiceFlag('separator', SEPARATORS);
export const invalidUtf8Flag = choiceFlag('invalid-utf8', INVALID_UTF8_CHOICES);
export const encodingFlag = choiceFlag('encoding', ENCODING_CHOICES);
export const splitFlag = choiceFlag('split', SPLITS);

/** A string flag's value; undefined when it is absent. */
export function stringFlag(values: ParsedArgs['values'], name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string flag's values, in the order given; none when it is absent. */
export function listFlag(values: ParsedArgs['values'], name: string): string[] {
  const value = values[name];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** What a number flag accepts; whole numbers unless `fraction`. */
export interface NumberRule {
  fraction?: boolean;
  min?: number;
  max?: number;
}

function describe({ fraction, min, max }: NumberRule): string {
  const kind = fraction ? 'a number' : 'a whole number';
  if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`;
  if (min !== undefined) return `${kind} of at least ${min}`;
  return max !== undefined ? `${kind} of at most ${max}` : kind;
}

/** A number as written on the command line, checked against `rule`. */
export function parseNumber(text: string, flag: string, rule: NumberRule = {}): number {
  const n = Number(text);
  const ok =
    text.trim() !== '' &&
    Number.isFinite(n) &&
    (rule.fraction || Number.isInteger(n)) &&
    !(n < (rule.min ?? -Infinity) || n > (rule.max ?? Infinity));
  if (!ok) throw new UsageError(`${flag} must be ${describe(rule)}, not "${text}".`);
  return n;
}

/** The number flag `name`'s value, checked; undefined when the flag is absent. */
export function numberFlag(values: ParsedArgs['values'], name: string, rule: NumberRule = {}): number | undefined {
  const value = values[name];
  return value === undefined ? undefined : parseNumber(String(value), `--${name}`, rule);
}

/** A run setting's number flag, within the bounds the app's fields and the engine's config hold it to (RUN_LIMITS). */
export function runLimitFlag(values: ParsedArgs['values'], name: string, setting: RunLimited): number | undefined {
  const { min, max } = RUN_LIMITS[setting];
  return numberFlag(values, name, { min, max });
}

/** --max-input-length: training, labelling, evaluation and transfer probes cut inputs within the same bounds. */
export function maxInputLengthFlag(values: ParsedArgs['values']): number | undefined {
  return runLimitFlag(values, 'max-input-length', 'maxInputLength');
}

/** --threads: onnxruntime's intra-op threads, within the bounds Settings holds them to. */
export function threadsFlag(values: ParsedArgs['values']): number | undefined {
  return runLimitFlag(values, 'threads', 'threads');
}

/** --split (validation) or --test-split (test): a share of each class, within MAX_HELD_OUT as the import holds it. */
export function heldOutFlag(values: ParsedArgs['values'], name: 'split' | 'test-split'): number | undefined {
  return numberFlag(values, name, { fraction: true, min: 0, max: MAX_HELD_OUT[name === 'split' ? 'validation' : 'test'] });
}

/** A count of at least 1, the most common number flag. */
export function countFlag(values: ParsedArgs['values'], name: string): number | undefined {
  return numberFlag(values, name, { min: 1 });
}
