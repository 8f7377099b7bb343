import type { CatalogueModel, DownloadJob, DownloadProgress, ModelInfo } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api, onEvent } from '../api.js';
import { asApiError } from './errors.js';

/** One file of a download as its progress bar shows it. */
export interface FileProgress {
  file: string;
  bytes: number;
  total: number;
}

/**
 * The models Sprout knows: the catalogue (with what is on disk), the library's registered models, and the
 * downloads in flight with per-file progress kept from `download.progress` events.
 */
export class ModelShelf {
  catalogue = $state.raw<CatalogueModel[]>([]);
  models = $state.raw<ModelInfo[]>([]);
  downloads = $state.raw<DownloadJob[]>([]);
  /** jobId → the files seen so far, in the order they started. */
  files = $state.raw<Record<string, FileProgress[]>>({});
  latest = $state.raw<Record<string, DownloadProgress>>({});
  error = $state.raw<ApiError | undefined>();
  importError = $state.raw<ApiError | undefined>();
  importing = $state(false);
  loading = $state(false);
  /** Subscribed to progress events: once, for as long as the app runs. */
  #listening = false;

  async refresh(): Promise<void> {
    this.loading = true;
    this.#listen();
    try {
      [this.catalogue, this.models, this.downloads] = await Promise.all([
        api['model.catalogue']({}),
        api['model.list']({}),
        api['model.downloads']({}),
      ]);
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    } finally {
      this.loading = false;
    }
  }

  async download(repo: string): Promise<void> {
    try {
      const job = await api['model.download']({ repo });
      this.downloads = [job, ...this.downloads.filter((d) => d.jobId !== job.jobId)];
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async cancel(jobId: string): Promise<void> {
    try {
      const job = await api['model.download.cancel']({ jobId });
      this.downloads = this.downloads.map((d) => (d.jobId === jobId ? job : d));
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** Registers a model folder already on this machine; returns its library id. */
  async importPath(path: string): Promise<ModelInfo | undefined> {
    this.importing = true;
    try {
      const model = await api['model.import']({ path });
      this.models = [model, ...this.models.filter((m) => m.id !== model.id)];
      this.importError = undefined;
      return model;
    } catch (error) {
      this.importError = asApiError(error);
      return undefined;
    } finally {
      this.importing = false;
    }
  }

  jobFor(repo: string): DownloadJob | undefined {
    return this.downloads.find((d) => d.repo === repo && d.status === 'running') ?? this.downloads.find((d) => d.repo === repo);
  }

  #listen(): void {
    if (this.#listening) return;
    this.#listening = true;
    onEvent('download.progress', (p) => {
      const seen = this.files[p.jobId] ?? [];
      const entry = { file: p.file, bytes: p.fileBytes, total: p.fileTotal };
      const files = seen.some((f) => f.file === p.file) ? seen.map((f) => (f.file === p.file ? entry : f)) : [...seen, entry];
      this.files = { ...this.files, [p.jobId]: files };
      this.latest = { ...this.latest, [p.jobId]: p };
      if (p.status !== 'running') void this.refresh();
    });
  }
}
