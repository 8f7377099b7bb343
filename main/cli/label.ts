import type { SourceInfo } from '../data/types.js';
import { DATA_FORMAT_LABELS } from '../choices.js';
import { SproutError } from '../errors.js';
import { refuseIfWritten } from '../writer-lock.js';
import { outputFormatFromName, type OutputFormat } from '../choices.js';
import { getJob, jobWriter } from '../label/jobs.js';
import { rowsNote } from '../label/rows-note.js';
import {
  checkJobInput,
  LABEL_DEFAULTS,
  resumeLabelJob,
  startLabelJob,
  type LabelEngine,
  type LabelJobOptions,
  type LabelSummary,
} from '../label/job.js';
import type { RoutingChoice } from '../label/routed.js';
import { jobPromptFromLibrary, LIBRARY_REF_PREFIX, promptFromLibrary } from '../label/library-prompt.js';
import { FILE_REF_PREFIX, promptFromFile } from '../label/prompt-file.js';
import type { LabelProgress, LabelPrompt, LabelTask } from '../label/types.js';
import { openLibrary, libraryPath, type LibraryDb } from '../library/db.js';
import { resolveModel } from '../library/models.js';
import { promptModelPath } from '../library/prompt-model.js';
import { agreeing, allOf } from '../wording.js';
import { dataDir } from '../paths.js';
import { loadPromptModel, type LoadOptions } from '../runtime/model.js';
import { providerRecord } from '../runtime/provider-record.js';
import { loadTokenizer } from '../tokenizer/index.js';
import { printJson, UsageError, type Command, type ParsedArgs } from './command.js';
import { headerOption, readAs, readingNotes } from './data-shared.js';
import { MODEL_HELP } from './model-shared.js';
import {
  choiceFlag,
  computeFlag,
  countFlag,
  deviceFlag,
  encodingFlag,
  formatFlag,
  headerFlag,
  listFlag,
  maxInputLengthFlag,
  outputFormatFlag,
  precisionFlag,
  quotingFlag,
  runLimitFlag,
  separatorFlag,
  stringFlag,
  threadsFlag,
  weightsFlag,
} from './flags.js';
import type { WeightsChoice, WeightWidth } from '../weights/width.js';
import { preparePrinter } from './prepare-printer.js';
import { checkOutputFile } from '../output-path.js';
import { labelFitHint, planLabelling, type LabelPlan } from '../label/memory-plan.js';
import { describePlan } from '../weights/memory-plan.js';
import { interruptSignal } from './interrupt.js';
import { statusLine } from './status-line.js';

/** The input's format: the data formats under a name of its own, as --format names the output's. */
const inputFormatFlag = choiceFlag('input-format', formatFlag.values);

function outputFormat(values: ParsedArgs['values'], output: string | undefined): OutputFormat | undefined {
  return outputFormatFlag.read(values) ?? (output === undefined ? undefined : outputFormatFromName(output));
}

/** The task of prompts given as files: --labels (and --verbalisers), or --generate for free text. */
function fileTask(values: ParsedArgs['values']): LabelTask {
  const template = stringFlag(values, 'task-template') ?? null;
  if (values.generate) return { kind: 'generation', labels: [], verbalisers: [], template };
  const labels = stringFlag(values, 'labels')
    ?.split(',')
    .map((s) => s.trim());
  if (!labels?.length || labels.some((l) => l === ''))
    throw new UsageError('A --prompt-file needs --labels a,b,... (the label set), or --generate for a free-text task.');
  const verbalisers =
    stringFlag(values, 'verbalisers')
      ?.split(',')
      .map((s) => s.trim()) ?? labels;
  if (verbalisers.length !== labels.length)
    throw new UsageError(`--verbalisers has ${verbalisers.length} texts but --labels has ${labels.length}.`);
  return { kind: 'classification', labels, verbalisers, template };
}

