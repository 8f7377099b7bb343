import type { DataPreview, LabelJobInfo, LabellingProgress, LabelOutputFormat, Quoting, RequestOf } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api, onEvent } from '../api.js';
import { asApiError } from './errors.js';
import { PendingPreparation } from './preparation.svelte.js';
import { headerRequest, type HeaderChoice } from './read-choices.js';
import { ReviewRows } from './review.svelte.js';

/** Where the labelled copy goes by default: beside the input, e.g. `reviews.labelled.csv`. */
export function defaultOutput(input: string, format: LabelOutputFormat): string {
  return input.replace(/(\.[^./\\]+)?$/, `.labelled.${format}`);
}

/** Where the corrected copy goes by default: beside the labelled one, in its format (`x.labelled.csv` → `x.reviewed.csv`). */
export function reviewedPath(output: string, format: LabelOutputFormat): string {
  return output.replace(/(\.labelled)?(\.[^./\\]+)?$/, `.reviewed.${format}`);
}

/**
 * Labelling one file with one library prompt: the file and its text column, the job's progress, the review of
 * its rows (lowest confidence first) with corrections, and the export of the corrected file.
 */
export class LabellingJob {
  promptId = $state<number | null>(null);
  input = $state('');
  quoting = $state<Quoting | ''>('');
  header = $state<HeaderChoice>('auto');
  preview = $state.raw<DataPreview | undefined>();
  textColumns = $state<string[]>([]);
  goldColumn = $state('');
  format = $state<LabelOutputFormat>('csv');
  output = $state('');
  job = $state.raw<LabelJobInfo | undefined>();
  progress = $state.raw<LabellingProgress | undefined>();
  review = $state.raw<ReviewRows | undefined>();
  exportFile = $state('');
  exported = $state.raw<{ file: string; rows: number; corrected: number } | undefined>();
  busy = $state<'' | 'preview' | 'start' | 'export'>('');
  error = $state.raw<ApiError | undefined>();
  exportError = $state.raw<ApiError | undefined>();
  readonly preparation = new PendingPreparation();
  #stop: (() => void) | undefined;
  /** The output path last filled in for the person; while it is unchanged it follows the input and the format. */
  #suggestedOutput = '';

  /** Fills in the default output unless the person typed their own. */
  suggestOutput(): void {
    if (this.output.trim() && this.output !== this.#suggestedOutput) return;
    this.output = this.#suggestedOutput = this.input.trim() ? defaultOutput(this.input.trim(), this.format) : '';
  }

  /** A new file: quoting and header detected afresh, the output following it. */
  chooseFile(): Promise<void> {
    this.quoting = '';
    this.header = 'auto';
    return this.loadPreview();
  }

  get running(): boolean {
    return (this.progress?.status ?? this.job?.status) === 'running';
  }

  async loadPreview(): Promise<void> {
    if (!this.input.trim()) return;
    this.busy = 'preview';
    try {
      this.preview = await api['data.preview']({ file: this.input.trim(), rows: 5, ...(this.quoting ? { quoting: this.quoting } : {}), ...headerRequest(this.header) });
      this.textColumns = [...this.preview.suggestion.textColumns];
      if (this.goldColumn && !this.preview.columns.some((c) => c.name === this.goldColumn)) this.goldColumn = '';
      this.suggestOutput();
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
      this.preview = undefined;
    } finally {
      this.busy = '';
    }
  }

  async start(): Promise<void> {
    if (this.promptId === null) return;
    this.busy = 'start';
    this.#listen();
    try {
      const request: RequestOf<'label.start'> = {
        promptId: this.promptId,
        input: this.input.trim(),
        ...(this.quoting ? { quoting: this.quoting } : {}),
        ...(this.preview ? { header: this.preview.header } : {}),
        textColumns: $state.snapshot(this.textColumns),
        ...(this.goldColumn ? { goldColumn: this.goldColumn } : {}),
        output: this.output.trim(),
        outputFormat: this.format,
        overwrite: true,
      };
      // A job being started is recorded once its model has loaded, so its preparation names no job.
      this.job = await this.preparation.during('labelling.preparing', (p) => p.jobId === null, () => api['label.start'](request));
      this.progress = undefined;
      this.review = undefined;
      this.exported = undefined;
      this.exportFile = reviewedPath(this.job.output, this.job.format);
      this.error = undefined;
      if (this.job.status === 'done') await this.#finished();
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.busy = '';
    }
  }

  /** Shows a job started earlier (from the Labelling screen's list). */
  async open(job: LabelJobInfo): Promise<void> {
    this.#listen();
    this.job = job;
    this.progress = undefined;
    this.exported = undefined;
    this.output = job.output;
    this.exportFile = reviewedPath(job.output, job.format);
    this.review = undefined;
    if (job.status === 'done') await this.#finished();
  }

  async cancel(): Promise<void> {
    if (!this.job) return;
    try {
      this.job = await api['label.cancel']({ jobId: this.job.jobId });
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async resume(): Promise<void> {
    if (!this.job) return;
    this.#listen();
    try {
      const jobId = this.job.jobId;
      this.job = await this.preparation.during('labelling.preparing', (p) => p.jobId === jobId, () => api['label.resume']({ jobId }));
      this.progress = undefined;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async export(): Promise<void> {
    if (!this.job) return;
    this.busy = 'export';
    try {
      this.exported = await api['label.export']({ jobId: this.job.jobId, file: this.exportFile.trim(), overwrite: true });
      this.exportError = undefined;
    } catch (error) {
      this.exportError = asApiError(error);
    } finally {
      this.busy = '';
    }
  }

  async #finished(): Promise<void> {
    if (!this.job) return;
    this.job = await api['label.status']({ jobId: this.job.jobId });
    const review = new ReviewRows(this.job.jobId);
    await review.reload();
    this.review = review;
  }

  #listen(): void {
    this.#stop ??= onEvent('labelling.progress', (p) => {
      if (p.jobId !== this.job?.jobId) return;
      this.progress = p;
      if (p.status !== 'running') void this.#finished().catch((error) => (this.error = asApiError(error)));
    });
  }
}
