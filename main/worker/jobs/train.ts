import { inLibrary } from '../../library/run-records.js';
import type { TrainingEvent } from '../../train/events.js';
import type { TrainingConfigInput } from '../../train/config.js';
import {
  adviseTraining,
  runTraining,
  type MixtureResult,
  type TrainingAdvice,
  type TrainingResult,
  type TrainRequest,
} from '../../train/run.js';
import type { Job } from '../job.js';

export interface TrainJobInput {
  dataDir: string;
  request: TrainRequest;
  /** Int32Array view over [paused]: main sets it to 1 to hold the run between steps, 0 to let it go on. */
  control: SharedArrayBuffer;
}

export const PAUSED = 0;

export const trainRun: Job<TrainJobInput, TrainingResult | MixtureResult, TrainingEvent> = (
  { dataDir, request, control },
  progress,
  signal,
) => {
  const flags = new Int32Array(control);
  return runTraining(request, { ...inLibrary(dataDir), onProgress: progress, signal, pause: () => Atomics.load(flags, PAUSED) === 1 });
};

export interface TrainPlanInput {
  dataDir: string;
  config: TrainingConfigInput;
}

/** The plan tokenises the whole dataset (the first time): work for the worker, not the thread that answers the window. */
export const trainPlan: Job<TrainPlanInput, TrainingAdvice, never> = ({ dataDir, config }) => adviseTraining(config, inLibrary(dataDir));
