/**
 * Every list of values a person chooses from, in the app, on the command line or in a stored config, declared once
 * with the words the app shows for each value. Each `*_LABELS` table is the declaration (its order is the order help
 * and menus list the values in); the list of values beside it is derived from it. The engine's types, the contract's
 * zod enums, the CLI's help and parsing (main/cli/flags.ts) and the app's menus all come from here, so a value is
 * added here and nowhere else: test/choices.test.ts fails on a hand-written copy.
 *
 * It imports nothing, so that main, preload and renderer may all read it.
 */

/** The values of a label table, in its order; a non-empty tuple, as z.enum wants. */
function valuesOf<T extends object>(table: T): readonly [keyof T & string, ...(keyof T & string)[]] {
  return Object.keys(table) as [keyof T & string, ...(keyof T & string)[]];
}

/** Whether `value` is one of `values`, narrowing it. */
export function isOneOf<T extends string>(values: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (values as readonly string[]).includes(value);
}

/** Where the engine runs. `gpu`: the best GPU provider that works, or a clear error — never a silent CPU. */
export const DEVICE_LABELS = {
  auto: 'Automatic (best available)',
  gpu: 'Any GPU (fail rather than use the CPU)',
  cuda: 'CUDA',
  dml: 'DirectML',
  coreml: 'Core ML',
  webgpu: 'WebGPU',
  cpu: 'CPU',
} as const;
export type DevicePreference = keyof typeof DEVICE_LABELS;
export const DEVICE_PREFERENCES = valuesOf(DEVICE_LABELS);

/** Compute dtype of activations (main/runtime/width-policy.ts resolves `auto`). */
export const PRECISION_LABELS = {
  auto: 'Automatic (fp32 on the CPU, bf16 on CUDA, fp16 on other GPUs)',
  fp32: 'fp32',
  fp16: 'fp16 (prompt, gradient, residual stream and loss stay fp32)',
  bf16: 'bf16 (CUDA; prompt, gradient, residual stream and loss stay fp32)',
} as const;
export type Precision = keyof typeof PRECISION_LABELS;
export const PRECISIONS = valuesOf(PRECISION_LABELS);

/** How the frozen weights are held (main/weights/width.ts gives their bytes per parameter). */
export const WEIGHT_WIDTH_LABELS = { fp32: 'float32', bf16: 'bfloat16', fp16: 'float16', int8: 'int8' } as const;
export type WeightWidth = keyof typeof WEIGHT_WIDTH_LABELS;
export const WEIGHT_WIDTHS = valuesOf(WEIGHT_WIDTH_LABELS);
/** `auto` is chosen per device (main/runtime/width-policy.ts), so menus say what it resolves to in their own words. */
export type WeightsChoice = 'auto' | WeightWidth;
export const WEIGHTS_CHOICES: readonly [WeightsChoice, ...WeightsChoice[]] = ['auto', ...WEIGHT_WIDTHS];

/**
 * How scoring multiplies by the frozen weights: in floating point (at the precision), or int8 × int8 with the
 * activations quantised as they come (label and evaluate only: main/graph/t5/weight-entry.ts says which form and
 * why; int8 compute holds its own copy of the weights, main/weights/store.ts).
 */
export const COMPUTE_LABELS = {
  float: 'Floating point (labels exactly as trained)',
  int8: 'int8 products (faster on the CPU; a few close calls may differ)',
} as const;
export type ComputeChoice = keyof typeof COMPUTE_LABELS;
export const COMPUTES = valuesOf(COMPUTE_LABELS);

/** The metrics an evaluation reports, by the name sentences use for them. */
export const EVAL_METRIC_NAMES = { rank_accuracy: 'accuracy', exact_match: 'exact match', macro_f1: 'macro-F1', mcc: 'MCC' } as const;
export type EvalMetricName = keyof typeof EVAL_METRIC_NAMES;
export const EVAL_METRICS = valuesOf(EVAL_METRIC_NAMES);

/** The metric the best prompt is kept by; `auto`: MCC or macro-F1 when the classes are imbalanced (main/train/baselines.ts). */
export const KEEP_BY_LABELS = {
  auto: 'Automatic (MCC or macro-F1 when labels are imbalanced)',
  rank_accuracy: 'Accuracy',
  exact_match: 'Exact match',
  macro_f1: 'Macro-F1',
  mcc: 'Matthews correlation (MCC)',
} as const satisfies Record<EvalMetricName | 'auto', string>;
export type MetricRequest = keyof typeof KEEP_BY_LABELS;
export const METRIC_REQUESTS = valuesOf(KEEP_BY_LABELS);

export const OPTIMIZER_LABELS = { adafactor: 'Adafactor (Lester et al.)', adam: 'Adam', adamw: 'AdamW' } as const;
export type OptimizerKind = keyof typeof OPTIMIZER_LABELS;
export const OPTIMIZER_KINDS = valuesOf(OPTIMIZER_LABELS);
/** The learning rate each optimiser trains at unless told: Lester et al.'s 0.3 for Adafactor, 0.01 for Adam(W). */
export const DEFAULT_LR = { adafactor: 0.3, adam: 0.01, adamw: 0.01 } as const satisfies Record<OptimizerKind, number>;

