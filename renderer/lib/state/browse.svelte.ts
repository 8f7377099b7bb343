import type { FolderListing } from '../../../preload/contract.js';
import { api, type ApiError } from '../api.js';
import { asApiError } from './errors.js';

/**
 * The browser version's file picker: one folder at a time as `sprout serve` lists it (home and the folders added in
 * Settings), opened by clicking, narrowed by a name filter. A newer listing always replaces an older one's answer.
 */
export class FolderBrowser {
  listing = $state.raw<FolderListing | undefined>();
  filter = $state('');
  hidden = $state(false);
  busy = $state(false);
  error = $state.raw<ApiError | undefined>();
  #ticket = 0;

  constructor(readonly kind: 'file' | 'folder') {}

  async open(path?: string): Promise<void> {
    const ticket = ++this.#ticket;
    this.busy = true;
    try {
      const filter = this.filter.trim();
      const listing = await api['files.browse']({
        kind: this.kind,
        ...(path ? { path } : {}),
        ...(this.hidden ? { hidden: true } : {}),
        ...(filter ? { filter } : {}),
      });
      if (ticket !== this.#ticket) return;
      this.listing = listing;
      this.error = undefined;
    } catch (error) {
      if (ticket === this.#ticket) this.error = asApiError(error);
    } finally {
      if (ticket === this.#ticket) this.busy = false;
    }
  }

  /** Into another folder: the filter was for the one left. */
  enter(path: string): Promise<void> {
    this.filter = '';
    return this.open(path);
  }

  /** The same folder again, with the filter or hidden choice changed. */
  refresh(): Promise<void> {
    return this.open(this.listing?.folder);
  }
}
