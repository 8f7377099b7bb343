import { percentText } from '../wording.js';
import { mostFrequentFirst } from './profile.js';

/** A class-imbalance warning for an import report: a majority class makes accuracy flatter a constant answer. */
export interface ImbalanceHint {
  /** The most frequent label and its share of the rows (0–1). */
  label: string;
  share: number;
  /** The rarest label and its share. */
  rarest: string;
  rarestShare: number;
  message: string;
}

/** A class holding this share of the rows or more counts as dominant. */
const DOMINANT = 0.6;

/**
 * A hint when one label holds at least 60 % of the rows, or the rarest holds under half its even share (1/k):
 * either way a prompt that always answers the common label looks good on accuracy.
 */
export function imbalanceHint(counts: Readonly<Record<string, number>>): ImbalanceHint | null {
  const entries = Object.entries(counts).sort(mostFrequentFirst);
  const total = entries.reduce((n, [, c]) => n + c, 0);
  if (entries.length < 2 || total === 0) return null;
  const [label, most] = entries[0];
  const [rarest, least] = entries[entries.length - 1];
  const share = most / total;
  const rarestShare = least / total;
  if (share < DOMINANT && rarestShare >= 0.5 / entries.length) return null;
  const message =
    share >= DOMINANT
      ? `${percentText(share)} of rows are ${JSON.stringify(label)}: accuracy will look high for a prompt that always says it; judge by macro-F1/MCC.`
      : `Only ${percentText(rarestShare)} of rows are ${JSON.stringify(rarest)}` +
        `: a prompt can miss it entirely and still score well on accuracy; judge by macro-F1/MCC.`;
  return { label, share: Number(share.toFixed(4)), rarest, rarestShare: Number(rarestShare.toFixed(4)), message };
}
