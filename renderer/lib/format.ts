/** How numbers read in the interface: sizes, durations, shares and dates, one wording everywhere. */

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

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '–';
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

export function percent(share: number | null | undefined, digits = 1): string {
  return share === null || share === undefined || !Number.isFinite(share) ? '–' : `${(share * 100).toFixed(digits)} %`;
}

export function fixed(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}

export function count(n: number): string {
  return n.toLocaleString('en');
}

export function when(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A library prompt's headline score from its stored metrics: the best evaluation's accuracy. */
export function promptAccuracy(metrics: Record<string, unknown>): string {
  const best = (metrics.best ?? metrics) as Record<string, unknown>;
  const value = best.rank_accuracy ?? best.accuracy ?? best.exact_match;
  return typeof value === 'number' ? percent(value) : '–';
}

/** Stored metrics as name/value rows, one level of nesting flattened ("best: rank accuracy"). */
export function metricRows(metrics: Record<string, unknown>): [string, string][] {
  const rows: [string, string][] = [];
  const add = (name: string, value: unknown) => {
    if (typeof value === 'number') rows.push([name.replaceAll('_', ' '), Number.isInteger(value) ? count(value) : value.toFixed(4)]);
    else if (value && typeof value === 'object' && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) if (typeof v === 'number') add(`${name}: ${k}`, v);
  };
  for (const [name, value] of Object.entries(metrics)) add(name, value);
  return rows;
}
