/**
 * Labels batches of tokenised inputs with one prompt or an ensemble of prompts of the same task.
 * Classification ranks the verbaliser texts by the engine's summed log-likelihood (encoder once per input);
 * an ensemble runs every (row, prompt) pair in mixed-prompt batches and votes. Free-text tasks decode greedily and
 * report the probability of the decoded text as the confidence.
 */
import { SproutError } from '../errors.js';
import type { PromptModel, SoftPrompt } from '../runtime/types.js';
import { decide } from '../train/threshold.js';
import { predict, type Prediction } from './confidence.js';
import type { LabelTask } from './types.js';

export interface LabelTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): string;
}

export interface ClassOutcome {
  kind: 'classification';
  prediction: Prediction;
  /** Share of the ensemble's prompts voting for the predicted label (1 for a single prompt). */
  agreement: number;
}

export interface TextOutcome {
  kind: 'generation';
  text: string;
  /** exp(summed log-likelihood of the decoded tokens, eos included when it was reached). */
  confidence: number;
}

export type Outcome = ClassOutcome | TextOutcome;

export interface ScorerOptions {
  batchSize: number;
  lengthNormalise: boolean;
  maxNewTokens: number;
}

export class Scorer {
  private readonly candidates: number[][];
  private readonly tokenCounts: number[];

  constructor(
    private readonly model: PromptModel,
    private readonly tokenizer: LabelTokenizer,
    private readonly prompts: readonly SoftPrompt[],
    private readonly task: LabelTask,
    private readonly options: ScorerOptions,
  ) {
    if (prompts.length === 0) throw new RangeError('at least one prompt is needed');
    if (task.kind === 'generation' && prompts.length > 1) {
      throw new SproutError(
        'label-ensemble-generation',
        'An ensemble of prompts can only vote on a classification task; this task generates free text.',
        {
          hint: 'Label with one --prompt.',
        },
      );
    }
    this.candidates = task.verbalisers.map((v) => tokenizer.encode(v));
    this.tokenCounts = this.candidates.map((c) => c.length);
  }

  /** Outcomes for `inputs` (token ids ending with eos), in the same order; batches are cut to `batchSize` examples. */
  async label(inputs: number[][]): Promise<Outcome[]> {
    const out: Outcome[] = [];
    const K = this.prompts.length;
    // An ensemble scores K examples per row; keep each engine batch at batchSize examples.
    const rowsPerBatch = Math.max(1, Math.floor(this.options.batchSize / K));
    for (let start = 0; start < inputs.length; start += rowsPerBatch) {
      const chunk = inputs.slice(start, start + rowsPerBatch);
      if (this.task.kind === 'generation') out.push(...(await this.generate(chunk)));
      else if (K === 1) out.push(...(await this.classifyOne(chunk)));
      else out.push(...(await this.classifyEnsemble(chunk)));
    }
    return out;
  }

  private async classifyOne(inputs: number[][]): Promise<ClassOutcome[]> {
    const C = this.candidates.length;
    const scores = await this.model.score(this.prompts[0], inputs, this.candidates); // [B * C]
    return inputs.map((_, b) => ({
      kind: 'classification',
      prediction: this.decided(predict(scores.subarray(b * C, (b + 1) * C), this.tokenCounts, this.options.lengthNormalise)),
      agreement: 1,
    }));
  }

  /** The task's decision threshold, where it has one, answers instead of the more probable label. */
  private decided(p: Prediction): Prediction {
    const decision = this.task.decision;
    if (!decision) return p;
    const best = decide(this.task.labels, p.probs, decision);
    if (best === p.best) return p;
    const runnerUp = 1 - best;
    // The answer is the less probable label here: its margin over the runner-up is negative, as the probabilities say.
    return { best, runnerUp, probs: p.probs, confidence: p.probs[best], margin: p.probs[best] - p.probs[runnerUp] };
  }

  private async classifyEnsemble(inputs: number[][]): Promise<ClassOutcome[]> {
    const K = this.prompts.length;
    const C = this.candidates.length;
    // Example b * K + k is row b under prompt k.
    const examples = inputs.flatMap((ids) => this.prompts.map(() => ids));
    const promptIndex = inputs.flatMap(() => this.prompts.map((_, k) => k));
    const scores = await this.model.scoreMixed(
      { prompts: [...this.prompts], promptIndex },
      examples,
      examples.map(() => this.candidates),
    );
    return inputs.map((_, b) => {
      const votes = new Array<number>(C).fill(0);
      const mean = new Float64Array(C);
      for (let k = 0; k < K; k++) {
        const p = predict(scores[b * K + k], this.tokenCounts, this.options.lengthNormalise);
        votes[p.best]++;
        p.probs.forEach((x, c) => (mean[c] += x / K));
      }
      // Majority vote; a tie goes to the label with the higher mean probability, then to the earlier label.
      let winner = 0;
      for (let c = 1; c < C; c++) if (votes[c] > votes[winner] || (votes[c] === votes[winner] && mean[c] > mean[winner])) winner = c;
      let runnerUp = -1;
      for (let c = 0; c < C; c++) if (c !== winner && (runnerUp < 0 || mean[c] > mean[runnerUp])) runnerUp = c;
      const prediction: Prediction = {
        best: winner,
        runnerUp,
        probs: mean,
        confidence: mean[winner],
        margin: runnerUp < 0 ? 0 : mean[winner] - mean[runnerUp],
      };
      return { kind: 'classification', prediction, agreement: votes[winner] / K };
    });
  }

  private async generate(inputs: number[][]): Promise<TextOutcome[]> {
    const prompt = this.prompts[0];
    const generated = await this.model.generate(prompt, inputs, this.options.maxNewTokens);
    // The decoded ids scored as each row's only candidate: its log-likelihood under the same prompt.
    const targets = generated.map((ids) => (ids.length ? ids : [this.model.config.eosTokenId]));
    const scores = await this.model.scoreMixed(
      { prompts: [prompt], promptIndex: inputs.map(() => 0) },
      inputs,
      targets.map((t) => [t]),
    );
    return generated.map((ids, b) => ({
      kind: 'generation',
      text: this.tokenizer.decode(ids, { skipSpecialTokens: true }),
      confidence: Math.exp(scores[b][0]),
    }));
  }
}
