import type { DataPreview, DatasetInfo, ImportProgress, ImportReport, Quoting } from '../../../preload/contract.js';
import type { CsvSeparator, EncodingChoice, HeaderSetting } from '../../../main/choices.js';
import { previewedReading, readRequest } from './read-choices.js';
import type { ApiError } from '../api.js';
import { api, onEvent } from '../api.js';
import { asApiError } from './errors.js';
import { DEFAULT_HELD_OUT } from '../../../main/data/split.js';
import { defaultDatasetName } from '../../../main/data/dataset-name.js';
import { addCount, isNumericLabel, ownValue } from '../../../main/data/values.js';

/**
 * Step 2: the training file, how it is read, which columns carry the text and the label, how labels are spoken
 * (the verbaliser), the validation split, and the import report once the data is in the library.
 */
export class DataSetup {
  file = $state('');
  validationFile = $state('');
  /** The validation file's sheets and the one detection found, when it is a workbook; else undefined. */
  validationSheets = $state.raw<{ sheets: string[]; found: string } | undefined>();
  /** The validation workbook's sheet; '' detects it. */
  validationSheet = $state('');
  /** '' detects per file; a choice made for one file is not carried to the next (see `chooseFile`). */
  quoting = $state<Quoting | ''>('');
  separator = $state<CsvSeparator | ''>('');
  /** A workbook's sheet; '' reads the first visible one. */
  sheet = $state('');
  header = $state<HeaderSetting>('auto');
  encoding = $state<EncodingChoice>('auto');
  preview = $state.raw<DataPreview | undefined>();
  textColumns = $state<string[]>([]);
  labelColumn = $state('');
  template = $state('');
  /** label → target text the model learns to write. */
  verbaliser = $state<Record<string, string>>({});
  split = $state(DEFAULT_HELD_OUT.validation);
  /** Share of each class held out as the test split, scored once at the end of a run; 0: none. */
  testSplit = $state(DEFAULT_HELD_OUT.test);
  name = $state('');
  report = $state.raw<ImportReport | undefined>();
  /** An existing library dataset chosen instead of importing a file. */
  existing = $state.raw<DatasetInfo | undefined>();
  /** The chosen library dataset's rows per label, over all its splits. */
  existingLabels = $state.raw<Record<string, number> | undefined>();
  /** A name the person typed is kept; one Sprout took from the file follows the next file. */
  #autoName = '';
  datasets = $state.raw<DatasetInfo[]>([]);
  progress = $state.raw<ImportProgress | undefined>();
  busy = $state<'' | 'preview' | 'import'>('');
  error = $state.raw<ApiError | undefined>();
  /** An import's failure, said beside its button: the reading's error sits by the file, far above it. */
  importError = $state.raw<ApiError | undefined>();
  #previews = 0;
  #validationPreviews = 0;
  /** The words typed for each library dataset left since: choosing it again gives them back. */
  readonly #typedWords = new Map<number, Record<string, string>>();

  /** `onDataset`: told each time a library dataset becomes the one training uses (imported or picked). */
  constructor(private readonly onDataset: (datasetId: number) => void = () => {}) {}

  /** The dataset training uses: the import's, or the one picked from the library. */
  get datasetId(): number | undefined {
    return this.report?.datasetId ?? this.existing?.id;
  }

  get labels(): string[] {
    if (this.report) return Object.keys(this.report.labels);
    if (this.existing?.labelSet) return this.existing.labelSet;
    return Object.keys(this.preview?.labels ?? {});
  }

  /** Rows per label of what training will use: the import just made, the library dataset chosen, or the file previewed. */
  get labelCounts(): Record<string, number> | null {
    if (this.report) return this.report.labels;
    if (this.existing) return this.existingLabels ?? null;
    return this.preview?.labels ?? null;
  }

  /**
   * The verbaliser to send: none where every label is written as itself, else every label's words (a blank entry is
   * the label itself), since a verbaliser must name every label and one changed word would otherwise leave the rest out.
   */
  get verbaliserRequest(): Record<string, string> | undefined {
    const entries = Object.entries($state.snapshot(this.verbaliser)).map(([label, target]) => [label, target.trim() || label]);
    return entries.some(([label, target]) => target !== label) ? Object.fromEntries(entries) : undefined;
  }

  /** Whether the label column is free text (too many distinct values to be classes): trained to generate, no words needed. */
  get freeText(): boolean {
    if (this.report) return this.report.freeText;
    if (this.existing) return this.existing.labelSet === null;
    return this.preview?.freeText ?? false;
  }

  /** Labels that are numbers and still written as such: the model cannot learn to write them (main/train/task.ts). */
  get numbersWithoutWords(): string[] {
    if (this.freeText) return [];
    return Object.entries(this.verbaliser)
      .filter(([label, target]) => isNumericLabel(label) && (target.trim() || label) === label)
      .map(([label]) => label);
  }

