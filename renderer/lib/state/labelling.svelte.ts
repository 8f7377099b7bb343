import type {
  DataPreview,
  LabelJobInfo,
  LabellingProgress,
  LabelOutputFormat,
  Quoting,
  RequestOf,
  ReviewCounts,
} from '../../../preload/contract.js';
import type { ComputeChoice } from '../../../main/choices.js';
import type { ApiError } from '../api.js';
import { api, onEvent } from '../api.js';
import { asApiError } from './errors.js';
import { LabelMemoryPlan } from './memory-plan.svelte.js';
import { PendingPreparation } from './preparation.svelte.js';
import { labelledFormat, outputFormatFromName, type CsvSeparator, type EncodingChoice, type HeaderSetting } from '../../../main/choices.js';
import { previewedReading, readRequest } from './read-choices.js';
import { Retraining } from './retrain.svelte.js';
import { ReviewQueue } from './review-queue.svelte.js';
import { ReviewRows } from './review.svelte.js';

/** Where the corrected copy goes by default: beside the labelled one, in its format (`x.labelled.csv` → `x.reviewed.csv`). */
export function reviewedPath(output: string, format: LabelOutputFormat): string {
  return output.replace(/(\.labelled)?(\.[^./\\]+)?$/, `.reviewed.${format}`);
}

/**
 * A file the person chose that exists: writing there replaces it, and when a labelling job owns it, that job's
 * labels; the write waits for a consent that names the job.
 */
export interface PendingReplace {
  action: 'start' | 'export';
  file: string;
  owner: LabelJobInfo | null;
}

/**
 * Labelling one file with one library prompt: the file and its text column, the job's progress, the review of
 * its rows (lowest confidence first) with corrections, and the export of the corrected file.
 */
export class LabellingJob {
  promptId = $state<number | null>(null);
  input = $state('');
  quoting = $state<Quoting | ''>('');
  separator = $state<CsvSeparator | ''>('');
  /** A workbook's sheet; '' reads the first visible one. */
  sheet = $state('');
  header = $state<HeaderSetting>('auto');
  encoding = $state<EncodingChoice>('auto');
  preview = $state.raw<DataPreview | undefined>();
  textColumns = $state<string[]>([]);
  goldColumn = $state('');
  /** The output's format: the input's (labelledFormat) until the person chooses one. */
  format = $state<LabelOutputFormat>('csv');
  #formatChosen = false;
  /** How the model multiplies while labelling (int8: faster on the CPU, a few close calls may differ). */
  compute = $state<ComputeChoice>('float');
  /** What the job would take in memory at the prompt's width and this compute (`label.plan`). */
  readonly memory = new LabelMemoryPlan();
  output = $state('');
  job = $state.raw<LabelJobInfo | undefined>();
  progress = $state.raw<LabellingProgress | undefined>();
  review = $state.raw<ReviewRows | undefined>();
  /** The review as a queue, one row at a time (the default), or as the table of all rows. */
  reviewMode = $state<'queue' | 'table'>('queue');
  queue = $state.raw<ReviewQueue | undefined>();
  exportFile = $state('');
  exported = $state.raw<{ file: string; rows: number; reviewed: number; corrected: number } | undefined>();
  /** A start or export held until the person consents to replacing the file it would write. */
  pendingReplace = $state.raw<PendingReplace | undefined>();
  busy = $state<'' | 'preview' | 'start' | 'export' | 'retrain'>('');
  /** "Train again with my corrections", once started for this job. */
  retraining = $state.raw<Retraining | undefined>();
  retrainError = $state.raw<ApiError | undefined>();
  /** Starting a job failed: said beside the button that started it. */
  startError = $state.raw<ApiError | undefined>();
  /** A job's cancel, resume or review failed: said beside the job. */
  error = $state.raw<ApiError | undefined>();
  /** Reading the file's columns failed: nothing was labelled, so it is not labelling's failure. */
  readError = $state.raw<ApiError | undefined>();
  exportError = $state.raw<ApiError | undefined>();
  readonly preparation = new PendingPreparation();
  /** Subscribed to progress events: once, for as long as the app runs. */
  #listening = false;
  /** The output path last filled in for the person; while it is unchanged it follows the input, prompt and format. */
  #suggestedOutput = '';
  #suggestion = 0;

