import type { LabelJobSpec, LabelStats } from './types.js';
import { agreeing, counted } from '../wording.js';

/**
 * What a job did to rows besides labelling them, in words for the person (the CLI's stderr, the Label step): inputs
 * cut to the length limit, and rows left unlabelled with their reasons. Null when every row was read whole and
 * labelled. The counts are also in the summary (`truncated`, `skipped_reasons`); this says what they mean.
 */
export function rowsNote(spec: Pick<LabelJobSpec, 'maxInputTokens'>, stats: Pick<LabelStats, 'truncated' | 'skipped'>): string | null {
  const notes: string[] = [];
  const cut = truncationNote(stats.truncated, spec.maxInputTokens, 'labelled');
  if (cut) notes.push(cut);
  const skipped = Object.entries(stats.skipped).filter(([, n]) => n > 0);
  if (skipped.length > 0) {
    const total = skipped.reduce((sum, [, n]) => sum + n, 0);
    const reasons = skipped.map(([reason, n]) => `${reason}: ${n}`).join('; ');
    notes.push(`${rowsWere(total)} left unlabelled (${reasons}); skipped_reason in the output says which.`);
  }
  return notes.length > 0 ? notes.join(' ') : null;
}

/** Rows cut to the input limit, in words (labelling, and evaluation, which scores them); null when none was. */
export function truncationNote(truncated: number, limit: number, verb: 'labelled' | 'scored'): string | null {
  if (truncated === 0) return null;
  return `${rowsWere(truncated)} longer than ${limit} tokens: each was ${verb} on its first ${limit - 1} tokens and the end-of-text token.`;
}

function rowsWere(n: number): string {
  return `${counted(n, 'row')} ${agreeing(n, 'was', 'were')}`;
}
