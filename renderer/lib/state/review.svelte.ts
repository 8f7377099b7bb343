import type { ReviewCounts, ReviewRow, ReviewState } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';

const PAGE = 500;
/** Typing in the text filter reloads once the person pauses this long. */
const TYPING_PAUSE_MS = 200;

/**
 * A labelling job's rows, lowest confidence first, fetched page by page as the virtual list scrolls to them, so
 * a job of any size costs the window only the pages looked at.
 */
export class ReviewRows {
  readonly jobId: string;
  /** Filters: review state ('' any), the predicted label ('' any), a confidence range as typed ('' open), text a column contains. */
  state = $state<ReviewState | ''>('');
  predicted = $state('');
  minConfidence = $state('');
  maxConfidence = $state('');
  search = $state('');
  total = $state(0);
  labels = $state.raw<string[]>([]);
  labelTexts = $state.raw<string[]>([]);
  /** The job's input columns, each shown in the table. */
  columns = $state.raw<string[]>([]);
  counts = $state.raw<ReviewCounts>({ labelled: 0, reviewed: 0, corrected: 0 });
  pages = $state.raw<Record<number, ReviewRow[]>>({});
  error = $state.raw<ApiError | undefined>();
  #loading = new Set<number>();
  /** Bumped by every reload, so a page asked for under older filters is dropped when it arrives. */
  #generation = 0;
  #typing: ReturnType<typeof setTimeout> | undefined;

  constructor(jobId: string) {
    this.jobId = jobId;
  }

  named(label: string): string {
    return labelName(this, label);
  }

  row(index: number): ReviewRow | undefined {
    return this.pages[Math.floor(index / PAGE)]?.[index % PAGE];
  }

  /** Loads the pages covering rows [start, end). */
  async ensure(start: number, end: number): Promise<void> {
    const wanted: number[] = [];
    for (let page = Math.floor(start / PAGE); page <= Math.floor(Math.max(start, end - 1) / PAGE); page++) {
      if (!this.pages[page] && !this.#loading.has(page)) wanted.push(page);
    }
    await Promise.all(wanted.map((page) => this.#load(page)));
  }

  async reload(): Promise<void> {
    clearTimeout(this.#typing);
    this.#generation++;
    this.#loading.clear();
    this.pages = {};
    await this.#load(0);
  }

  /** Filters as the person types, once they pause. */
  typed(): void {
    clearTimeout(this.#typing);
    this.#typing = setTimeout(() => void this.reload(), TYPING_PAUSE_MS);
  }

  /** The filters as the request takes them (a range bound that is not a number from 0 to 1 is left open). */
  #filter(): { state?: ReviewState; predicted?: string; minConfidence?: number; maxConfidence?: number; search?: string } {
    const bound = (v: string) => {
      const n = Number(v);
      return v.trim() !== '' && n >= 0 && n <= 1 ? n : undefined;
    };
    const min = bound(this.minConfidence);
    const max = bound(this.maxConfidence);
    return {
      ...(this.state ? { state: this.state } : {}),
      ...(this.predicted ? { predicted: this.predicted } : {}),
      ...(min === undefined ? {} : { minConfidence: min }),
      ...(max === undefined ? {} : { maxConfidence: max }),
      ...(this.search.trim() ? { search: this.search.trim() } : {}),
    };
  }

  async correct(index: number, label: string | null): Promise<void> {
    const row = this.row(index);
    if (!row) return;
    try {
      const updated = await api['label.correct']({ jobId: this.jobId, row: row.row, label });
      const page = Math.floor(index / PAGE);
      this.pages = { ...this.pages, [page]: this.pages[page].map((r) => (r.row === updated.row ? updated : r)) };
      this.counts = countChange(this.counts, row, updated);
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async #load(page: number): Promise<void> {
    const generation = this.#generation;
    this.#loading.add(page);
    try {
      const result = await api['label.review']({ jobId: this.jobId, offset: page * PAGE, limit: PAGE, ...this.#filter() });
      if (generation !== this.#generation) return;
      this.total = result.total;
      this.labels = result.labels;
      this.labelTexts = result.labelTexts;
      this.columns = result.columns;
      this.counts = result.counts;
      this.pages = { ...this.pages, [page]: result.rows };
      this.error = undefined;
    } catch (error) {
      if (generation === this.#generation) this.error = asApiError(error);
    } finally {
      if (generation === this.#generation) this.#loading.delete(page);
    }
  }
}

/** A label as the person reads it: with the text the model scores for it, where that differs ("4 · science"). */
export function labelName(task: { labels: readonly string[]; labelTexts: readonly string[] }, label: string): string {
  const text = task.labelTexts[task.labels.indexOf(label)];
  return text === undefined || text === label ? label : `${label} · ${text}`;
}

/** The review counts after one row's person label went from `before` to `after` (null: none). */
export function countChange(
  counts: ReviewCounts,
  before: Pick<ReviewRow, 'predicted' | 'corrected'>,
  after: Pick<ReviewRow, 'predicted' | 'corrected'>,
): ReviewCounts {
  const reviewed = (r: typeof before) => (r.corrected === null ? 0 : 1);
  const corrected = (r: typeof before) => (r.corrected !== null && r.corrected !== r.predicted ? 1 : 0);
  return {
    labelled: counts.labelled,
    reviewed: counts.reviewed + reviewed(after) - reviewed(before),
    corrected: counts.corrected + corrected(after) - corrected(before),
  };
}
