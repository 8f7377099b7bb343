/** How numbers read in the interface: sizes, durations, shares and dates, one wording everywhere. */
import { WEIGHT_WIDTH_LABELS, type WeightWidth } from '../../main/choices.js';
import { BYTES_PER_PARAMETER } from '../../main/weights/width.js';

export {
  agreeing,
  allOf,
  count,
  clipped,
  counted,
  isShare,
  metricChange,
  metricName,
  metricRows,
  metricValue,
  midSentence,
  OPTIMISTIC,
  percent,
  promptHeadline,
  score,
} from '../../main/wording.js';

export function bytes(n: number): string {
  if (!Number.isFinite(n)) return '–';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(n < 10 ? 1 : 0)} ${units[i]}`;
}

/** A time that may be under a second (a training step), with the digits that say something. */
export function seconds(s: number): string {
  return s < 10 ? `${s.toFixed(s < 1 ? 2 : 1)} s` : duration(s);
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function fixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A weight width as menus offer it: its name and what it costs. */
export function weightWidthLabel(width: WeightWidth): string {
  return `${WEIGHT_WIDTH_LABELS[width]} (${BYTES_PER_PARAMETER[width]} bytes per weight)`;
}

/**
 * The gist of why a device is not a GPU, its first clause ("no GPU provider works here"): the whole reason names
 * every provider tried and runs to hundreds of characters, which belongs in a details view, not in a line.
 */
export function reasonGist(reason: string): string {
  const cut = reason.indexOf(' (');
  return cut > 0 ? reason.slice(0, cut) : reason;
}
