import type { ModelInfo, PromptDetail, PromptInfo, ResponseOf, SimilarityMap } from '../../../preload/contract.js';
import type { ApiError } from '../api.js';
import { api } from '../api.js';
import { asApiError } from './errors.js';
import { agreeing, allOf, counted } from '../format.js';

/** A prompt's name and notes as typed, where they differ from what is saved. */
export interface Draft {
  name?: string;
  notes?: string;
}

/** The prompt library: the filtered list, one prompt's detail with its edits, and a model's similarity map. */
export class Library {
  search = $state('');
  tag = $state('');
  modelId = $state('');
  prompts = $state.raw<PromptInfo[]>([]);
  selected = $state.raw<PromptDetail | undefined>();
  map = $state.raw<SimilarityMap | undefined>();
  message = $state('');
  error = $state.raw<ApiError | undefined>();
  detailError = $state.raw<ApiError | undefined>();

  /** Every prompt, whatever the filters: the filter menus offer what the library holds, not what the filters leave. */
  #all = $state.raw<PromptInfo[]>([]);
  /** Name and notes typed and not yet saved, by prompt: opening another prompt or screen loses none of them. */
  readonly #drafts = new Map<number, Draft>();

  get tags(): string[] {
    return [...new Set(this.#all.flatMap((p) => p.tags))].sort();
  }

  get models(): string[] {
    return [...new Set(this.#all.map((p) => p.modelId).filter((m): m is string => !!m))].sort();
  }

  /** The filters in force, as the empty list names them: 'tag “news”'. */
  get filters(): string[] {
    const search = this.search.trim();
    return [
      ...(search ? [`“${search}” in its name, task or notes`] : []),
      ...(this.tag ? [`the tag “${this.tag}”`] : []),
      ...(this.modelId ? [`the model ${this.modelId}`] : []),
    ];
  }

  clearFilters(): Promise<void> {
    this.search = this.tag = this.modelId = '';
    return this.refresh();
  }

  draft(id: number): Draft {
    return this.#drafts.get(id) ?? {};
  }

  keepDraft(id: number, draft: Draft): void {
    if (draft.name === undefined && draft.notes === undefined) this.#drafts.delete(id);
    else this.#drafts.set(id, draft);
  }

  async refresh(): Promise<void> {
    try {
      const filters = {
        ...(this.search.trim() ? { search: this.search.trim() } : {}),
        ...(this.tag ? { tag: this.tag } : {}),
        ...(this.modelId ? { modelId: this.modelId } : {}),
      };
      this.prompts = await api['library.list'](filters);
      this.#all = Object.keys(filters).length ? await api['library.list']({}) : this.prompts;
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async select(id: number): Promise<void> {
    await this.#detail(async () => {
      this.selected = await api['library.show']({ id });
      this.message = '';
    });
  }

  rename = (name: string) => this.#edit(() => api['library.rename']({ id: this.selected!.id, name }), 'Renamed.');
  note = (notes: string) => this.#edit(() => api['library.note']({ id: this.selected!.id, notes }), 'Notes saved.');
  addTag = (tag: string) => this.#edit(() => api['library.tag']({ id: this.selected!.id, add: [tag] }), `Tagged “${tag}”.`);
  removeTag = (tag: string) => this.#edit(() => api['library.tag']({ id: this.selected!.id, remove: [tag] }), `Removed “${tag}”.`);

  async remove(force: boolean): Promise<void> {
    const id = this.selected!.id;
    await this.#detail(async () => {
      const result = await api['library.delete']({ id, force });
      this.selected = undefined;
      this.message = result.children
        ? `Deleted; the ${counted(result.children, 'prompt')} trained from it ${agreeing(result.children, 'stays', 'stay')} in the library.`
        : 'Deleted.';
      await this.refresh();
    });
  }

  async exportPeft(dir: string): Promise<void> {
    await this.#detail(async () => {
      const result = await api['library.exportPeft']({ id: this.selected!.id, dir });
      this.message = `Wrote ${result.files.join(', ')} to ${result.dir}.`;
    });
  }

