import type { PrepareProgress } from '../weights/store.js';
import { isWeightsChoice, WEIGHTS_CHOICES, type WeightsChoice } from '../weights/width.js';
import { UsageError } from './command.js';

export const WEIGHTS_HELP = `--weights ${WEIGHTS_CHOICES.join('|')}`;

/** The --weights value, checked; undefined when not given. */
export function weightsOption(value: unknown): WeightsChoice | undefined {
  if (value === undefined) return undefined;
  if (!isWeightsChoice(value)) throw new UsageError(`--weights must be one of ${WEIGHTS_CHOICES.join(', ')}, not "${String(value)}".`);
  return value;
}

/** Prints converting/verifying the weights to stderr, one line per 5%, so a first int8 run of a big model is not silent. */
export function preparePrinter(): (p: PrepareProgress) => void {
  let shown = -1;
  let phase = '';
  return (p) => {
    const percent = p.total > 0 ? Math.floor((100 * p.done) / p.total / 5) * 5 : 100;
    if (p.phase === phase && percent === shown) return;
    phase = p.phase;
    shown = percent;
    const what = p.phase === 'convert' ? 'converting the weights (once per model and width)' : 'verifying the converted weights';
    process.stderr.write(`${what}: ${percent}% of ${(p.total / 1e9).toFixed(2)} GB\n`);
  };
}
