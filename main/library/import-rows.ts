/**
 * The rows of an import as they stream from the file into SQLite: empty texts and missing labels dropped and
 * counted, long texts counted, labels tallied per split until they turn out to be free text, and the training rows
 * grouped by label for the stratified draw of held-out rows, which then moves them.
 */
import { basename } from 'node:path';
import type { Mapping } from '../data/mapping.js';
import type { Source } from '../data/read.js';
import { splitHeldOut } from '../data/split.js';
import { renderTemplate } from '../data/template.js';
import { SPLITS, type Split } from '../choices.js';
import type { SourceRecord } from '../data/types.js';
import { addCount, labelOf } from '../data/values.js';
import { distinctLabelCount, duplicateTextGroups, moveRowsToSplit, rowInserter, validationRepeatingTraining } from './datasets.js';
import type { LibraryDb } from './db.js';

/** The one split group once labels are free text (a label is never empty: such rows are dropped). */
const ALL_ROWS = '';

export interface RowChecks {
  /** Texts (after the template) longer than this many characters are counted as long. */
  maxChars: number;
  countTokens?: (text: string) => number;
  maxTokens: number | null;
  /** More distinct labels than this marks the label column as free text. */
  freeTextLimit: number;
  /** How many line numbers of rows without a label to list. */
  listLimit: number;
  /** Whether training rows are drawn into validation or test afterwards (then they are grouped by label). */
  drawing: boolean;
  onRows?: (rows: number) => void;
}

const perSplit = <T>(make: () => T): Record<Split, T> => ({ train: make(), validation: make(), test: make() });

export class ImportedRows {
  readonly dropped = { empty_text: 0, missing_text: 0, missing_label: 0 };
  /** Labels stored without the spaces around them in the file. */
  trimmedLabels = 0;
  readonly missingLabelLines: { file: string; line: number }[] = [];
  overChars = 0;
  overTokens = 0;
  rows = 0;
  freeText = false;
  readonly splits: Record<Split, number> = perSplit(() => 0);
  /** Rows per split and label, counted here rather than by SQL afterwards; cleared once labels are free text. */
  readonly labelCounts: Record<Split, Map<string, number>> = perSplit(() => new Map());
  /** Row ids per label for the stratified split; one group once the labels turn out to be free text. */
  readonly groups = new Map<string, number[]>();
  private readonly seenLabels = new Set<string>();
  private readonly insert: ReturnType<typeof rowInserter>;
  private readonly texts: string[];
  private readonly values: Record<string, string> = {};
  private readonly literalChars: number;
  /** How often the template uses each text column. */
  private readonly uses: number[];

  constructor(
    private readonly db: LibraryDb,
    private readonly datasetId: number,
    private readonly mapping: Mapping,
    private readonly checks: RowChecks,
  ) {
    this.insert = rowInserter(db, datasetId);
    this.texts = new Array(mapping.textColumns.length);
    this.literalChars = mapping.template.parts.reduce((n, p) => n + (typeof p === 'string' ? p.length : 0), 0);
    this.uses = mapping.textColumns.map((c) => mapping.template.parts.filter((p) => typeof p !== 'string' && p.column === c).length);
  }

  get labelled(): boolean {
    return this.mapping.labelColumn !== null;
  }

  /** Stores a source's records in `split`; 'split' means training rows to draw from (unlabelled ones go to test). */
  async store(source: Source, records: AsyncIterable<SourceRecord>, split: Split | 'split'): Promise<void> {
    const file = basename(source.info.file);
    let index = 0;
    for await (const record of records) {
      const rowIndex = index++;
      const chars = this.readTexts(record);
      if (chars === null) continue;
      const label = this.readLabel(record, file);
      if (label === undefined) continue;
      if (chars > this.checks.maxChars) this.overChars++;
      if (this.checks.countTokens) {
        for (let i = 0; i < this.texts.length; i++) this.values[this.mapping.textColumns[i]] = this.texts[i];
        if (this.checks.countTokens(renderTemplate(this.mapping.template, this.values)) > this.checks.maxTokens!) this.overTokens++;
      }
      const target: Split = split === 'split' ? (this.labelled ? 'train' : 'test') : split;
      const rowid = this.insert(target, rowIndex, record.line, JSON.stringify(this.texts), label);
      this.splits[target]++;
      if (label !== null && !this.freeText && target !== 'test') this.countLabel(label, target);
      if (target === 'train' && label !== null && this.checks.drawing) this.group(rowid, label);
      this.rows++;
      if ((this.rows & 0x3fff) === 0) this.checks.onRows?.(this.rows);
    }
  }