/** Prompts of a resumed job, found again from the references stored with it (the job keeps its own task, or each route's). */
function jobPrompts(db: LibraryDb, refs: { ref: string; name: string }[], taskOf: (i: number) => LabelTask): LabelPrompt[] {
  return refs.map((stored, i) => {
    const task = taskOf(i);
    if (stored.ref.startsWith(FILE_REF_PREFIX)) return promptFromFile(stored.ref.slice(FILE_REF_PREFIX.length), task);
    if (stored.ref.startsWith(LIBRARY_REF_PREFIX)) return jobPromptFromLibrary(db, stored, task);
    throw new SproutError('label-unknown-prompt', `The job was started with prompt "${stored.ref}", which this Sprout cannot find.`);
  });
}

/**
 * --labels, --verbalisers, --generate and --task-template give the task of a prompt that has none: a file's, or a
 * library prompt imported without one (a PEFT adapter), which would otherwise write free text. A library prompt
 * with its own labels keeps them: flags that say otherwise are refused, not dropped without a word.
 */
function withTaskFlags<T extends { prompt: LabelPrompt }>(found: T, values: ParsedArgs['values']): T {
  const flags = ['labels', 'verbalisers', 'generate', 'task-template'].filter((f) => values[f] !== undefined && values[f] !== false);
  if (flags.length === 0) return found;
  const { prompt } = found;
  if (prompt.task.labels.length > 0 || prompt.task.template !== null)
    throw new UsageError(
      `${allOf(flags.map((f) => `--${f}`))} ${agreeing(flags.length, 'gives', 'give')} the task of a prompt that has none; ` +
        `"${prompt.name}" labels with its own task${prompt.task.labels.length ? ` (${prompt.task.labels.join(', ')})` : ''}. ` +
        `Leave ${agreeing(flags.length, 'it', 'them')} out.`,
    );
  return { ...found, prompt: { ...prompt, task: fileTask(values) } };
}

/** --prompt (library) or --prompt-file prompts, and the model folder: --model, else the library prompts' own. */
function chosenPrompts(
  db: LibraryDb,
  values: ParsedArgs['values'],
): { prompts: LabelPrompt[]; model: string; routing?: RoutingChoice; weightWidth?: WeightWidth } {
  const routed = routingChoice(values);
  const ids = routed ? routed.ids : listFlag(values, 'prompt');
  const files = listFlag(values, 'prompt-file');
  if (routed && files.length)
    throw new UsageError('A multi-task job labels with library prompts: --prompt TASK=ID or --prompt-for-column COLUMN=ID.');
  if (ids.length && files.length) throw new UsageError('Give either --prompt (library) or --prompt-file, not both.');
  if (!ids.length && !files.length)
    throw new UsageError(
      'Give the prompt: --prompt ID|NAME from the library, or --prompt-file FILE with --model MODEL. Run `sprout label --help`.',
    );
  const given = stringFlag(values, 'model');
  if (files.length) {
    if (given === undefined) throw new UsageError('A --prompt-file needs --model MODEL, the model it was trained on.');
    const task = fileTask(values);
    return { prompts: files.map((f) => promptFromFile(f, task)), model: resolveModel(db, given).path };
  }
  const found = ids.map((id) => withTaskFlags(promptFromLibrary(db, id), values));
  const models = [...new Set(found.map((f) => f.modelPath))];
  if (given === undefined) {
    const lost = found.find((f) => f.modelPath === null);
    // Says which model it was trained on, and why that one is not used.
    if (lost) promptModelPath(db, lost.record);
    if (models.length > 1)
      throw new UsageError('The prompts belong to different model folders; an ensemble needs one model. Pass --model MODEL to choose.');
  }
  const widths = [...new Set(found.map((f) => f.weightWidth))];
  const weightWidth = widths.length === 1 && widths[0] !== null ? widths[0] : undefined;
  const model = given === undefined ? models[0]! : resolveModel(db, given).path;
  return { prompts: found.map((f) => f.prompt), model, routing: routed?.routing, weightWidth };
}

