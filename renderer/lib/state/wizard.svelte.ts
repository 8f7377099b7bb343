import type { RunSummary } from '../../../preload/contract.js';
import { api } from '../api.js';
import { allOf } from '../format.js';
import { DeviceCheck } from './device.svelte.js';
import { DataSetup } from './data.svelte.js';
import { Evaluation } from './evaluation.svelte.js';
import { LabellingJob } from './labelling.svelte.js';
import { ModelShelf } from './models.svelte.js';
import { PromptSetup } from './prompt.svelte.js';
import { TrainingRun } from './training.svelte.js';

export const steps = ['Model', 'Data', 'Prompt', 'Train', 'Evaluate', 'Label'] as const;

/**
 * A new task from model to labelled file. One instance lives for the whole session, so leaving the wizard for
 * the library and coming back finds every step as it was left.
 */
export class TaskWizard {
  step = $state(0);
  modelId = $state<string | null>(null);
  readonly models = new ModelShelf();
  data = $state.raw(this.#dataSetup());
  prompt = $state.raw(new PromptSetup());
  readonly training = new TrainingRun();
  /** The device the prompt step asks for, resolved by the engine before the run starts. */
  readonly device = new DeviceCheck();
  evaluation = $state.raw(new Evaluation());
  labelling = $state.raw(new LabellingJob());

  get promptId(): number | null {
    return this.training.run?.promptId ?? null;
  }

  /** Why the person cannot go on from this step yet, in words; '' when they can. */
  blocker(step: number): string {
    switch (step) {
      case 0:
        return this.modelId ? '' : 'Choose a model first.';
      case 1:
        return !this.data.datasetId
          ? this.data.labels.length === 0 && this.data.preview
            ? 'This file has no label column to learn from.'
            : 'Import the data (or pick a dataset) first.'
          : this.data.numbersWithoutWords.length
            ? `Give the labels ${allOf(this.data.numbersWithoutWords)} words under "Model writes" (e.g. 0 → negative): a model cannot learn to write numbers as answers.`
            : '';
      case 2:
        return this.training.run ? '' : 'Start training to go on.';
      case 3:
        return this.promptId !== null
          ? ''
          : this.training.live
            ? 'Training has to finish first: its prompt is stored when it ends.'
            : 'This run stored no prompt (it did not reach its end): resume it, or train again.';
      default:
        return '';
    }
  }

  /**
   * A step before the open one is done when nothing blocks going past it; the open Train step is done too once
   * its run has stored a prompt (the run ending is the step's whole point, not leaving it).
   */
  done(step: number): boolean {
    if (this.blocker(step)) return false;
    return step < this.step || (step === this.step && step === 3);
  }

  /** Opens a run (from Home) on its Train step with its model and dataset, so that Evaluate and Label can follow. */
  async openRun(run: RunSummary): Promise<void> {
    this.training.forget();
    await this.training.attach(run.runId);
    this.modelId = run.modelId;
    this.data = this.#dataSetup();
    // Without its dataset the run still shows; only the steps after Train stay closed.
    if (run.datasetId !== null)
      await this.data.useExisting((await api['data.list']({}).catch(() => [])).find((d) => d.id === run.datasetId));
    this.evaluation = new Evaluation();
    this.step = 3;
  }

  /**
   * A run that kept going while the window was closed (or through a reload) opens where it belongs, on the Train
   * step, with its dataset as the Data step's, like a run opened from Home.
   */
  async openLiveRun(): Promise<void> {
    const live = await this.training.findLive();
    if (live) await this.openRun(live);
  }

  /** The Data step's setup, which tells the wizard when the dataset changes. */
  #dataSetup(): DataSetup {
    return new DataSetup((datasetId) => this.#datasetChosen(datasetId));
  }

  /**
   * A run and its evaluation belong to the dataset they were trained on: another dataset starts the Prompt, Train and
   * Evaluate steps afresh, or they would offer to train "again", and go on to score, the previous dataset's prompt.
   */
  #datasetChosen(datasetId: number): void {
    if (this.training.run?.datasetId === datasetId) return;
    this.training.forget();
    this.evaluation = new Evaluation();
  }

  /** Keeps the model, starts everything after it afresh (e.g. a second task using the first as transfer source). */
  newTask(): void {
    this.data = this.#dataSetup();
    this.prompt = new PromptSetup();
    this.training.forget();
    this.evaluation = new Evaluation();
    this.labelling = new LabellingJob();
    this.step = this.modelId ? 1 : 0;
  }
}
