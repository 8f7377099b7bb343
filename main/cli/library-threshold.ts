import { THRESHOLD_TARGETS, THRESHOLD_TARGET_LABELS, type ThresholdTarget } from '../choices.js';
import { chooseThreshold, thresholdView, type ScoreValidation } from '../ipc/handlers/threshold.js';
import { promptModelPath } from '../library/prompt-model.js';
import { requirePrompt, setPromptDecision } from '../library/prompts.js';
import { dataDir } from '../paths.js';
import { evalReport } from '../worker/jobs/eval.js';
import { printJson, UsageError, type Command } from './command.js';
import { withLibrary } from './model-shared.js';
import { deviceFlag, numberFlag, threadsFlag } from './flags.js';
import { PROMPT_ID_HELP, idArgument } from './library-shared.js';
import { preparePrinter } from './prepare-printer.js';
import { midSentence } from '../wording.js';

const TARGET_HELP = THRESHOLD_TARGETS.map((t) => `--${t} X`).join(' | ');

function targetHelp(t: ThresholdTarget): string {
  const what = `  --${t} X   ${midSentence(THRESHOLD_TARGET_LABELS[t])}`;
  return t === 'threshold'
    ? what
    : `${what} (X from 0 to 1): the threshold that reaches it with the most ${t === 'precision' ? 'recall' : 'precision'}`;
}

export const libraryThresholdCommand: Command = {
  path: ['library', 'threshold'],
  summary: "Show a two-label prompt's precision and recall against the decision threshold, or set its threshold",
  usage: `Usage: sprout library threshold ID [--positive LABEL] [${TARGET_HELP} | --clear] [${deviceFlag.help}] [--threads N]
${PROMPT_ID_HELP}

Scores the validation rows of the dataset the prompt was trained on and prints, for the positive label (default:
the stored threshold's label, else the rarer label), its precision and recall at every threshold: the prompt
answers LABEL when p(LABEL) is at least the threshold, else the other label. With ${TARGET_HELP} the threshold is
stored with the prompt and used from then on wherever it labels (\`sprout label\`, the Label step) or is evaluated
(\`sprout evaluate\`, the Evaluate step), whose outputs name it:
${THRESHOLD_TARGETS.map(targetHelp).join('\n')}
--clear goes back to the more probable label.

Prints one JSON line: prompt_id, dataset, labels, positive, examples, positives, decision (stored: positive,
threshold, chosen_by, target, precision and recall on these rows; or null), rule, at_half (the more probable
label's point), points ([{threshold, precision, recall, predicted}], highest threshold first).`,
  options: {
    positive: { type: 'string' },
    ...Object.fromEntries(THRESHOLD_TARGETS.map((t) => [t, { type: 'string' as const }])),
    clear: { type: 'boolean' },
    threads: { type: 'string' },
  },
  positionals: true,
  choices: [deviceFlag],
  async run({ values, positionals }) {
    const { id } = await idArgument(positionals, 'threshold', 'none');
    const given = THRESHOLD_TARGETS.filter((t) => values[t] !== undefined);
    if (given.length + (values.clear ? 1 : 0) > 1) throw new UsageError(`Give one of ${TARGET_HELP} or --clear.`);
    const positive = values.positive as string | undefined;
    // Read first: a target out of range is what to fix, whatever else is missing.
    const target = given.length === 1 ? numberFlag(values, given[0], { fraction: true, min: 0, max: 1 }) : undefined;
    if (values.clear) {
      await withLibrary((db) => setPromptDecision(db, id, null));
      printJson({ prompt_id: id, decision: null });
      return;
    }
    const device = deviceFlag.read(values) ?? 'auto';
    const threads = threadsFlag(values);
    const view = await withLibrary((db) => {
      const score: ScoreValidation = (prompt, datasetId) =>
        evalReport(
          {
            dataDir: dataDir(),
            promptId: prompt.id,
            datasetId,
            split: 'validation',
            modelPath: promptModelPath(db, prompt),
            device,
            threads,
            worst: 0,
          },
          preparePrinter(),
          new AbortController().signal,
        );
      if (given.length === 0) return thresholdView(db, id, positive, score);
      // As the help says: the stored threshold's label, when there is one.
      const label = positive ?? requirePrompt(db, id).decision?.positive;
      if (label === undefined)
        throw new UsageError(
          'Say which label the threshold is for: --positive LABEL (the prompt has no stored threshold to take it from).',
        );
      return chooseThreshold(db, { promptId: id, positive: label, by: given[0], value: target! }, score);
    });
    const { curve, decision } = view;
    printJson({
      prompt_id: id,
      dataset: view.datasetId,
      labels: view.labels,
      positive: curve.positive,
      examples: curve.examples,
      positives: curve.positives,
      decision: decision && {
        positive: decision.positive,
        threshold: decision.threshold,
        chosen_by: decision.chosenBy,
        target: decision.target,
        precision: decision.precision,
        recall: decision.recall,
      },
      rule: view.rule ?? 'the more probable label',
      at_half: view.atHalf,
      points: curve.points,
    });
  },
};
