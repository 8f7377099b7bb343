/**
 * A two-label prompt's decision threshold (main/train/threshold.ts): its curve on the validation rows of the dataset
 * it was trained on, and the threshold a person picks or derives from a target precision or recall, stored with the
 * prompt. The test rows play no part, so the test-split headline stays a fair measure of the chosen threshold.
 */
import type { PromptInfo, ThresholdView, ValidRequestOf } from '../../../preload/contract.js';
import type { ThresholdTarget } from '../../choices.js';
import { percentText } from '../../wording.js';
import { SproutError } from '../../errors.js';
import { splitCounts } from '../../library/datasets.js';
import type { LibraryDb } from '../../library/db.js';
import { requirePrompt, setPromptDecision, type PromptRecord } from '../../library/prompts.js';
import { getTask } from '../../library/tasks.js';
import { decisionText, pointAt, thresholdCurve, thresholdFor, type ThresholdCurve } from '../../train/threshold.js';
import type { EvalJobOutput } from '../../worker/jobs/eval.js';
import type { HandlerContext } from '../context.js';
import { scorePrompt } from './evaluation.js';
import { promptInfo } from './library.js';
import { libraryOf } from './library-connection.js';

interface Scored {
  prompt: PromptRecord;
  datasetId: number;
  labels: string[];
  gold: number[];
  probs: [number, number][];
}

/** Scores a prompt on a dataset's validation rows: in the app's engine worker, or in the CLI's own process. */
export type ScoreValidation = (prompt: PromptRecord, datasetId: number) => Promise<EvalJobOutput>;

/** The prompt's validation rows scored (probabilities do not depend on a threshold): what a curve is drawn from. */
async function scoreValidation(db: LibraryDb, promptId: number, score: ScoreValidation): Promise<Scored> {
  const prompt = requirePrompt(db, promptId);
  const datasetId = prompt.taskId === null ? null : (getTask(db, prompt.taskId)?.datasetId ?? null);
  if (datasetId === null) {
    throw new SproutError(
      'threshold-no-dataset',
      `Prompt ${promptId} was not trained on an imported dataset, so it has no validation rows to choose a threshold on.`,
      {
        hint: 'Train a prompt on an imported dataset with a validation share.',
      },
    );
  }
  if (splitCounts(db, datasetId).validation === 0) {
    throw new SproutError('threshold-no-validation', `Dataset ${datasetId} has no validation rows to choose a threshold on.`, {
      hint: 'Import it again with a validation share.',
    });
  }
  const out = await score(prompt, datasetId);
  if (!out.twoLabel) {
    throw new SproutError(
      'threshold-not-two-labels',
      `Prompt ${promptId} chooses among ${out.labels.length} labels; a decision threshold needs two.`,
      {
        hint: 'Thresholds are for yes/no tasks such as spam or not spam.',
      },
    );
  }
  return { prompt, datasetId, labels: out.labels, ...out.twoLabel };
}

function curveOf(s: Scored, positive: string): ThresholdCurve {
  const k = s.labels.indexOf(positive);
  if (k < 0) throw new SproutError('threshold-unknown-label', `"${positive}" is not one of the prompt's labels (${s.labels.join(', ')}).`);
  return thresholdCurve(
    positive,
    s.probs.map((p) => p[k]),
    s.gold.map((g) => g === k),
  );
}

/** The label a person most likely wants found: the stored decision's, else the rarer one on these rows. */
function defaultPositive(s: Scored): string {
  if (s.prompt.decision && s.labels.includes(s.prompt.decision.positive)) return s.prompt.decision.positive;
  const ones = s.gold.filter((g) => g === 1).length;
  return s.labels[ones <= s.gold.length - ones ? 1 : 0];
}

function view(db: LibraryDb, s: Scored, curve: ThresholdCurve): ThresholdView {
  const decision = requirePrompt(db, s.prompt.id).decision;
  return {
    promptId: s.prompt.id,
    datasetId: s.datasetId,
    labels: s.labels,
    curve,
    decision,
    rule: decision && decisionText(decision, s.labels),
    atHalf: pointAt(curve, 0.5),
  };
}

/** The curve of `positive` (default: the stored decision's label, else the rarer one) and the stored decision. */
export async function thresholdView(
  db: LibraryDb,
  promptId: number,
  positive: string | undefined,
  score: ScoreValidation,
): Promise<ThresholdView> {
  const scored = await scoreValidation(db, promptId, score);
  return view(db, scored, curveOf(scored, positive ?? defaultPositive(scored)));
}

export interface ThresholdChoice {
  promptId: number;
  positive: string;
  by: ThresholdTarget;
  value: number;
}

/** Stores the threshold picked, or the one that meets the target on the validation rows. */
export async function chooseThreshold(db: LibraryDb, r: ThresholdChoice, score: ScoreValidation): Promise<ThresholdView> {
  const scored = await scoreValidation(db, r.promptId, score);
  const curve = curveOf(scored, r.positive);
  const threshold = thresholdFor(curve, r.by, r.value);
  if (threshold === undefined) {
    const best = Math.max(...curve.points.map((p) => p[r.by as 'precision' | 'recall']));
    throw new SproutError(
      'threshold-unreachable',
      `No threshold reaches a ${r.by} of ${percentText(r.value)} for "${r.positive}" on the ${curve.examples} validation rows; the most is ${percentText(best)}.`,
      {
        hint: 'Choose a lower target, or pick the threshold yourself.',
      },
    );
  }
  const at = pointAt(curve, threshold);
  setPromptDecision(db, r.promptId, {
    positive: r.positive,
    threshold,
    chosenBy: r.by,
    target: r.value,
    examples: curve.examples,
    precision: at.precision,
    recall: at.recall,
  });
  return view(db, scored, curve);
}

/** The app's scorer: the engine worker, with weight preparation reported as `evaluation.preparing`. */
const inWorker =
  (context: HandlerContext): ScoreValidation =>
  (prompt, datasetId) =>
    scorePrompt(context, prompt, datasetId, 'validation', { worst: 0 });

export function thresholdCurveOf(context: HandlerContext, r: ValidRequestOf<'prompt.thresholdCurve'>): Promise<ThresholdView> {
  return thresholdView(libraryOf(context), r.promptId, r.positive, inWorker(context));
}

export function setThreshold(context: HandlerContext, r: ValidRequestOf<'prompt.setThreshold'>): Promise<ThresholdView> {
  return chooseThreshold(libraryOf(context), r, inWorker(context));
}

export function clearThreshold(context: HandlerContext, promptId: number): PromptInfo {
  const db = libraryOf(context);
  setPromptDecision(db, promptId, null);
  return promptInfo(db, requirePrompt(db, promptId));
}
