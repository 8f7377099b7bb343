/**
 * The Hugging Face reference checks of test/runtime/hf-reference.test.ts, measured instead of asserted, so that the
 * device check can report how far a provider is from transformers' numbers and whether it is within tolerance.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadPromptModel } from '../../runtime/model.js';
import type { DevicePreference } from '../../runtime/types.js';

/** The fields of a fixture's reference.json (../shared/fixtures/README.md) that the checks read. */
export interface HfReference {
  input_ids: number[][];
  attention_mask: number[][];
  labels: number[][];
  prompt: number[][];
  loss: number;
  per_example_loss: number[];
  grad_prompt: number[][];
  encoder_last_hidden_state: number[][][];
  greedy: { ids: number[][] };
  rank_scores: { candidate_ids: number[][]; scores: number[][] };
}

/** The reference batch as the engine takes it: unpadded inputs, targets without -100, the prompt as float32. */
export function referenceBatch(ref: HfReference) {
  return {
    inputs: ref.input_ids.map((row, b) => row.filter((_, i) => ref.attention_mask[b][i] === 1)),
    targets: ref.labels.map((row) => row.filter((id) => id !== -100)),
    prompt: { length: ref.prompt.length, data: Float32Array.from(ref.prompt.flat()) },
  };
}

/**
 * fp32: the tolerances of the reference test (relative 1e-4 on losses and scores, 1e-3 relative L2 on the
 * gradient); fp16: those of test/runtime/fp16.test.ts (1e-2 relative on losses and scores, 5e-2 on the gradient).
 */
export const TOLERANCE = {
  fp32: { loss: 1e-4, gradient: 1e-3, hidden: 1e-4, scores: 1e-4 },
  fp16: { loss: 1e-2, gradient: 5e-2, hidden: 1e-2, scores: 1e-2 },
};

const relative = (a: number, b: number) => Math.abs(a - b) / Math.max(1, Math.abs(b));

export interface ReferenceResult {
  fixture: string;
  provider: string;
  precision: 'fp32' | 'fp16';
  loss_rel: number;
  per_example_loss_rel: number;
  grad_rel_l2: number;
  hidden_rel: number;
  scores_rel: number;
  greedy_equal: boolean;
  within_tolerance: boolean;
}

export async function checkReference(dir: string, device: DevicePreference, precision: 'fp32' | 'fp16'): Promise<ReferenceResult> {
  const ref = JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')) as HfReference;
  const { inputs, targets, prompt } = referenceBatch(ref);
  const model = await loadPromptModel(dir, { device, precision });
  const tolerance = TOLERANCE[precision];
  try {
    const step = await model.trainStep(prompt, { inputs, targets });
    const g = ref.grad_prompt.flat();
    const diff = Math.sqrt(g.reduce((s, v, i) => s + (step.gradPrompt[i] - v) ** 2, 0));
    const norm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
    const { hidden } = await model.encode(prompt, inputs);
    const hiddenRef = ref.encoder_last_hidden_state.flat(2);
    const scale = Math.max(1, ...hiddenRef.map(Math.abs));
    const scores = await model.score(prompt, inputs, ref.rank_scores.candidate_ids);
    const greedy = await model.generate(prompt, inputs, 8);
    const result = {
      fixture: dir.split(/[\\/]/).pop()!,
      provider: model.providerDetail,
      precision,
      loss_rel: relative(step.loss, ref.loss),
      per_example_loss_rel: Math.max(...ref.per_example_loss.map((v, i) => relative(step.perExampleLoss[i], v))),
      grad_rel_l2: diff / norm,
      hidden_rel: Math.max(...hiddenRef.map((v, i) => Math.abs(hidden[i] - v))) / scale,
      scores_rel: Math.max(...ref.rank_scores.scores.flat().map((v, i) => relative(scores[i], v))),
      greedy_equal: JSON.stringify(greedy) === JSON.stringify(ref.greedy.ids),
    };
    const within =
      result.loss_rel <= tolerance.loss &&
      result.per_example_loss_rel <= tolerance.loss &&
      result.grad_rel_l2 <= tolerance.gradient &&
      result.hidden_rel <= tolerance.hidden &&
      result.scores_rel <= tolerance.scores &&
      result.greedy_equal;
    return { ...result, within_tolerance: within };
  } finally {
    await model.dispose();
  }
}
