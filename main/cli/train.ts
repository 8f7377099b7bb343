import { percentText, score } from '../wording.js';
import { inLibrary } from '../library/run-records.js';
import { INIT_FORMS, type DevicePreference } from '../choices.js';
import { MIN_TASK_EMBEDDING_STEP, type DataSource, type TrainingConfigInput } from '../train/config.js';
import type { EvalSummary } from '../train/eval-summary.js';
import type { TaskStart, TrainingEvent } from '../train/events.js';
import { planTraining, runTraining, type TrainRequest } from '../train/run.js';
import { applyPreset, presetNames, presetSettings } from '../train/presets.js';
import { dataDir } from '../paths.js';
import { printJson, UsageError, type Command, type ParsedArgs } from './command.js';
import {
  fileReadChoices,
  fileReadFlags,
  FILE_READ_HELP,
  TEXT_READ_HELP,
  fileSource,
  requireDataset,
  taskFlags,
  type TaskFlags,
} from './data-shared.js';
import { MODEL_HELP, modelPathFlag, withLibrary } from './model-shared.js';
import {
  countFlag,
  deviceFlag,
  heldOutFlag,
  maxInputLengthFlag,
  metricFlag,
  numberFlag,
  optimizerFlag,
  parseNumber,
  precisionFlag,
  runLimitFlag,
  stringFlag,
  threadsFlag,
  weightsFlag,
} from './flags.js';
import { buildMixtureConfig } from './train-mixture.js';
import { describePlan, type MemoryPlan } from '../weights/memory-plan.js';
import { preparePrinter } from './prepare-printer.js';
import { DEFAULT_HELD_OUT } from '../data/split.js';
import { interruptSignal } from './interrupt.js';