/** KEY=ID pairs of --prompt with --task-column, or of --prompt-for-column; null for an ordinary job. */
function routingChoice(values: ParsedArgs['values']): { routing: RoutingChoice; ids: string[] } | null {
  const taskColumn = stringFlag(values, 'task-column');
  const perColumn = listFlag(values, 'prompt-for-column');
  if (taskColumn === undefined && !perColumn.length) return null;
  if (taskColumn !== undefined && perColumn.length)
    throw new UsageError('Give either --task-column with --prompt TASK=ID, or --prompt-for-column COLUMN=ID, not both.');
  const pairs = (taskColumn !== undefined ? listFlag(values, 'prompt') : perColumn).map((p) => {
    const at = p.lastIndexOf('=');
    if (at <= 0 || at === p.length - 1)
      throw new UsageError(
        `"${p}" is not KEY=ID: write ${taskColumn !== undefined ? '--prompt TASK=ID' : '--prompt-for-column COLUMN=ID'}.`,
      );
    return { key: p.slice(0, at), id: p.slice(at + 1) };
  });
  if (!pairs.length) throw new UsageError('--task-column needs --prompt TASK=ID for each task value to label.');
  if (taskColumn === undefined && listFlag(values, 'prompt').length)
    throw new UsageError('With --prompt-for-column, name every prompt that way instead of --prompt.');
  const keys = pairs.map((p) => p.key);
  return {
    routing: taskColumn !== undefined ? { by: 'task-column', column: taskColumn, keys } : { by: 'text-column', columns: keys },
    ids: pairs.map((p) => p.id),
  };
}

/** Rows labelled, on a status line; its first line names the job (for --resume). */
function progressPrinter(): (p: LabelProgress) => void {
  const show = statusLine();
  return (p) => {
    const pct = p.totalRows ? ((100 * p.rowsDone) / p.totalRows).toFixed(1) : '100.0';
    const eta = p.etaS === null ? '' : ` · ETA ${Math.ceil(p.etaS)} s`;
    show(`${p.jobId}: ${p.rowsDone}/${p.totalRows} rows (${pct}%) · ${p.rowsPerS.toFixed(1)} rows/s${eta}`, p.rowsDone === p.totalRows);
  };
}