  /** Fills in the default output (named after the prompt, never another job's file) unless the person typed their own. */
  async suggestOutput(): Promise<void> {
    if (this.output.trim() && this.output !== this.#suggestedOutput) return;
    const asked = ++this.#suggestion;
    const input = this.input.trim();
    let output = '';
    if (input && this.promptId !== null) {
      try {
        output = (await api['label.defaultOutput']({ promptId: this.promptId, input, format: this.format })).output;
      } catch {
        // A file that cannot be read yet has no default; reading its columns says why.
      }
    }
    if (asked !== this.#suggestion || (this.output.trim() && this.output !== this.#suggestedOutput)) return;
    this.output = this.#suggestedOutput = output;
  }

  /** The person's output format: kept for the files after this one; the default output follows it. */
  chooseFormat(): void {
    this.#formatChosen = true;
    void this.suggestOutput();
  }

  /** The prompt to label with; the default output follows it. */
  choosePrompt(promptId: number | null): void {
    if (promptId === this.promptId) return;
    this.promptId = promptId;
    void this.suggestOutput();
  }

  /** A new file: quoting and header detected afresh, the output following it (not the last job's file). */
  chooseFile(): Promise<void> {
    if (this.job && this.output.trim() === this.job.output) this.output = '';
    this.startError = undefined;
    this.quoting = '';
    this.separator = '';
    this.sheet = '';
    this.header = 'auto';
    this.encoding = 'auto';
    return this.loadPreview();
  }

  get running(): boolean {
    return (this.progress?.status ?? this.job?.status) === 'running';
  }

  async loadPreview(): Promise<void> {
    if (!this.input.trim()) return;
    this.busy = 'preview';
    try {
      this.preview = await api['data.preview']({
        file: this.input.trim(),
        rows: 5,
        ...readRequest(this),
      });
      this.textColumns = [...this.preview.suggestion.textColumns];
      if (!this.#formatChosen) this.format = labelledFormat(this.preview.format);
      if (this.goldColumn && !this.preview.columns.some((c) => c.name === this.goldColumn)) this.goldColumn = '';
      void this.suggestOutput();
      this.readError = undefined;
    } catch (error) {
      this.readError = asApiError(error);
      this.preview = undefined;
    } finally {
      this.busy = '';
    }
  }

  /**
   * Whether `file` may be written now: a file that exists holds the write until the person consents (`consent`
   * is the pending question they answered), naming the job that owns it.
   */
  async #mayWrite(
    action: PendingReplace['action'],
    file: string,
    consent: PendingReplace | undefined,
  ): Promise<{ overwrite: boolean; replaceJob?: string } | null> {
    if (consent && consent.action === action && consent.file === file)
      return { overwrite: true, ...(consent.owner ? { replaceJob: consent.owner.jobId } : {}) };
    const check = await api['label.checkOutput']({ file, ...(action === 'start' ? { input: this.input.trim() } : {}) });
    if (!check.exists) return { overwrite: false };
    this.pendingReplace = { action, file, owner: check.owner };
    return null;
  }

  /** The person declined to replace the file: nothing is written, and they choose another name. */
  keepFile(): void {
    this.pendingReplace = undefined;
  }

  /**
   * The person typed the output's path: a name that says a format sets it (`x.csv` is written as CSV), where the job
   * would refuse a name that says one format for a file asked in another.
   */
  typeOutput(): void {
    this.keepFile();
    const named = outputFormatFromName(this.output.trim());
    if (named === undefined || named === this.format) return;
    this.format = named;
    this.#formatChosen = true;
  }

  async start(consent?: PendingReplace): Promise<void> {
    if (this.promptId === null) return;
    this.busy = 'start';
    this.pendingReplace = undefined;
    this.#listen();
    try {
      const write = await this.#mayWrite('start', this.output.trim(), consent);
      if (!write) return;
      const request: RequestOf<'label.start'> = {
        promptId: this.promptId,
        input: this.input.trim(),
        ...previewedReading(this, this.preview),
        textColumns: $state.snapshot(this.textColumns),
        ...(this.goldColumn ? { goldColumn: this.goldColumn } : {}),
        output: this.output.trim(),
        outputFormat: this.format,
        ...(this.compute === 'int8' ? { compute: this.compute } : {}),
        ...write,
      };
      // A job being started is recorded once its model has loaded, so its preparation names no job.
      this.job = await this.preparation.during(
        'labelling.preparing',
        (p) => p.jobId === null,
        () => api['label.start'](request),
      );
      this.progress = undefined;
      this.review = undefined;
      this.queue = undefined;
      this.#forgetRetraining();
      this.exported = undefined;
      this.exportFile = reviewedPath(this.job.output, this.job.format);
      this.error = this.startError = undefined;
      if (this.job.status === 'done') await this.#finished();
    } catch (error) {
      this.startError = asApiError(error);
    } finally {
      this.busy = '';
    }
  }

  /** Shows a job started earlier (from the Labelling screen's list). */
  async open(job: LabelJobInfo): Promise<void> {
    this.#listen();
    this.job = job;
    this.progress = undefined;
    this.error = undefined;
    this.exported = undefined;
    this.exportFile = reviewedPath(job.output, job.format);
    this.review = undefined;
    this.queue = undefined;
    this.#forgetRetraining();
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
      this.job = await this.preparation.during(
        'labelling.preparing',
        (p) => p.jobId === jobId,
        () => api['label.resume']({ jobId }),
      );
      this.progress = undefined;
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async export(consent?: PendingReplace): Promise<void> {
    if (!this.job) return;
    this.busy = 'export';
    this.pendingReplace = undefined;
    try {
      const file = this.exportFile.trim();
      const write = await this.#mayWrite('export', file, consent);
      if (!write) return;
      this.exported = await api['label.export']({ jobId: this.job.jobId, file, ...write });
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
    this.queue = new ReviewQueue(this.job.jobId);
  }

  /** How far review has got, as the view in use counts it. */
  get reviewCounts(): ReviewCounts {
    return (this.reviewMode === 'queue' ? this.queue?.counts : this.review?.counts) ?? { labelled: 0, reviewed: 0, corrected: 0 };
  }

  async retrain(): Promise<void> {
    if (!this.job) return;
    this.busy = 'retrain';
    try {
      this.retraining?.dispose();
      this.retraining = new Retraining(await api['label.retrain']({ jobId: this.job.jobId }));
      this.retrainError = undefined;
    } catch (error) {
      this.retrainError = asApiError(error);
    } finally {
      this.busy = '';
    }
  }

  /** Switches between the queue and the table; each shows what the other recorded. */
  showReview(mode: 'queue' | 'table'): void {
    if (!this.job || mode === this.reviewMode) return;
    this.reviewMode = mode;
    if (mode === 'table') void this.review?.reload();
    else this.queue = new ReviewQueue(this.job.jobId);
  }

  #forgetRetraining(): void {
    this.retraining?.dispose();
    this.retraining = undefined;
    this.retrainError = undefined;
  }

  #listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    onEvent('labelling.progress', (p) => {
      if (p.jobId !== this.job?.jobId) return;
      this.progress = p;
      if (p.status !== 'running') void this.#finished().catch((error) => (this.error = asApiError(error)));
    });
  }
}