export const trainCommand: Command = {
  path: ['train'],
  fileFlag: 'data',
  summary: 'Train a soft prompt on a frozen T5 (prompt tuning); ends with a JSON summary',
  usage: `Usage: sprout train --model MODEL (--data FILE [--validation FILE] | --dataset ID) --text-column C [--text-column C]...
                    --label-column L [--template T] [--verbalizer '0=unacceptable,1=acceptable'] [--prompt-length 20]
                    [--init ${INIT_FORMS.join('|')}] [${optimizerFlag.help}] [--lr X]
                    [--batch-size 32] [--steps 1000] [--eval-every 100] [--patience N] [--seed 0]
                    [--preset ${presetNames().join('|')}] [${deviceFlag.help}] [${precisionFlag.help}] [${weightsFlag.help}] [--dry-run] [--name NAME]
       sprout train --model MODEL --mixture dataset:ID[:template] --mixture dataset:ID[:template] ... [--shared-prompt]
                    [training and evaluation options]
       sprout train --resume RUN [--device D]

${MODEL_HELP}
Prompt tuning (Lester et al. 2021): every model weight stays frozen; only the prompt's rows are trained.
Defaults follow Lester et al.: Adafactor, constant lr 0.3, no parameter scaling, decay -0.8, update clipping 1.0,
weight decay 1e-5; 20 prompt rows initialised from the vocabulary. Adam(W) defaults to lr 0.01.
--preset lester-reference follows the Hugging Face reference recipe (README, "Same result as Hugging Face"): init
labels, Adafactor lr 0.3 / weight decay 1e-5, batch 32, seed 0, no bucketing (torch.randperm order), evaluation at
steps 0, 100, 250, 500, 1000 and the last, greedy decoding of at most 5 tokens. Options given explicitly win.

Data (same reading flags as \`sprout data import\`; columns by name, or 0-based index with --no-header):
  --data FILE ${FILE_READ_HELP}
              ${TEXT_READ_HELP} [--skip N] [--limit N]
  --validation FILE [--validation-skip N] [--validation-limit N] [--validation-sheet NAME]   or  --dataset ID (an
                       imported dataset with its validation and test splits)
                       --skip leaves out a file's first N records, --limit keeps the next N: two ranges of one file
  --test FILE [--test-skip N] [--test-limit N] [--test-sheet NAME]   the test split: scored once with the kept
                       prompt when the run ends (the score to report, since validation chose the step); a dataset's
                       own test split by default
  --split 0.1  --test-split 0.1   without --validation (or --test), these shares of each class of --data are held
                       out for validation (and the test split) by unique text, as \`sprout data import\` draws them
                       (same seed, same rows); 0 holds none out
  --text-column C (repeated for several)  --label-column L  --template T (default: the column, or "C: {C}"
                       pairs for several)
  --verbalizer MAP     label=words pairs; numeric labels must be given words
  --max-input-length 512  --max-target-length 32   (longer texts are cut, keeping eos; the count is reported)
Training:
  --prompt-length 20  --init vocab  --optimizer adafactor  --lr X  --weight-decay X  --batch-size 32
  --micro-batch-size N (accumulate gradients; halved automatically if the device runs out of memory)
  --steps 1000  --seed 0  --grad-clip NORM  --z-loss X  --dropout P  --no-bucketing  --threads N
  ${precisionFlag.help} (auto: fp32 on the CPU, bf16 on CUDA, fp16 on other GPUs; fp16 and bf16 keep
                  the prompt, its gradient, the residual stream, softmax, norm statistics and the loss in float32;
                  fp16 scales the loss)
Weights and memory:
  ${weightsFlag.help} (default auto: bf16 on the CPU, fp16 on a GPU) — width of the frozen model; the prompt, its
  gradient and the optimiser stay float32. int8 is built once per model into <data dir>/cache/weights.
  Before it starts, a run prints its memory plan (model, activations, optimiser) and refuses to start, naming a
  smaller --micro-batch-size, a narrower --weights or a shorter --max-input-length, when it would not fit in the
  memory free now. --dry-run prints the plan as JSON and stops.
Evaluation (on the validation data):
  --eval-every 100  --eval-steps 100,250,...  --eval-limit N  --eval-at-start  --max-new-tokens N (greedy decoding;
      default: the longest label)  --patience EVALS
  ${metricFlag.help}  the metric the best prompt is kept by; auto (default): MCC
      (two labels) or macro-F1 when the training labels are imbalanced (largest class ≥ 1.5 × the smallest), else
      accuracy
  --task-embedding-step N (default 10% of --steps, at least ${MIN_TASK_EMBEDDING_STEP} or the last step: the prompt kept for transfer ranking)
Mixture of tasks (--mixture, repeated: imported datasets, each with its own template, label column, validation
split and the label words of its latest run): examples-proportional mixing — the datasets' examples are pooled and each batch is drawn from the seeded
order over the pool. Each task trains its own prompt in shared mixed-prompt batches (own optimiser state, own
best prompt by its own validation metric), or with --shared-prompt one prompt for the whole mixture (kept by the
mean metric over the tasks). Every training, evaluation and checkpoint option applies to a mixture as to a single
task (it is the same loop); --limit caps each dataset. The JSON ends with tasks: one entry per task (task, task_id,
prompt_id, train_examples, best, best_step, metric, metric_reason, baselines, warnings, prompt_file); every prompt
is stored in the library with its task.
Checkpoints: --checkpoint-every 100; Ctrl-C stops after the current step with a checkpoint; --resume RUN continues
it (bit for bit on the CPU with the same seed).

Progress goes to stderr. The last line on stdout is JSON: run_id, prompt_id, status, steps, first_loss and last_loss
(mean training loss of the first and last 10% of steps), best (validation metrics of the kept prompt), best_step, test
(the kept prompt on the test split, scored once at the end: its metrics, the test rows' baselines, majority and
zero_shot (the initial prompt on them), and warnings; null without a test split), examples_per_s, provider,
provider_reason, precision, prompt_file, task_embedding_file, metric and metric_reason (what the best prompt was kept
by), baselines (majority: always answering the most frequent validation label; zero_shot: the initial prompt at step
0), warnings (about the headline evaluation, the test split's else the best validation's: predictions (nearly) one
label, a class it misses, metric not above the majority or the zero-shot baseline), notes (data notes, then the
warnings).`,
  options: {
    model: { type: 'string' },
    data: { type: 'string' },
    validation: { type: 'string' },
    dataset: { type: 'string' },
    ...fileReadFlags,
    limit: { type: 'string' },
    skip: { type: 'string' },
    'validation-limit': { type: 'string' },
    'validation-skip': { type: 'string' },
    'validation-sheet': { type: 'string' },
    test: { type: 'string' },
    'test-limit': { type: 'string' },
    'test-skip': { type: 'string' },
    'test-sheet': { type: 'string' },
    split: { type: 'string' },
    'test-split': { type: 'string' },
    'text-column': { type: 'string', multiple: true },
    'label-column': { type: 'string' },
    template: { type: 'string' },
    verbalizer: { type: 'string' },
    'max-input-length': { type: 'string' },
    'max-target-length': { type: 'string' },
    'prompt-length': { type: 'string' },
    init: { type: 'string' },
    lr: { type: 'string' },
    'weight-decay': { type: 'string' },
    'batch-size': { type: 'string' },
    'micro-batch-size': { type: 'string' },
    steps: { type: 'string' },
    'eval-every': { type: 'string' },
    'eval-limit': { type: 'string' },
    'eval-steps': { type: 'string' },
    'eval-at-start': { type: 'boolean', default: false },
    'max-new-tokens': { type: 'string' },
    preset: { type: 'string' },
    patience: { type: 'string' },
    seed: { type: 'string' },
    'grad-clip': { type: 'string' },
    'z-loss': { type: 'string' },
    dropout: { type: 'string' },
    'no-bucketing': { type: 'boolean', default: false },
    threads: { type: 'string' },
    'checkpoint-every': { type: 'string' },
    'task-embedding-step': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    name: { type: 'string' },
    resume: { type: 'string' },
    mixture: { type: 'string', multiple: true },
    'shared-prompt': { type: 'boolean', default: false },
  },
  choices: [...fileReadChoices, deviceFlag, precisionFlag, weightsFlag, optimizerFlag, metricFlag],
  async run(args) {
    const request = await buildRequest(args);
    if (args.values['dry-run']) {
      if (!('config' in request)) throw new UsageError('--dry-run plans a new single-task run; drop --resume and --mixture.');
      const plan = await planTraining(request.config, { ...inLibrary(dataDir()) });
      process.stderr.write(`${describePlan(plan)}\n`);
      printJson({ dry_run: true, fits: plan.fits, plan });
      return plan.fits ? 0 : 1;
    }
    const interrupt = interruptSignal('stopping after this step (a checkpoint is kept)…');
    try {
      const hooks = {
        ...inLibrary(dataDir()),
        signal: interrupt.signal,
        onProgress: progressPrinter('config' in request && 'holdOut' in request.config.train ? request.config.train.holdOut : undefined),
        onPrepare: preparePrinter(),
        onPlan: (plan: MemoryPlan) => process.stderr.write(`${describePlan(plan)}\n`),
      };
      const result = await runTraining(request, hooks);
      // The run's id is known only once it has started: the stopping line cannot name it.
      if (result.status === 'cancelled') process.stderr.write(`resume with: sprout train --resume ${result.run_id}\n`);
      printJson(result);
      return result.status === 'cancelled' ? 130 : 0;
    } finally {
      interrupt.dispose();
    }
  },
};