  async loadDatasets(): Promise<void> {
    try {
      this.datasets = await api['data.list']({});
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** A new file: its quoting and header are detected afresh, whatever was chosen for the previous one. */
  chooseFile(): Promise<void> {
    this.quoting = '';
    this.separator = '';
    this.sheet = '';
    this.header = 'auto';
    this.encoding = 'auto';
    return this.loadPreview();
  }

  async loadPreview(labelColumn?: string): Promise<void> {
    if (!this.file.trim()) return;
    this.busy = 'preview';
    const ticket = ++this.#previews;
    try {
      const preview = await api['data.preview']({
        file: this.file.trim(),
        rows: 8,
        ...readRequest(this),
        ...(labelColumn ? { labelColumn } : {}),
      });
      // A newer request (another file, another quoting) has been sent since: its answer is the one to show.
      if (ticket !== this.#previews) return;
      this.preview = preview;
      this.#keepWords();
      this.report = undefined;
      this.existing = undefined;
      if (!labelColumn) {
        this.textColumns = [...preview.suggestion.textColumns];
        this.template = preview.suggestion.template;
      }
      this.labelColumn = preview.labelColumn ?? '';
      this.verbaliser = Object.fromEntries(
        Object.keys(preview.labels ?? {}).map((label) => [label, ownValue(this.verbaliser, label) ?? label]),
      );
      if (!this.name.trim() || this.name === this.#autoName) this.name = this.#autoName = defaultDatasetName(preview.file);
      this.error = this.importError = undefined;
    } catch (error) {
      if (ticket !== this.#previews) return;
      // What is on screen must be this file's: no earlier preview, and no Import button for it.
      this.error = asApiError(error);
      this.preview = undefined;
      this.report = undefined;
    } finally {
      if (ticket === this.#previews) this.busy = '';
    }
  }

  async import(): Promise<void> {
    this.busy = 'import';
    const stop = onEvent('import.progress', (p) => (this.progress = p));
    try {
      this.report = await api['data.import']({
        file: this.file.trim(),
        ...previewedReading(this, this.preview!),
        ...(this.name.trim() ? { name: this.name.trim() } : {}),
        textColumns: $state.snapshot(this.textColumns),
        labelColumn: this.labelColumn || null,
        ...(this.template.trim() ? { template: this.template.trim() } : {}),
        ...(this.validationFile.trim() ? this.#validationRequest() : { split: this.split }),
        testSplit: this.testSplit,
      });
      this.verbaliser = Object.fromEntries(
        Object.keys(this.report.labels).map((label) => [label, ownValue(this.verbaliser, label) ?? label]),
      );
      this.importError = undefined;
      this.onDataset(this.report.datasetId);
      void this.loadDatasets();
    } catch (error) {
      this.importError = asApiError(error);
    } finally {
      stop();
      this.progress = undefined;
      this.busy = '';
    }
  }

  /**
   * A validation file named: a workbook's sheet as detection finds it is kept for the import, and a workbook of several
   * sheets offers them, since one workbook often holds both the training and the validation sheet, and the sheet
   * detection finds for it alone is then the training one.
   */
  async chooseValidationFile(): Promise<void> {
    const file = this.validationFile.trim();
    const ticket = ++this.#validationPreviews;
    this.validationSheet = '';
    this.validationSheets = undefined;
    if (!file) return;
    try {
      const preview = await api['data.preview']({ file, rows: 1 });
      if (ticket === this.#validationPreviews && preview.sheets && preview.sheet)
        this.validationSheets = { sheets: preview.sheets, found: preview.sheet };
    } catch {
      // Nothing to offer; what is wrong with the file is said by the import, which reads it in full.
    }
  }

  /**
   * The validation file and its sheet: the one chosen, else the one detection found for it, which is what "Detect"
   * promises (left to the import, a workbook would be read at the training file's sheet name).
   */
  #validationRequest(): { validationFile: string; validationSheet?: string } {
    const sheet = this.validationSheet || this.validationSheets?.found;
    return { validationFile: this.validationFile.trim(), ...(sheet ? { validationSheet: sheet } : {}) };
  }

  /** Keeps the words typed for the library dataset being left, if one was chosen or imported. */
  #keepWords(): void {
    if (this.datasetId !== undefined) this.#typedWords.set(this.datasetId, $state.snapshot(this.verbaliser));
  }

  /** A library dataset instead of a file: what the file's preview or a failed preview showed no longer applies. */
  async useExisting(dataset: DatasetInfo | undefined): Promise<void> {
    this.#keepWords();
    this.existing = dataset;
    this.existingLabels = undefined;
    this.report = undefined;
    this.error = undefined;
    this.verbaliser = Object.fromEntries((dataset?.labelSet ?? []).map((label) => [label, label]));
    if (!dataset) return;
    this.onDataset(dataset.id);
    try {
      const detail = await api['data.show']({ id: dataset.id, limit: 0 });
      if (this.existing?.id !== dataset.id) return;
      const counts: Record<string, number> = {};
      for (const c of detail.labelCounts) if (c.label !== null) addCount(counts, c.label, c.count);
      this.existingLabels = counts;
      // The words typed for it here, else those its last run gave the labels (0 → negative): the dataset stores none.
      const words = this.#typedWords.get(dataset.id) ?? detail.verbalizer ?? {};
      this.verbaliser = Object.fromEntries(Object.keys(this.verbaliser).map((label) => [label, ownValue(words, label) ?? label]));
    } catch (error) {
      this.error = asApiError(error);
    }
  }
}
