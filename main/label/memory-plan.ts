/**
 * The memory plan of a labelling job before it loads anything (`sprout label --dry-run`, the Label step, and the
 * first line a job prints): the model at the width and compute the job will use, and one batch of its longest
 * allowed inputs scored against every label text (main/weights/memory-plan.ts counts them).
 */
import { readT5Config } from '../checkpoint/checkpoint.js';
import type { ComputeChoice, DevicePreference } from '../choices.js';
import { resolveWidth } from '../runtime/width-policy.js';
import { memoryPlan, suggestFit, type FitSuggestion, type MemoryPlan } from '../weights/memory-plan.js';
import type { WeightsChoice } from '../weights/width.js';
import { inputLimit, LABEL_DEFAULTS } from './job.js';
import type { LabelPrompt } from './types.js';

export interface LabelPlanRequest {
  model: string;
  tokenizer: { encode(text: string): number[] };
  prompts: LabelPrompt[];
  device: DevicePreference;
  weights: WeightsChoice;
  compute?: ComputeChoice;
  batchSize?: number;
  maxInputTokens?: number;
  maxNewTokens?: number;
}

export interface LabelPlan extends MemoryPlan {
  inputTokens: number;
  /** What would fit when the plan does not (a smaller batch, a narrower width, shorter inputs); null when it fits. */
  suggestion: FitSuggestion | null;
}

export async function planLabelling(r: LabelPlanRequest): Promise<LabelPlan> {
  const compute = r.compute ?? 'float';
  // int8 products hold their own int8 weights whatever width is asked (main/weights/store.ts).
  const width = compute === 'int8' ? 'int8' : await resolveWidth(r.weights, r.device);
  // The longest scored text (a label text or, for free text, the tokens decoded) and how many an example ranks.
  const targets = r.prompts.flatMap((p) =>
    p.task.kind === 'generation' ? [] : p.task.verbalisers.map((v) => r.tokenizer.encode(v).length),
  );
  const generation = r.prompts.some((p) => p.task.kind === 'generation');
  const input = {
    config: readT5Config(r.model),
    width,
    batch: r.batchSize ?? LABEL_DEFAULTS.batchSize,
    inputTokens: inputLimit(r.prompts, r.maxInputTokens),
    promptLength: Math.max(...r.prompts.map((p) => p.prompt.length)),
    targetTokens: Math.max(generation ? (r.maxNewTokens ?? LABEL_DEFAULTS.maxNewTokens) : 1, ...targets),
    sessions: 1,
    optimizerValuesPerParameter: 0,
    scoring: { candidates: Math.max(1, ...r.prompts.map((p) => (p.task.kind === 'generation' ? 1 : p.task.verbalisers.length))), compute },
  };
  const plan = memoryPlan(input);
  return { ...plan, inputTokens: input.inputTokens, suggestion: plan.fits ? null : suggestFit(input, plan.availableBytes) };
}

/** The hint of a plan that does not fit, in the CLI's words. */
export function labelFitHint(s: FitSuggestion): string {
  const tries = [
    ...(s.batch ? [`--batch-size ${s.batch}`] : []),
    ...(s.width ? [`--weights ${s.width}`] : []),
    ...(s.inputTokens ? [`--max-input-length ${s.inputTokens}`] : []),
  ];
  return tries.length
    ? `Try ${tries.join(', or ')}.`
    : "This model does not fit in this machine's memory at any width; use a smaller model.";
}