async function buildRequest({ values }: ParsedArgs): Promise<TrainRequest> {
  const str = (k: string) => stringFlag(values, k);
  const device = deviceFlag.read(values);
  const resume = str('resume');
  if (resume !== undefined) {
    const extra = Object.keys(values).filter(
      (k) => values[k] !== undefined && values[k] !== false && k !== 'resume' && k !== 'device' && k !== 'dry-run',
    );
    if (extra.length) throw new UsageError(`--resume continues a run with its own settings; drop --${extra.join(', --')}.`);
    return { resume, device };
  }
  const named = str('model');
  if (!named) throw new UsageError('Give the model: --model MODEL (a model id or folder). Run `sprout train --help` for usage.');
  const model = await modelPathFlag(named);
  if (values.mixture !== undefined) {
    if (values.preset !== undefined)
      throw new UsageError("--preset applies to single-task training; give the mixture's settings as options.");
    const limits = {
      maxInputLength: maxInputLengthFlag(values),
      maxTargetLength: countFlag(values, 'max-target-length'),
      limit: countFlag(values, 'limit'),
    };
    return { mixture: await buildMixtureConfig(values, settingsFrom(values, model, device), limits) };
  }
  if (values['shared-prompt'])
    throw new UsageError('--shared-prompt trains one prompt for a --mixture of datasets; give the datasets with --mixture dataset:ID.');
  const data = str('data');
  const datasetId = countFlag(values, 'dataset');
  if ((data === undefined) === (datasetId === undefined))
    throw new UsageError('Give the training data: --data FILE or --dataset ID (one of them).');
  const validationFile = str('validation');
  const validation = validationFile === undefined ? undefined : fileSource(values, validationFile, 'validation-');
  let task: TaskFlags;
  let train: DataSource;
  if (datasetId !== undefined) {
    if (str('split') !== undefined || str('test-split') !== undefined)
      throw new UsageError('--split and --test-split hold shares out of a --data file; a dataset has its splits from its import.');
    task = taskFlags(values, await withLibrary((db) => requireDataset(db, datasetId)));
    if (!task.labelColumn) throw new UsageError(`Dataset ${datasetId} has no label column, so it cannot train a prompt.`);
    train = { dataset: datasetId, limit: countFlag(values, 'limit') };
  } else {
    task = taskFlags(values);
    if (!task.labelColumn) throw new UsageError('Name the label column: --label-column L.');
    if (!task.template) throw new UsageError('Name the text column(s): --text-column C (or give --template T).');
    train = { ...fileSource(values, data!), ...holdOutOf(values, validationFile !== undefined) };
  }
  const testFile = str('test');
  const given: TrainingConfigInput = {
    ...settingsFrom(values, model, device),
    train,
    validation,
    test: testFile === undefined ? undefined : fileSource(values, testFile, 'test-'),
    task: {
      template: task.template!,
      labelColumn: task.labelColumn,
      verbalizer: task.verbalizer,
      maxInputLength: maxInputLengthFlag(values),
      maxTargetLength: countFlag(values, 'max-target-length'),
    },
  };
  const preset = str('preset');
  return { config: preset === undefined ? given : applyPreset(given, presetSettings(preset)) };
}

