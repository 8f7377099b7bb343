import type { T5Config } from '../checkpoint/config.js';
import type { DevicePreference, Precision } from '../choices.js';
import type { ComputeChoice, WeightWidth } from '../weights/width.js';

export type { DevicePreference, Precision } from '../choices.js';
/** Execution providers Sprout can ask onnxruntime for: the devices that name one. */
export type ProviderName = Exclude<DevicePreference, 'auto' | 'gpu'>;

/**
 * Token ids of one batch, ragged: the engine pads them (inputs with pad 0, targets with -100).
 * Inputs end with eos (1); targets are the label ids ending with eos, without the decoder start token.
 */
export interface Seq2SeqBatch {
  inputs: number[][];
  targets: number[][];
}

/** A soft prompt: P rows of d_model float32 values, row-major. */
export interface SoftPrompt {
  length: number; // P
  data: Float32Array; // [P * d_model]
}

/**
 * Several prompts in one batch (mixed-task batches): example i is run with prompts[promptIndex[i]].
 * Prompts may differ in length; shorter ones are padded and masked, which changes none of their numbers.
 */
export interface MixedPrompts {
  prompts: SoftPrompt[];
  promptIndex: number[];
}

export interface TrainStepOptions {
  /** Dropout rate inside the frozen model (SPoT: 0.1); 0 disables it. */
  dropout?: number;
  /** Seed for the dropout masks of this step, so that a resumed run repeats them. */
  dropoutSeed?: number;
  /** Coefficient of the z-loss term (Lester et al.: 1e-4); 0 disables it. */
  zLoss?: number;
  /**
   * The loss scale of this step, where the precision uses one (fp16; ignored otherwise; default
   * DEFAULT_LOSS_SCALE). A caller that passes it moves the scale itself: a gradient that is not finite then comes
   * back as `overflow` instead of an error, for it to skip the step and lower the scale.
   */
  lossScale?: number;
}

export interface TrainStepResult {
  /** HF convention: mean token cross-entropy over all non-ignored target tokens of the batch (+ z-loss if asked). */
  loss: number;
  perExampleLoss: Float32Array; // [B], mean over each example's target tokens
  targetTokens: number; // non-ignored target tokens in the batch
  gradPrompt: Float32Array; // [P * d_model], d loss / d prompt
  /** Set when the gradient is not finite at the loss scale the caller passed: the step must not be taken. */
  overflow?: boolean;
}

export interface MixedTrainStepResult extends Omit<TrainStepResult, 'gradPrompt'> {
  /** d loss / d prompts[k] for each prompt: the sum of the rows of the examples that used it. */
  gradPrompts: Float32Array[];
}

export interface ScoredAndGenerated {
  /** [B * C], as score gives them. */
  scores: Float32Array;
  /** Per input, as generate gives them. */
  generated: number[][];
}

/** The frozen T5 with graphs for training the prompt, rank scoring and greedy decoding. */
export interface PromptModel {
  readonly config: T5Config;
  /** The execution provider actually in use, e.g. "cpu" or "cuda"; `providerDetail` adds threads or the device name. */
  readonly provider: ProviderName;
  readonly providerDetail: string;
  /** Why this provider and not a better one (providers passed over, graphs that fell back); null when none was. */
  readonly providerReason: string | null;
  /** The compute dtype the graphs use, `auto` resolved. */
  readonly precision: Exclude<Precision, 'auto'>;
  /** How the frozen weights are held (main/weights/width.ts). */
  readonly weightWidth: WeightWidth;
  /** How scoring multiplies by them: float, or int8 products (label and evaluate; main/choices.ts). */
  readonly compute: ComputeChoice;
  /** Rows of the (input) embedding matrix shared.weight for the given ids, for prompt initialisation: [ids.length * d_model]. */
  embeddings(ids: number[]): Float32Array;
  trainStep(prompt: SoftPrompt, batch: Seq2SeqBatch, options?: TrainStepOptions): Promise<TrainStepResult>;
  /** Summed log-probability of each candidate for each input, encoder run once per input: [B * C], row-major. */
  score(prompt: SoftPrompt, inputs: number[][], candidates: number[][]): Promise<Float32Array>;
  /** trainStep with a prompt per example: one loss over the whole batch, a gradient per prompt. */
  trainStepMixed(mixed: MixedPrompts, batch: Seq2SeqBatch, options?: TrainStepOptions): Promise<MixedTrainStepResult>;
  /** score with a prompt and a candidate list per example (tasks may differ): per example, its candidates' scores. */
  scoreMixed(mixed: MixedPrompts, inputs: number[][], candidates: number[][][]): Promise<Float32Array[]>;
  /** Greedy decoding from the decoder start token; stops after eos or maxNewTokens. Ids exclude the start token. */
  generate(prompt: SoftPrompt, inputs: number[][], maxNewTokens: number): Promise<number[][]>;
  /** score and generate of the same inputs, with one encoder pass for both: what each alone returns. */
  scoreAndGenerate(prompt: SoftPrompt, inputs: number[][], candidates: number[][], maxNewTokens: number): Promise<ScoredAndGenerated>;
  dispose(): Promise<void>;
}
