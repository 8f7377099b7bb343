/**
 * From the rank scores of one input's candidates to a prediction: probabilities are the softmax over the
 * candidates' summed log-likelihoods (or, length-normalised, over the mean log-likelihood per candidate token),
 * so they say how the model splits its belief among the label set, not how likely the label text is overall.
 */
export interface Prediction {
  /** Index into the label set of the most probable label. */
  best: number;
  /** Index of the second most probable label, -1 with a single label. */
  runnerUp: number;
  /** Probability of each label, summing to 1. */
  probs: Float64Array;
  confidence: number;
  /** confidence − probability of the runner-up (0 with a single label). */
  margin: number;
}

/**
 * `scores` holds one row's log-likelihoods, one per candidate; `tokenCounts` the candidates' lengths in tokens
 * (eos included), used when `lengthNormalise` is set. Ties go to the earlier label, as argmax does.
 */
export function predict(scores: ArrayLike<number>, tokenCounts: readonly number[], lengthNormalise: boolean): Prediction {
  const C = scores.length;
  const logits = Float64Array.from({ length: C }, (_, c) => (lengthNormalise ? scores[c] / tokenCounts[c] : scores[c]));
  return fromProbabilities(softmax(logits));
}

export function softmax(logits: Float64Array): Float64Array {
  const max = Math.max(...logits);
  const exp = logits.map((x) => Math.exp(x - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  return exp.map((x) => x / sum);
}

/** Best and runner-up of a probability vector (also used for ensemble means). */
export function fromProbabilities(probs: Float64Array): Prediction {
  let best = 0;
  for (let c = 1; c < probs.length; c++) if (probs[c] > probs[best]) best = c;
  let runnerUp = -1;
  for (let c = 0; c < probs.length; c++) if (c !== best && (runnerUp < 0 || probs[c] > probs[runnerUp])) runnerUp = c;
  const confidence = probs[best];
  return { best, runnerUp, probs, confidence, margin: runnerUp < 0 ? 0 : confidence - probs[runnerUp] };
}