/**
 * The shares of the training file held out by unique text: --split (validation, unless --validation gives a file)
 * and --test-split (unless --test gives one), 10 % each by default, as the app's import draws them. Said when the run
 * starts (holdOutNote), so that a command refused before then still fails in one line.
 */
function holdOutOf(values: ParsedArgs['values'], ownValidation: boolean): { holdOut?: { validation: number; test: number; seed: number } } {
  const share = (flag: 'split' | 'test-split', fallback: number) => heldOutFlag(values, flag) ?? fallback;
  if (ownValidation && values.split !== undefined)
    throw new UsageError('--split holds validation rows out of --data; with --validation FILE there is nothing to hold out for it.');
  const validation = ownValidation ? 0 : share('split', DEFAULT_HELD_OUT.validation);
  const test = values.test !== undefined ? 0 : share('test-split', ownValidation ? 0 : DEFAULT_HELD_OUT.test);
  if (validation + test >= 1) throw new UsageError(`--split ${validation} and --test-split ${test} leave no rows to train on.`);
  if (validation + test === 0) return {};
  const seed = runLimitFlag(values, 'seed', 'seed') ?? 0;
  return { holdOut: { validation, test, seed } };
}

function holdOutNote({ validation, test, seed }: { validation: number; test: number; seed: number }): string {
  const parts = [
    validation ? `${Math.round(validation * 100)} % for validation` : '',
    test ? `${Math.round(test * 100)} % for the test split` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  return (
    `holding ${parts} out of each class of the training file, by unique text with seed ${seed}, ` +
    'as `sprout data import` does (--split/--test-split change the shares)'
  );
}

/** The settings every run takes from the command line, single task or mixture. */
function settingsFrom(
  values: ParsedArgs['values'],
  model: string,
  device: DevicePreference | undefined,
): Omit<TrainingConfigInput, 'train' | 'validation' | 'task'> {
  const int = (k: string) => countFlag(values, k);
  const num = (k: string) => numberFlag(values, k, { fraction: true });
  return {
    model,
    device: device ?? 'auto',
    precision: precisionFlag.read(values),
    weights: weightsFlag.read(values),
    threads: threadsFlag(values),
    promptLength: runLimitFlag(values, 'prompt-length', 'promptLength'),
    init: stringFlag(values, 'init'),
    optimizer: { kind: optimizerFlag.read(values) ?? 'adafactor', lr: num('lr'), weightDecay: num('weight-decay') },
    batchSize: runLimitFlag(values, 'batch-size', 'batchSize'),
    microBatchSize: runLimitFlag(values, 'micro-batch-size', 'batchSize'),
    steps: runLimitFlag(values, 'steps', 'steps'),
    evalEvery: runLimitFlag(values, 'eval-every', 'evalEvery'),
    evalLimit: runLimitFlag(values, 'eval-limit', 'evalLimit'),
    evalSteps: intList(stringFlag(values, 'eval-steps'), '--eval-steps'),
    evalAtStart: values['eval-at-start'] === true || undefined,
    maxNewTokens: int('max-new-tokens'),
    patience: runLimitFlag(values, 'patience', 'patience'),
    metric: metricFlag.read(values),
    seed: runLimitFlag(values, 'seed', 'seed'),
    maxGradNorm: num('grad-clip'),
    zLoss: num('z-loss'),
    dropout: num('dropout'),
    checkpointEvery: int('checkpoint-every'),
    taskEmbeddingStep: int('task-embedding-step'),
    bucketing: values['no-bucketing'] === true ? false : undefined,
    name: stringFlag(values, 'name'),
  };
}

/** `100,250,500`: step numbers, comma-separated. */
function intList(value: string | undefined, flag: string): number[] | undefined {
  return value?.split(',').map((v) => parseNumber(v.trim(), flag, { min: 1 }));
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`;
}

const evalLine = (s: EvalSummary) =>
  `rank accuracy ${percentText(s.rank_accuracy)}, exact match ${percentText(s.exact_match)}, macro-F1 ${score(s.macro_f1)}, MCC ${score(s.mcc)}`;

/** How a task's prompt is judged, said before training; a mixture's lines name the task and its data. */
function startLines(t: TaskStart, prefix: string): string[] {
  const lines = [
    `${prefix}${prefix ? `${t.trainExamples} training, ${t.validationExamples} validation and ${t.testExamples} test examples; ` : ''}` +
      `keeping the best prompt by ${t.metric.reason}`,
  ];
  const m = t.majority;
  if (m)
    lines.push(
      `${prefix}majority-class baseline: always "${m.label}" (${percentText(m.share)} of the validation examples)` +
        `: accuracy ${percentText(m.rank_accuracy)}, macro-F1 ${score(m.macro_f1)}, MCC ${score(m.mcc)}`,
    );
  return lines;
}

type EventOf<K extends TrainingEvent['kind']> = Extract<TrainingEvent, { kind: K }>;

/** The lines that open a run: its data and device, the hold-out (said once, not again on resume), notes, each task's start. */
function startedLines(e: EventOf<'started'>, holdOut?: Parameters<typeof holdOutNote>[0]): string[] {
  const resumed = e.resumedAt !== null ? ` resumed at step ${e.resumedAt}` : '';
  const device = `${e.steps} steps on ${e.providerDetail}${e.providerReason ? ` (${e.providerReason})` : ''}`;
  const data = (t: TaskStart) =>
    `${t.trainExamples} training, ${t.validationExamples} validation and ${t.testExamples} test examples` +
    `, ${t.labels.length ? `labels ${t.labels.join(', ')}` : 'free-text targets'}`;
  const [only, ...more] = e.tasks;
  const lines = [`run ${e.runId}${resumed}: ${more.length ? `${e.tasks.length} tasks` : data(only)}, ${device}`];
  if (holdOut && e.resumedAt === null) lines.push(holdOutNote(holdOut));
  for (const n of e.notes) lines.push(`note: ${n}`);
  for (const t of e.tasks) lines.push(...startLines(t, more.length ? `task "${t.name}": ` : ''));
  return lines;
}

function stepLine(e: EventOf<'step'>): string {
  const ev = e.latestEval
    ? `  [eval@${e.latestEval.step} rank ${percentText(e.latestEval.rank_accuracy)} exact ${percentText(e.latestEval.exact_match)}]`
    : '';
  return (
    `step ${e.step}/${e.steps}  loss ${e.loss.toFixed(4)}  lr ${e.lr}` +
    `  ${e.examplesPerS.toFixed(1)} ex/s  eta ${e.etaS === null ? '…' : duration(e.etaS)}${ev}`
  );
}

/** Progress lines on stderr: about 100 step lines per run, and every evaluation, checkpoint and notice. */
function progressPrinter(holdOut?: Parameters<typeof holdOutNote>[0]): (e: TrainingEvent) => void {
  let every = 1;
  let estimated = false;
  const line = (s: string) => process.stderr.write(`${s}\n`);
  let names: string[] = [];
  // A mixture's evaluations name their task.
  const of = (task: number) => (names.length > 1 ? ` of "${names[task]}"` : '');
  return (e) => {
    switch (e.kind) {
      case 'started':
        every = Math.max(1, Math.floor(e.steps / 100));
        names = e.tasks.map((t) => t.name);
        startedLines(e, holdOut).forEach(line);
        break;
      case 'zero-shot':
        line(`zero-shot baseline (the initial prompt)${of(e.task)}: ${evalLine(e.summary)}`);
        break;
      case 'step':
        if (e.etaS !== null && !estimated) {
          estimated = true;
          line(
            `time estimate: about ${duration(e.etaS)} for the remaining ${e.steps - e.step} steps` +
              `, from the steps after the first (which also builds the model's sessions); evaluations add to it`,
          );
        }
        if (e.step % every === 0 || e.step === e.steps) line(stepLine(e));
        break;
      case 'eval':
        line(`eval step ${e.step}${of(e.task)}: ${evalLine(e.summary)}${e.improved ? ' (best so far)' : ''}`);
        for (const w of e.warnings) line(`warning: ${w}`);
        break;
      case 'testing':
        line(
          `scoring the prompt kept from step ${e.step} on the ${e.examples} test examples${of(e.task)}` +
            `: once, never to choose a step, so this is the score to report (and the initial prompt beside it)`,
        );
        break;
      case 'test':
        line(`test split${of(e.task)} (${e.score.examples} examples, the prompt kept from step ${e.score.step}): ${evalLine(e.score)}`);
        if (e.score.zero_shot) line(`test split${of(e.task)}, the initial prompt (zero-shot baseline): ${evalLine(e.score.zero_shot)}`);
        for (const w of e.score.warnings) line(`warning: ${w}`);
        break;
      case 'notice':
        line(`note (step ${e.step}): ${e.message}`);
        break;
      case 'paused':
      case 'resumed':
        line(`${e.kind} at step ${e.step}`);
        break;
      case 'checkpoint':
        break;
    }
  };
}