export const labelCommand: Command = {
  path: ['label'],
  fileFlag: 'input',
  summary: 'Label every row of a file with a tuned prompt (streaming, resumable); ends with a JSON summary',
  usage: `Usage: sprout label --prompt ID|NAME [--prompt ...] --input FILE [--output FILE] [options]
       sprout label --prompt-file FILE.safetensors --model MODEL (--labels A,B,... [--verbalisers X,Y,...] | --generate)
                    --input FILE [--output FILE] [options]
       sprout label --task-column COL --prompt TASK=ID|NAME [--prompt TASK=...] --input FILE [--output FILE] [options]
       sprout label --prompt-for-column TEXTCOL=ID|NAME [--prompt-for-column ...] --input FILE [--output FILE] [options]
       sprout label --resume JOB [--device D]
${MODEL_HELP}

Labels each row of INPUT (${Object.values(DATA_FORMAT_LABELS).join(', ')}) and writes OUTPUT: the input's
columns unchanged, then predicted_label, confidence, runner_up, margin, one p_<label> column per label (with
several prompts also agreement) and skipped_reason; a name the input already uses gets a suffix (_1, …). Rows
stay in input order; a row that cannot be labelled (empty text, missing column) is written with its reason.
Classification ranks the label texts by the model's log-likelihood; confidence is the softmax over them. A
two-label library prompt with a decision threshold (\`sprout library threshold\`) answers its positive label when
that label's probability reaches the threshold, and writes it in a threshold_<label> column; the summary's
decision names it (a single prompt only: ensembles and multi-task jobs answer the more probable label).

Prompt (several prompts of one task make an ensemble: majority vote, mean probabilities, agreement):
  --prompt ID|NAME        a library prompt; its task brings the template, label set and verbaliser, and its model
                          is used unless --model MODEL says otherwise
  --prompt-file FILE      or a prompt outside the library: a safetensors file with one float32 tensor [P, d_model],
                          with --model MODEL and the task given by these flags (which also give a library prompt
                          imported without a task, a PEFT adapter, its task):
  --labels A,B,...        the label set (output values); --verbalisers X,Y,... the texts scored (default: the labels)
  --generate              free-text task: greedy decoding, confidence = probability of the decoded text
  --task-template T       the task's input template, e.g. "premise: {premise} hypothesis: {hypothesis}"
Multi-task (library prompts, each with its own task's template, label set and verbaliser; one pass over the file,
rows of all tasks scored together in mixed-prompt batches):
  --task-column COL       the column naming each row's task; --prompt TASK=ID maps a value to a prompt. Output:
                          task, predicted_label, confidence, p_<label> for every label of every task (empty where
                          the row's task has no such label), skipped_reason; a row whose task has no prompt is skipped
  --prompt-for-column C=ID  label text column C with its own prompt (its template's one column reads C); output:
                          predicted_label_C, confidence_C, p_<label>_C per column, skipped_reason ("C: why" per column)
  label_counts in the summary are keyed TASK:LABEL (or COLUMN:LABEL).
Input:
  --input FILE  [${inputFormatFlag.help}] [${headerFlag.help}] [${quotingFlag.help}]
                [${separatorFlag.help}] [--sheet NAME] [${encodingFlag.help}]
  --text-column C        a text column, repeated for several ("C: value" pairs); or --template T to override the task's
  --label-column GOLD     a gold label column: adds accuracy, macro-F1 and the confusion matrix to the summary
Output:
  --output FILE  [${outputFormatFlag.help}] (default: from the output's extension, else the input's format;
                 JSON input gives JSON Lines, text CSV; a workbook gives a workbook; an extension that names another
                 format than --format is refused) [--overwrite]
                 A CSV output keeps a semicolon-separated input's separator, and a CSV/TSV output starts with a
                 byte order mark when its input was a workbook, had one or was read in a code page: Excel reads
                 UTF-8 only so.
                 Without --output: beside the input, named after it and the prompt (INPUT.PROMPT.labelled.EXT, -2,
                 -3, … where that name is taken by a file or another job). A job owns its output: writing over the
                 file of another job needs --replace-job JOB naming that job (--overwrite is not enough).
  Parquet and workbooks are written as FILE.part.jsonl while the job runs and converted when it ends.
Run:
  --batch-size ${LABEL_DEFAULTS.batchSize}  --length-normalise (softmax over mean per-token log-likelihoods)
  --max-input-length N    longer inputs keep their first N − 1 tokens and eos (default: the limit the prompt was
                          trained with; ${LABEL_DEFAULTS.maxInputTokens} for prompt files, imports and prompts from elsewhere)
  --max-new-tokens ${LABEL_DEFAULTS.maxNewTokens}  --commit-every ROWS (default ${LABEL_DEFAULTS.commitBatches} batches)  ${deviceFlag.help}  --threads N  ${precisionFlag.help}
  ${weightsFlag.help}  the frozen model's width (default: the width the prompts were trained on;
                          fp32 for prompt files and imports); a resumed job keeps its own
  ${computeFlag.help}   int8: int8 products, each input row quantised on its own (CPU only; t5-base about
                          2.5× faster, labels agree with float on 96–98 % of rows; see README "Frozen weights at
                          reduced width"); a resumed job keeps its own
  --resume JOB            continue a cancelled or crashed job from its last committed row
  --dry-run               print the job's memory plan (the model at the width and compute chosen, one batch of
                          inputs at the length limit scored against every label text) as JSON and stop; exit 1
                          when it does not fit in the memory free now

Ctrl-C cancels after committing the rows done; the summary names the job to --resume.
Summary (one JSON line): job_id, status, rows, total_rows, labelled, skipped, skipped_reasons, truncated,
rows_per_s, label_counts, agreement (ensembles), decision (positive, threshold, rule), accuracy (with --label-column).`,
  options: {
    prompt: { type: 'string', multiple: true },
    'task-column': { type: 'string' },
    'prompt-for-column': { type: 'string', multiple: true },
    'prompt-file': { type: 'string', multiple: true },
    model: { type: 'string' },
    labels: { type: 'string' },
    verbalisers: { type: 'string' },
    generate: { type: 'boolean', default: false },
    'task-template': { type: 'string' },
    input: { type: 'string' },
    'no-header': { type: 'boolean', default: false },
    sheet: { type: 'string' },
    'text-column': { type: 'string', multiple: true },
    template: { type: 'string' },
    'label-column': { type: 'string' },
    output: { type: 'string' },
    overwrite: { type: 'boolean', default: false },
    'replace-job': { type: 'string' },
    'batch-size': { type: 'string' },
    'length-normalise': { type: 'boolean', default: false },
    'max-input-length': { type: 'string' },
    'max-new-tokens': { type: 'string' },
    'commit-every': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    resume: { type: 'string' },
    threads: { type: 'string' },
  },
  choices: [
    inputFormatFlag,
    headerFlag,
    quotingFlag,
    separatorFlag,
    encodingFlag,
    outputFormatFlag,
    deviceFlag,
    precisionFlag,
    weightsFlag,
    computeFlag,
  ],
  async run({ values }) {
    const device = deviceFlag.read(values) ?? 'auto';
    const precision = precisionFlag.read(values) ?? 'auto';
    const weights = weightsFlag.read(values);
    const compute = computeFlag.read(values);
    const threads = threadsFlag(values);
    const sizes = jobSizes(values);
    const db = openLibrary(libraryPath(dataDir()));
    const interrupt = interruptSignal();
    let engine: LabelEngine | undefined;
    try {
      const control = { signal: interrupt.signal, onProgress: progressPrinter() };
      let result: LabelSummary;
      const resume = stringFlag(values, 'resume');
      if (values['dry-run']) {
        if (resume !== undefined) throw new UsageError('--dry-run plans a new job; drop --resume.');
        const plan = await planOf(sizes, { device, precision, compute }, chosenPrompts(db, values), weights);
        printJson({ dry_run: true, fits: plan.fits, plan, ...(plan.suggestion ? { hint: labelFitHint(plan.suggestion) } : {}) });
        return plan.fits ? 0 : 1;
      }
      if (resume !== undefined) {
        const job = getJob(db, resume);
        if (!job)
          throw new SproutError('label-unknown-job', `There is no labelling job "${resume}".`, {
            hint: 'Job ids are printed in the summary of `sprout label`.',
          });
        // Before loading the model: a job another process labels is refused at once (resumeLabelJob holds the lock).
        refuseIfWritten(jobWriter(db, resume));
        const routes = job.spec.routing?.routes;
        // A resumed job keeps its width, so that the rows it adds are labelled like the rows it has.
        engine = await loadEngine(
          job.spec.model,
          { device, threads, precision, compute: compute ?? job.spec.compute },
          weights ?? job.spec.weights ?? 'fp32',
          jobPrompts(db, job.spec.prompts, (i) => routes?.[i].task ?? job.spec.task),
        );
        result = await resumeLabelJob(db, resume, engine, control);
      } else {
        const load = { device, threads, precision, compute };
        result = await start(db, values, { sizes, load, weights }, control, (e) => (engine = e));
      }
      printRowsNote(db, result.job_id);
      printJson(result);
      return result.status === 'cancelled' ? 130 : 0;
    } finally {
      interrupt.dispose();
      await engine?.model.dispose();
      db.close();
    }
  },
};

