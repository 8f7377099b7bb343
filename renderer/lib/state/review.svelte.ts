import type { ReviewRow } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';

const PAGE = 500;

/**
 * A labelling job's rows, lowest confidence first, fetched page by page as the virtual list scrolls to them, so
 * a job of any size costs the window only the pages looked at.
 */
export class ReviewRows {
  readonly jobId: string;
  /** Filters: the predicted label ('' any), a confidence range as typed ('' open), text the row contains. */
  predicted = $state('');
  minConfidence = $state('');
  maxConfidence = $state('');
  search = $state('');
  total = $state(0);
  labels = $state.raw<string[]>([]);
  pages = $state.raw<Record<number, ReviewRow[]>>({});
  error = $state.raw<ApiError | undefined>();
  #loading = new Set<number>();

  constructor(jobId: string) {
    this.jobId = jobId;
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
    this.pages = {};
    await this.#load(0);
  }

  /** The filters as the request takes them (a range bound that is not a number from 0 to 1 is left open). */
  #filter(): { predicted?: string; minConfidence?: number; maxConfidence?: number; search?: string } {
    const bound = (v: string) => {
      const n = Number(v);
      return v.trim() !== '' && n >= 0 && n <= 1 ? n : undefined;
    };
    const min = bound(this.minConfidence);
    const max = bound(this.maxConfidence);
    return {
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
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async #load(page: number): Promise<void> {
    this.#loading.add(page);
    try {
      const result = await api['label.review']({ jobId: this.jobId, offset: page * PAGE, limit: PAGE, ...this.#filter() });
      this.total = result.total;
      this.labels = result.labels;
      this.pages = { ...this.pages, [page]: result.rows };
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.#loading.delete(page);
    }
  }
}