/**
 * Bounds of the whole-number run settings a person types: train.start's contract enforces them (preload/contract.ts),
 * the Prompt step's fields show them and say which one is outside before anything is asked of the engine, and the
 * CLI's flags refuse the same values (labelling, evaluation and probes cut inputs within maxInputLength's too).
 */
export const RUN_LIMITS = {
  promptLength: { min: 1, max: 512 },
  batchSize: { min: 1, max: 4096 },
  steps: { min: 1, max: 1_000_000 },
  evalEvery: { min: 1, max: undefined },
  evalLimit: { min: 1, max: undefined },
  patience: { min: 1, max: undefined },
  seed: { min: 0, max: undefined },
  maxInputLength: { min: 8, max: 4096 },
  /** onnxruntime intra-op threads: Settings' field, a run's own and every command's --threads. */
  threads: { min: 1, max: 256 },
} as const satisfies Record<string, { min: number; max: number | undefined }>;
export type RunLimited = keyof typeof RUN_LIMITS;

/** How a soft prompt starts (main/train/init.ts); `text` and `prompt` take what follows a colon. */
export const INIT_LABELS = {
  vocab: 'Embeddings of common words',
  labels: 'Embeddings of the label words',
  random: 'Random values',
  text: 'The embedding of a text',
  prompt: 'A prompt from the library',
} as const;
export type InitKind = keyof typeof INIT_LABELS;
export const INIT_KINDS = valuesOf(INIT_LABELS);
/** What follows the colon of the inits that take an argument, as help names it (`text:WORDS`). */
export const INIT_ARGUMENTS = { text: 'WORDS', prompt: 'ID' } as const satisfies Partial<Record<InitKind, string>>;
/** Every form an init is written in: `vocab`, …, `text:WORDS`, `prompt:ID`. */
export const INIT_FORMS = INIT_KINDS.map((k) =>
  Object.hasOwn(INIT_ARGUMENTS, k) ? `${k}:${INIT_ARGUMENTS[k as keyof typeof INIT_ARGUMENTS]}` : k,
);

/** The file formats Sprout reads examples from. */
export const DATA_FORMAT_LABELS = {
  csv: 'CSV',
  tsv: 'TSV',
  jsonl: 'JSON Lines',
  json: 'JSON',
  parquet: 'Parquet',
  xlsx: 'Excel workbook',
  text: 'text lines',
} as const;
export type DataFormat = keyof typeof DATA_FORMAT_LABELS;
export const DATA_FORMATS = valuesOf(DATA_FORMAT_LABELS);
/** Formats whose first row may name the columns or be an example: their header is detected or chosen. */
export const HEADER_FORMATS = ['csv', 'tsv', 'xlsx'] as const satisfies readonly DataFormat[];
/** Formats stored as bytes, not text: they have no encoding to choose. */
export const BINARY_FORMATS = ['parquet', 'xlsx'] as const satisfies readonly DataFormat[];
/** Whether `format` is one of `formats`, narrowing it. */
export const formatIn = <F extends DataFormat>(formats: readonly F[], format: string | undefined): format is F =>
  (formats as readonly string[]).includes(format as string);

/**
 * The formats a labelled copy is written in: rows appended as they are labelled (main/label/encode.ts), or through a
 * part file converted at the end (Parquet, workbooks: main/label/part-output.ts).
 */
export const OUTPUT_FORMATS = ['csv', 'tsv', 'jsonl', 'parquet', 'xlsx'] as const satisfies readonly DataFormat[];
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];
/** File extensions and the format each names: what a file is read as, and what a labelled copy is written as. */
export const FORMAT_EXTENSIONS = {
  csv: 'csv',
  tsv: 'tsv',
  tab: 'tsv',
  jsonl: 'jsonl',
  ndjson: 'jsonl',
  json: 'json',
  parquet: 'parquet',
  pq: 'parquet',
  xlsx: 'xlsx',
  xlsm: 'xlsx',
  txt: 'text',
  text: 'text',
} as const satisfies Record<string, DataFormat>;

/** The format a file name's extension names (as node:path's extname reads it), or undefined where it names none. */
export function formatFromName(file: string): DataFormat | undefined {
  const ext = /[^/\\.][^/\\]*\.([^./\\]+)$/.exec(file)?.[1].toLowerCase();
  return ext !== undefined && Object.hasOwn(FORMAT_EXTENSIONS, ext) ? FORMAT_EXTENSIONS[ext as keyof typeof FORMAT_EXTENSIONS] : undefined;
}

/** The output format a file name's extension names, or undefined where it names none a labelled copy is written in. */
export function outputFormatFromName(file: string): OutputFormat | undefined {
  const format = formatFromName(file);
  return formatIn(OUTPUT_FORMATS, format) ? format : undefined;
}

/**
 * The format a labelled copy takes when not told, in the CLI and the app alike: its input's, but a JSON array (which
 * rows cannot be appended to) becomes JSON Lines, and text lines become CSV (one column and the added ones).
 */
