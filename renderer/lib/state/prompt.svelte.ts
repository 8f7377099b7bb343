import {
  RUN_LIMITS,
  type InitKind,
  type MetricRequest,
  type OptimizerKind,
  type Precision,
  type RunLimited,
} from '../../../main/choices.js';
import type { Device, PromptInfo, RequestOf, TransferProgress, TransferRanking, WeightWidth } from '../../../preload/contract.js';
import { DEFAULT_PROBES, DEFAULT_SIMILARITY_METRIC, MAX_PROBES, type SimilarityMetric } from '../../../main/transfer/similarity.js';
import type { ApiError } from '../api.js';
import { api, onEvent } from '../api.js';
import { count, counted } from '../format.js';
import { asApiError } from './errors.js';
import { RunMemoryPlan } from './memory-plan.svelte.js';

/**
 * Step 3: the soft prompt's length and starting point, the transfer source chosen from the SPoT ranking
 * (`null` = no transfer, always allowed), and the training settings kept folded away.
 */
export class PromptSetup {
  name = $state('');
  length = $state(20);
  /** The start when no transfer source is chosen (`source` covers a library prompt). */
  init = $state<Exclude<InitKind, 'prompt'>>('vocab');
  initText = $state('');
  ranking = $state.raw<TransferRanking | undefined>();
  /** Library prompt to start from; null trains from the chosen initialisation. */
  source = $state<number | null>(null);
  rankingFor = '';
  /** The settings the shown ranking's probes trained with (probeRecipe()), as JSON. */
  private rankedWith = $state('');
  metric = $state<SimilarityMetric>(DEFAULT_SIMILARITY_METRIC);
  /** How many early prompts of this task the ranking averages over (probing for those not stored); fewer is faster. */
  probes = $state<number | null>(DEFAULT_PROBES);
  /** The library holds no prompt of this model: only "no transfer" is possible. */
  emptyLibrary = $state(false);
  optimizer = $state<OptimizerKind>('adafactor');
  /** Null trains at the chosen optimiser's own rate (DEFAULT_LR), which the field shows. */
  lr = $state<number | null>(null);
  batchSize = $state(8);
  steps = $state(200);
  evalEvery = $state(50);
  /** Null evaluates every validation example, as `sprout train` does, so both keep the same prompt from one run. */
  evalLimit = $state<number | null>(null);
  patience = $state<number | null>(null);
  /** The metric the best prompt is kept by; auto: MCC or macro-F1 when the labels are imbalanced. */
  keepBy = $state<MetricRequest>('auto');
  seed = $state(0);
  /** Null leaves it to the settings' default device, as `weights` does the width. */
  device = $state<Device | null>(null);
  precision = $state<Precision>('auto');
  /** Width of the frozen weights; null leaves it to the settings' default. */
  weights = $state<WeightWidth | null>(null);
  /** Longest input in tokens (longer ones are truncated); null leaves it to the engine's DEFAULT_MAX_INPUT_LENGTH. */
  maxInputLength = $state<number | null>(null);
  readonly memory = new RunMemoryPlan();
  rankingBusy = $state(false);
  /** The probe run the ranking waits on, while it trains one. */
  probeProgress = $state.raw<TransferProgress | undefined>();
  /** Why the last ranking has no result because it was stopped (what of it is kept); cleared by the next ranking. */
  stopped = $state<string | undefined>();
  error = $state.raw<ApiError | undefined>();
  /** The dataset whose ranking is in flight, so that it can be stopped. */
  private rankingDataset: number | undefined;
  private inFlight: Promise<void> = Promise.resolve();
  /** Counts stops: a ranking asked for before the last stop and still waiting its turn is dropped with it. */
  private stops = 0;