/** Inputs cut to the length limit and rows left unlabelled, said on stderr before the summary. */
function printRowsNote(db: LibraryDb, jobId: string): void {
  const job = getJob(db, jobId);
  const note = job && rowsNote(job.spec, job.stats);
  if (!note) return;
  const raise = job.stats.truncated > 0 ? ' --max-input-length N raises the length limit (memory grows with it).' : '';
  process.stderr.write(`note: ${note}${raise}\n`);
}

/** By default a prompt labels on the weights it was trained on; one from outside Sprout (a prompt file, a PEFT import) was trained on float32 weights. */
function jobWidth(chosen: { weightWidth?: WeightWidth }, weights: WeightsChoice | undefined): WeightsChoice {
  return weights ?? chosen.weightWidth ?? 'fp32';
}

/** The sizes a job and its memory plan share, read before the library is opened so that a mistyped one fails first. */
type JobSizes = Pick<LabelJobOptions, 'batchSize' | 'maxInputTokens' | 'maxNewTokens'>;

function jobSizes(values: ParsedArgs['values']): JobSizes {
  return {
    batchSize: runLimitFlag(values, 'batch-size', 'batchSize'),
    maxInputTokens: maxInputLengthFlag(values),
    maxNewTokens: countFlag(values, 'max-new-tokens'),
  };
}