export function labelledFormat(input: DataFormat): OutputFormat {
  if (input === 'json') return 'jsonl';
  if (input === 'text') return 'csv';
  return input;
}

/**
 * How double quotes are read in CSV/TSV: `rfc4180` (a field starting with `"` runs to the matching `"`, `""` is one
 * quote) or `none` (quotes are text; each physical line is one record split on the delimiter, as GLUE's reader does).
 */
export const QUOTING_LABELS = { rfc4180: 'Quoted fields (RFC 4180)', none: 'Quotes are text (GLUE)' } as const;
export type Quoting = keyof typeof QUOTING_LABELS;
export const QUOTINGS = valuesOf(QUOTING_LABELS);

/**
 * What separates a CSV's fields. Excel saves "CSV" with the list separator of the system's language: a comma in
 * English, a semicolon where the comma is the decimal mark (German, French, Dutch, Spanish, Italian, Polish, Russian,
 * …). Detected from the first rows unless chosen (main/data/detect-separator.ts).
 */
export const SEPARATOR_LABELS = { comma: 'Comma (,)', semicolon: 'Semicolon (;)' } as const;
export type CsvSeparator = keyof typeof SEPARATOR_LABELS;
export const SEPARATORS = valuesOf(SEPARATOR_LABELS);

/** What to do with bytes the file's encoding does not allow: stop with an error naming the line, or use U+FFFD. */
export const INVALID_UTF8_CHOICES = ['error', 'replace'] as const;
export type InvalidUtf8 = (typeof INVALID_UTF8_CHOICES)[number];

/**
 * The character encoding of a text data file. `auto`: UTF-8, or UTF-16 where a byte order mark says so. The others are
 * the code pages Excel on Windows saves a "CSV (Comma delimited)" in, by the system's language (its "CSV UTF-8" is
 * UTF-8 with a byte order mark), and Mac OS Roman, which Excel for Mac's "CSV (Macintosh)" is saved in; a byte order
 * mark still decides over them, as a file that has one says what it is. The values are WHATWG encoding names, which
 * TextDecoder takes.
 */
export const ENCODING_LABELS = {
  auto: 'UTF-8 (or as a byte order mark says)',
  'windows-1252': 'Windows-1252: Western European (English, French, German, Spanish…)',
  'windows-1250': 'Windows-1250: Central European (Polish, Czech, Hungarian…)',
  'windows-1251': 'Windows-1251: Cyrillic',
  'windows-1253': 'Windows-1253: Greek',
  'windows-1254': 'Windows-1254: Turkish',
  shift_jis: 'Shift_JIS: Japanese',
  gbk: 'GBK: Simplified Chinese',
  'euc-kr': 'EUC-KR: Korean',
  big5: 'Big5: Traditional Chinese',
  macintosh: 'Mac OS Roman: Excel for Mac\'s "CSV (Macintosh)"',
} as const;
export type EncodingChoice = keyof typeof ENCODING_LABELS;
export const ENCODING_CHOICES = valuesOf(ENCODING_LABELS);

/** Whether the first CSV/TSV record names the columns; `auto`: detected from the first rows (main/data/detect-header.ts). */
export const HEADER_LABELS = { auto: 'Detect', yes: 'Column names (a header)', no: 'An example (no header)' } as const;
export type HeaderSetting = keyof typeof HEADER_LABELS;
export const HEADER_SETTINGS = valuesOf(HEADER_LABELS);

/**
 * Where a labelled row stands in review: no label from a person yet, one given (confirming the model's or not), or
 * one that differs from the model's.
 */
export const REVIEW_STATE_LABELS = {
  unreviewed: 'rows not reviewed yet',
  reviewed: 'rows labelled by you',
  corrected: 'rows corrected by you',
} as const;
export type ReviewState = keyof typeof REVIEW_STATE_LABELS;
export const REVIEW_STATES = valuesOf(REVIEW_STATE_LABELS);

/**
 * One page of review rows (label.review, `sprout label review`): the rows it holds unless told, and at most. A page
 * may start at any row, so the whole of a large job can be walked page by page.
 */
export const REVIEW_PAGE = { rows: 50, most: 1000 } as const;

/** The first rows a data file's preview shows (data.preview, `sprout data preview --rows`) unless told, and at most. */
export const PREVIEW_ROWS = { rows: 10, most: 200 } as const;

/** How a two-label prompt's decision threshold is chosen (main/train/threshold.ts thresholdFor). */
export const THRESHOLD_TARGET_LABELS = {
  threshold: 'A threshold I pick',
  precision: 'A target precision',
  recall: 'A target recall',
} as const;
export type ThresholdTarget = keyof typeof THRESHOLD_TARGET_LABELS;
export const THRESHOLD_TARGETS = valuesOf(THRESHOLD_TARGET_LABELS);

export const THEME_LABELS = { system: 'Follow the system', light: 'Light', dark: 'Dark' } as const;
export type Theme = keyof typeof THEME_LABELS;
export const THEMES = valuesOf(THEME_LABELS);

/** The parts of a dataset: trained on, evaluated on while training, and held out for the final test. */
export const SPLITS = ['train', 'validation', 'test'] as const;
export type Split = (typeof SPLITS)[number];