  /**
   * Asks for the ranking of library prompts for this model and dataset, and preselects the recommendation. With
   * no other prompt of this model in the library there is nothing to rank, so the engine's probe run is skipped.
   */
  rank(modelId: string, datasetId: number, verbalizer?: Record<string, string>): Promise<void> {
    // A stopped ranking lets go only after its probe's current step: the next one waits, so that the two never share
    // the busy flag, nor the stop meant for the first.
    const previous = this.inFlight;
    const stops = this.stops;
    this.inFlight = previous.then(() => (stops === this.stops ? this.rankOnce(modelId, datasetId, verbalizer) : undefined));
    return this.inFlight;
  }

  private async rankOnce(modelId: string, datasetId: number, verbalizer?: Record<string, string>): Promise<void> {
    const asked = this.probes;
    const probes = asked !== null && Number.isInteger(asked) && asked >= 1 && asked <= MAX_PROBES ? asked : DEFAULT_PROBES;
    const recipe = this.probeRecipe();
    let others: PromptInfo[];
    try {
      others = await api['library.list']({ modelId });
    } catch (error) {
      this.error = asApiError(error);
      return;
    }
    this.dropDeleted(others);
    // The library's prompts are part of what was ranked: one deleted since is no source, one added may be the best.
    const key = `${modelId}/${datasetId}/${this.metric}/${probes}/${JSON.stringify(recipe)}/${others.map((p) => p.id).join(',')}`;
    if (this.rankingFor === key) return;
    this.rankingBusy = true;
    this.rankingDataset = datasetId;
    this.stopped = undefined;
    const stop = onEvent('transfer.progress', (p) => {
      if (p.datasetId === datasetId) this.probeProgress = p;
    });
    try {
      this.emptyLibrary = others.length === 0;
      if (this.emptyLibrary) {
        this.ranking = undefined;
        this.source = null;
      } else {
        this.ranking = await api['transfer.rank']({
          modelId,
          datasetId,
          metric: this.metric,
          probes,
          ...(verbalizer ? { verbalizer } : {}),
          probe: recipe,
        });
        this.source = this.ranking.recommended;
        this.rankedWith = JSON.stringify(recipe);
      }
      this.rankingFor = key;
      this.error = undefined;
    } catch (error) {
      const e = asApiError(error);
      if (e.code === 'cancelled') this.stopped = e.message;
      else this.error = e;
    } finally {
      stop();
      this.probeProgress = undefined;
      this.rankingBusy = false;
      this.rankingDataset = undefined;
    }
  }

  /** A ranking shown while a new one is asked for (or after it was stopped) offers no prompt deleted since. */
  private dropDeleted(present: PromptInfo[]): void {
    if (!this.ranking) return;
    const ids = new Set(present.map((p) => p.id));
    const candidates = this.ranking.candidates.filter((c) => ids.has(c.promptId));
    if (candidates.length !== this.ranking.candidates.length) this.ranking = { ...this.ranking, candidates };
    if (this.source !== null && !ids.has(this.source)) this.source = null;
  }

  /**
   * Stops the ranking in flight: its probe runs would otherwise go on taking the cores, after the person stopped
   * waiting for them or left the step. The probes that finished are stored and the next ranking reuses them.
   */
  async stopRanking(): Promise<void> {
    this.stops++;
    if (this.rankingDataset === undefined) return;
    try {
      await api['transfer.cancel']({ datasetId: this.rankingDataset });
    } catch (error) {
      this.error = asApiError(error);
    }
  }

  /** No library prompt can be a source for this task: how to rank sources is then no question to ask. */
  get nothingToRank(): boolean {
    return this.emptyLibrary || this.ranking?.candidates.length === 0;
  }

  /**
   * The run's settings are no longer those the ranking's probes trained with. An early prompt depends on them as much
   * as on the task, so the ranking may not hold for this run; ranking again probes with these (not done unasked: a
   * ranking trains several probe runs).
   */
  get recipeChanged(): boolean {
    const probed = (this.ranking?.target.embeddings.length ?? 0) > 0;
    return probed && this.rankedWith !== JSON.stringify(this.probeRecipe());
  }

