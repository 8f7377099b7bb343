import type { ReviewCounts, ReviewRow } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';
import { countChange, labelName } from './review.svelte.js';

/** Rows fetched ahead of the one shown, so the next one is there at once. */
const AHEAD = 20;

type Step = { kind: 'label' | 'skip'; row: ReviewRow };

/**
 * The review queue: the job's unreviewed rows one at a time, least confident first. A number key picks a label,
 * Enter accepts the model's, S skips (the row stays unreviewed), Backspace undoes the last of these. The rows
 * skipped this session are the first of the unreviewed ones in the engine's order, so the next rows to fetch start
 * right after them and the rows already waiting.
 */
export class ReviewQueue {
  readonly jobId: string;
  labels = $state.raw<string[]>([]);
  labelTexts = $state.raw<string[]>([]);
  columns = $state.raw<string[]>([]);
  counts = $state.raw<ReviewCounts>({ labelled: 0, reviewed: 0, corrected: 0 });
  /** The rows waiting, the shown one first. */
  waiting = $state.raw<ReviewRow[]>([]);
  /** Whether the engine has no more unreviewed rows past those waiting. */
  exhausted = $state(false);
  skipped = $state(0);
  error = $state.raw<ApiError | undefined>();
  #history = $state.raw<Step[]>([]);
  /** The label given to each row labelled this session, so an undo knows what it takes back. */
  #given = new Map<number, string>();
  /** Engine calls run one after another, in the order the keys were pressed. */
  #chain: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(jobId: string) {
    this.jobId = jobId;
  }

  get current(): ReviewRow | undefined {
    return this.waiting[0];
  }

  get canUndo(): boolean {
    return this.#history.length > 0;
  }

  start(): Promise<void> {
    return this.#enqueue(() => this.#refill());
  }

  named(label: string): string {
    return labelName(this, label);
  }

  /**
   * Labels that are digits themselves (AG News' 1–4, SST-2's 0 and 1) are picked by their own digit: by place, "2"
   * would pick AG News' label 2 but the label 3 of a job labelled 2 and 3. Other labels: 1–9 by place, 0 the tenth.
   */
  get keysAreLabels(): boolean {
    return this.labels.length > 0 && this.labels.every((l) => /^[0-9]$/.test(l));
  }

  /** The key that picks the label at place `i`, if any. */
  keyOf(i: number): string | undefined {
    if (this.keysAreLabels) return this.labels[i];
    return i === 9 ? '0' : i < 9 ? String(i + 1) : undefined;
  }

  labelForKey(key: string): string | undefined {
    if (!/^[0-9]$/.test(key)) return undefined;
    return this.labels.find((_, i) => this.keyOf(i) === key);
  }

  pick(label: string): Promise<void> {
    const row = this.current;
    if (!row) return Promise.resolve();
    this.#advance({ kind: 'label', row });
    this.#given.set(row.row, label);
    this.counts = countChange(this.counts, row, { ...row, corrected: label });
    return this.#enqueue(async () => {
      await api['label.correct']({ jobId: this.jobId, row: row.row, label });
      await this.#refill();
    });
  }

  accept(): Promise<void> {
    return this.current ? this.pick(this.current.predicted) : Promise.resolve();
  }

  skip(): Promise<void> {
    const row = this.current;
    if (!row) return Promise.resolve();
    this.#advance({ kind: 'skip', row });
    this.skipped++;
    return this.#enqueue(() => this.#refill());
  }

  /** Takes back the last label or skip and shows that row again. */
  undo(): Promise<void> {
    const step = this.#history.at(-1);
    if (!step) return Promise.resolve();
    this.#history = this.#history.slice(0, -1);
    this.waiting = [step.row, ...this.waiting];
    if (step.kind === 'skip') {
      this.skipped--;
      return Promise.resolve();
    }
    const given = { ...step.row, corrected: this.#given.get(step.row.row) ?? null };
    this.#given.delete(step.row.row);
    this.counts = countChange(this.counts, given, step.row);
    return this.#enqueue(() => api['label.correct']({ jobId: this.jobId, row: step.row.row, label: null }).then(() => undefined));
  }

  #advance(step: Step): void {
    this.#history = [...this.#history, step];
    this.waiting = this.waiting.slice(1);
  }

  async #refill(): Promise<void> {
    if (this.waiting.length >= AHEAD / 2 || this.exhausted) return;
    const page = await api['label.review']({
      jobId: this.jobId,
      state: 'unreviewed',
      offset: this.skipped + this.waiting.length,
      limit: AHEAD,
    });
    const known = new Set(this.waiting.map((r) => r.row));
    this.waiting = [...this.waiting, ...page.rows.filter((r) => !known.has(r.row))];
    this.exhausted = page.rows.length < AHEAD;
    this.labels = page.labels;
    this.labelTexts = page.labelTexts;
    this.columns = page.columns;
    // The engine's counts, unless keys pressed since are still on their way (their counts are already shown).
    if (this.#pending === 1) this.counts = page.counts;
  }

  #enqueue(work: () => Promise<void>): Promise<void> {
    this.#pending++;
    this.#chain = this.#chain
      .then(work)
      .then(
        () => void (this.error = undefined),
        (error: unknown) => void (this.error = asApiError(error)),
      )
      .finally(() => this.#pending--);
    return this.#chain;
  }
}