  /** The models an adapter may be imported for: an adapter that names none (or another machine's folder) needs one. */
  registeredModels = $state.raw<ModelInfo[]>([]);
  /** The import's base model: '' for the one the adapter names. */
  importModelId = $state('');
  /** The import's name: '' for the adapter's own (or its folder's). */
  importName = $state('');

  async loadModels(): Promise<void> {
    try {
      this.registeredModels = await api['model.list']({});
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** Whether the adapter was imported. */
  async importPeft(dir: string): Promise<boolean> {
    return this.#detail(async () => {
      const name = this.importName.trim();
      const prompt = await api['library.importPeft']({
        dir,
        ...(this.importModelId ? { modelId: this.importModelId } : {}),
        ...(name ? { name } : {}),
      });
      this.importName = '';
      await this.refresh();
      await this.select(prompt.id);
      this.message = `Imported “${prompt.name}”.`;
    });
  }

  /** The whole-library archive: what the last export or import did, its error, and which one runs. */
  archiveMessage = $state('');
  archiveError = $state.raw<ApiError | undefined>();
  archiveBusy = $state<'export' | 'import' | undefined>();

  async exportAll(file: string): Promise<void> {
    await this.#archive('export', async () => {
      const written = await api['library.exportAll']({ file });
      return `Wrote the library and its ${counted(written.prompts, 'prompt')} to ${written.file}.`;
    });
  }

  /** Whether the archive was imported. */
  async importAll(file: string): Promise<boolean> {
    return this.#archive('import', async () => {
      const text = mergeText(await api['library.importAll']({ file }));
      await this.refresh();
      return text;
    });
  }

  async #archive(kind: 'export' | 'import', work: () => Promise<string>): Promise<boolean> {
    this.archiveBusy = kind;
    try {
      this.archiveMessage = await work();
      this.archiveError = undefined;
      return true;
    } catch (error) {
      this.archiveMessage = '';
      this.archiveError = asApiError(error);
      return false;
    } finally {
      this.archiveBusy = undefined;
    }
  }

  async loadMap(modelId: string): Promise<void> {
    try {
      this.map = await api['library.similarityMap']({ modelId });
      this.error = undefined;
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  async #edit(call: () => Promise<PromptInfo>, message: string): Promise<void> {
    await this.#detail(async () => {
      const info = await call();
      this.selected = { ...this.selected!, ...info };
      const updated = (list: PromptInfo[]) => list.map((p) => (p.id === info.id ? info : p));
      this.prompts = updated(this.prompts);
      this.#all = updated(this.#all);
      this.message = message;
    });
  }

  /** Runs `work`, keeping its error for the detail panel; whether it succeeded. */
  async #detail(work: () => Promise<void>): Promise<boolean> {
    try {
      await work();
      this.detailError = undefined;
      return true;
    } catch (error) {
      // The last action's word only: an earlier success beside this failure would read as its outcome.
      this.message = '';
      this.detailError = asApiError(error);
      return false;
    }
  }
}

/** What an archive added, e.g. "Added 3 prompts, 1 dataset and 2 runs; 1 prompt was here already." */
export function mergeText(counts: ResponseOf<'library.importAll'>): string {
  const things: [number, string][] = [
    [counts.prompts, 'prompt'],
    [counts.datasets, 'dataset'],
    [counts.runs, 'run'],
    [counts.tasks, 'task'],
    [counts.models, 'model'],
  ];
  const added = things.filter(([n]) => n > 0).map(([n, what]) => counted(n, what));
  if (added.length === 0) return 'Added nothing: everything in it is here already.';
  const present = counts.promptsPresent;
  const here = present ? `; ${counted(present, 'prompt')} ${agreeing(present, 'was', 'were')} here already` : '';
  return `Added ${allOf(added)}${here}.`;
}