  /** Which early prompts of this task the similarities average over, in words. */
  get targetNote(): string {
    const all = this.ranking?.target.embeddings ?? [];
    const probed = all.filter((e) => e.runId !== null);
    if (all.length === 0) return '';
    const runs = (n: number) => `${counted(n, 'probe run')} of ${probed[0].step} steps just now`;
    const from =
      probed.length === 0
        ? 'kept from earlier runs'
        : probed.length === all.length
          ? runs(probed.length)
          : `${all.length - probed.length} kept from earlier runs, ${runs(probed.length)}`;
    const what = all.length === 1 ? "this task's early prompt" : `${all.length} early prompts of this task`;
    return ` Similarities compare ${what} (${from}).`;
  }

  /** The settings a probe of this task trains with: these, so that it is compared with sources trained alike. */
  private probeRecipe(): RequestOf<'transfer.rank'>['probe'] {
    const positive = (v: number | null) => (typeof v === 'number' && v > 0 ? v : undefined);
    return { batchSize: positive(this.batchSize), promptLength: positive(this.length), optimizer: this.optimizer, lr: positive(this.lr) };
  }

  /**
   * What is wrong with the settings typed, field by field (empty when nothing is): checked here against the bounds
   * train.start's contract enforces (RUN_LIMITS), so that Start waits and says which field, where the engine would
   * answer with its request's field names.
   */
  get settingProblems(): string[] {
    const whole = (label: string, value: number | null | undefined, limits: (typeof RUN_LIMITS)[RunLimited], optional = false) => {
      if (value === null || value === undefined || Number.isNaN(value)) return optional ? null : `${label}: a number is needed`;
      if (!Number.isInteger(value)) return `${label}: a whole number is needed`;
      if (value < limits.min) return `${label}: at least ${count(limits.min)}`;
      return limits.max !== undefined && value > limits.max ? `${label}: at most ${count(limits.max)}` : null;
    };
    const lr = this.lr === null || this.lr > 0 ? null : 'Learning rate: a number above 0 is needed (empty: the optimiser’s own)';
    return [
      whole('Prompt length', this.length, RUN_LIMITS.promptLength),
      lr,
      whole('Batch size', this.batchSize, RUN_LIMITS.batchSize),
      whole('Training steps', this.steps, RUN_LIMITS.steps),
      whole('Evaluate every', this.evalEvery, RUN_LIMITS.evalEvery),
      whole('Validation examples per evaluation', this.evalLimit, RUN_LIMITS.evalLimit, true),
      whole('Patience', this.patience, RUN_LIMITS.patience, true),
      whole('Seed', this.seed, RUN_LIMITS.seed),
      whole('Maximum input length', this.maxInputLength, RUN_LIMITS.maxInputLength, true),
    ].filter((p): p is string => p !== null);
  }

  initValue(): string {
    if (this.source !== null) return `prompt:${this.source}`;
    return this.init === 'text' ? `text:${this.initText.trim()}` : this.init;
  }

  request(modelId: string, datasetId: number, verbalizer: Record<string, string> | undefined): RequestOf<'train.start'> {
    return {
      ...(this.name.trim() ? { name: this.name.trim() } : {}),
      modelId,
      datasetId,
      ...(verbalizer ? { verbalizer } : {}),
      promptLength: this.length,
      init: this.initValue(),
      optimizer: this.optimizer,
      ...(this.lr === null ? {} : { lr: this.lr }),
      batchSize: this.batchSize,
      steps: this.steps,
      evalEvery: this.evalEvery,
      ...(this.evalLimit ? { evalLimit: this.evalLimit } : {}),
      ...(this.patience ? { patience: this.patience } : {}),
      metric: this.keepBy,
      seed: this.seed,
      ...(this.device ? { device: this.device } : {}),
      precision: this.precision,
      ...(this.weights ? { weights: this.weights } : {}),
      ...(this.maxInputLength ? { maxInputLength: this.maxInputLength } : {}),
    };
  }
}