/** The job's memory plan (main/label/memory-plan.ts), printed on stderr as training prints its own. */
async function planOf(
  sizes: JobSizes,
  device: LoadOptions,
  chosen: ReturnType<typeof chosenPrompts>,
  weights: WeightsChoice | undefined,
): Promise<LabelPlan> {
  const plan = await planLabelling({
    model: chosen.model,
    tokenizer: await loadTokenizer(chosen.model),
    prompts: chosen.prompts,
    device: device.device ?? 'auto',
    weights: jobWidth(chosen, weights),
    compute: device.compute,
    ...sizes,
  });
  process.stderr.write(`${describePlan(plan)}\n`);
  return plan;
}

async function loadEngine(model: string, device: LoadOptions, weights: WeightsChoice, prompts: LabelPrompt[]): Promise<LabelEngine> {
  const loaded = await loadPromptModel(model, { ...device, weights, onPrepare: preparePrinter() });
  process.stderr.write(`labelling on ${providerRecord(loaded)}\n`);
  return { model: loaded, tokenizer: await loadTokenizer(model), prompts, modelRef: model };
}

async function start(
  db: LibraryDb,
  values: ParsedArgs['values'],
  { sizes, load: device, weights }: { sizes: JobSizes; load: LoadOptions; weights: WeightsChoice | undefined },
  control: Parameters<typeof startLabelJob>[3],
  loaded: (engine: LabelEngine) => void,
): Promise<LabelSummary> {
  const input = stringFlag(values, 'input');
  const output = stringFlag(values, 'output');
  if (input === undefined) throw new UsageError('--input FILE is required. Run `sprout label --help`.');
  // Before loading the model (startLabelJob checks again, the default output included).
  if (output !== undefined) checkOutputFile(output, dataDir(), 'output file');
  const chosen = chosenPrompts(db, values);
  const { prompts, model, routing } = chosen;
  const textColumns = listFlag(values, 'text-column');
  const options: LabelJobOptions = {
    input,
    inputFormat: inputFormatFlag.read(values),
    header: headerOption(values),
    quoting: quotingFlag.read(values),
    separator: separatorFlag.read(values),
    sheet: stringFlag(values, 'sheet'),
    encoding: encodingFlag.read(values),
    output,
    format: outputFormat(values, output),
    overwrite: values.overwrite === true,
    replaceJob: stringFlag(values, 'replace-job'),
    textColumns: textColumns.length ? textColumns : undefined,
    template: stringFlag(values, 'template'),
    goldColumn: stringFlag(values, 'label-column'),
    ...sizes,
    lengthNormalise: values['length-normalise'] === true,
    commitRows: countFlag(values, 'commit-every'),
    routing,
  };
  printHowRead(await checkJobInput(prompts, options));
  await planOf(sizes, device, chosen, weights);
  const engine = await loadEngine(model, device, jobWidth(chosen, weights), prompts);
  loaded(engine);
  return startLabelJob(db, engine, options, control);
}

/** How the input was read, as `sprout data preview` says it: a headerless file's first row is a row to label. */
function printHowRead(info: SourceInfo): void {
  const lines = [`input ${info.file}: ${readAs(info)}${info.header ? '' : ', no header'}`, ...readingNotes(info)];
  process.stderr.write(`${lines.join('\n')}\n`);
}