  /** Reads the text columns into `texts`; their rendered length, or null for a dropped row (missing or empty text). */
  private readTexts(record: SourceRecord): number | null {
    let empty = false;
    let chars = this.literalChars;
    for (let i = 0; i < this.texts.length; i++) {
      const v = record.fields[this.mapping.textColumns[i]];
      if (v === null || v === undefined) {
        this.dropped.missing_text++;
        return null;
      }
      if (!/\S/.test(v)) empty = true;
      this.texts[i] = v;
      chars += v.length * this.uses[i];
    }
    if (empty) this.dropped.empty_text++;
    return empty ? null : chars;
  }

  /** The label (null for an unlabelled import); undefined for a dropped row, whose line is listed. */
  private readLabel(record: SourceRecord, file: string): string | null | undefined {
    if (!this.labelled) return null;
    const v = record.fields[this.mapping.labelColumn!];
    const label = labelOf(v);
    if (label !== undefined) {
      if (label !== v) this.trimmedLabels++;
      return label;
    }
    this.dropped.missing_label++;
    if (this.missingLabelLines.length < this.checks.listLimit) this.missingLabelLines.push({ file, line: record.line });
    return undefined;
  }

  private countLabel(label: string, split: Split): void {
    if (!this.seenLabels.has(label)) {
      this.seenLabels.add(label);
      if (this.seenLabels.size > this.checks.freeTextLimit) {
        this.freeText = true;
        this.seenLabels.clear();
        for (const counts of Object.values(this.labelCounts)) counts.clear();
        return;
      }
    }
    this.labelCounts[split].set(label, (this.labelCounts[split].get(label) ?? 0) + 1);
  }

  private group(rowid: number, label: string): void {
    if (this.freeText && !this.groups.has(ALL_ROWS)) {
      const all = [...this.groups.values()].flat();
      this.groups.clear();
      this.groups.set(ALL_ROWS, all);
    }
    const key = this.freeText ? ALL_ROWS : label;
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = []));
    group.push(rowid);
  }

  /**
   * Draws the held-out rows from the training rows by unique text and moves them, keeping the counts. A validation
   * file's rows stay where the person put them: only the training file's copies move together. Returns the groups
   * of repeated texts (for the report) and how many of them were drawn as units.
   */
  drawHeldOut(
    shares: { validation: number; test: number },
    seed: number,
    hasValidationFile: boolean,
  ): { copies: ReturnType<typeof duplicateTextGroups>; keptTogether: number } {
    const copies = duplicateTextGroups(this.db, this.datasetId);
    if (!this.checks.drawing) return { copies, keptTogether: 0 };
    const drawnCopies = hasValidationFile ? this.trainingCopies(copies) : copies;
    const held = splitHeldOut(this.groups, drawnCopies, shares, seed);
    for (const target of ['validation', 'test'] as const) {
      const moved = held[target];
      moveRowsToSplit(this.db, moved.rows, target);
      this.splits.train -= moved.rows.length;
      this.splits[target] += moved.rows.length;
      if (this.freeText) continue;
      for (const [label, k] of moved.labels) {
        this.labelCounts[target].set(label, (this.labelCounts[target].get(label) ?? 0) + k);
        this.labelCounts.train.set(label, this.labelCounts.train.get(label)! - k);
        if (this.labelCounts.train.get(label) === 0) this.labelCounts.train.delete(label);
      }
    }
    return { copies, keptTogether: drawnCopies.length };
  }

  /** Validation rows whose text is also a training row's (after the draw). */
  validationRepeatingTraining(): number {
    return validationRepeatingTraining(this.db, this.datasetId);
  }

  /** The groups of repeated texts among the training file's rows, still repeated there. */
  private trainingCopies(copies: ReturnType<typeof duplicateTextGroups>): ReturnType<typeof duplicateTextGroups> {
    const train = new Set([...this.groups.values()].flat());
    return copies.map((g) => g.filter((r) => train.has(r.rowid))).filter((g) => g.length > 1);
  }

  /** Labelled rows per label over all splits and per split, and how many distinct labels there are. */
  labelSummary(): { labels: Record<string, number>; splitLabels: Record<Split, Record<string, number>>; distinctLabels: number } {
    const labelSet = new Set(Object.values(this.labelCounts).flatMap((counts) => [...counts.keys()]));
    const labels: Record<string, number> = {};
    const splitLabels: Record<Split, Record<string, number>> = perSplit(() => ({}));
    if (!this.labelled) return { labels, splitLabels, distinctLabels: 0 };
    if (this.freeText) return { labels, splitLabels, distinctLabels: distinctLabelCount(this.db, this.datasetId) };
    for (const label of [...labelSet].sort()) {
      for (const split of SPLITS) {
        const n = this.labelCounts[split].get(label) ?? 0;
        addCount(labels, label, n);
        if (n) addCount(splitLabels[split], label, n);
      }
    }
    return { labels, splitLabels, distinctLabels: labelSet.size };
  }
}
