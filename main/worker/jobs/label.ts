import { join } from 'node:path';
import type { DataFormat, Quoting } from '../../data/types.js';
import { resumeLabelJob, startLabelJob, type LabelJobOptions, type LabelSummary } from '../../label/job.js';
import { getJob, jobWriter } from '../../label/jobs.js';
import { refuseIfWritten } from '../../writer-lock.js';
import { jobPromptFromLibrary, LIBRARY_REF_PREFIX, promptFromLibrary } from '../../label/library-prompt.js';
import type { LabelProgress, LabelPrompt } from '../../label/types.js';
import { SproutError } from '../../errors.js';
import { loadPromptModel } from '../../runtime/model.js';
import type { DevicePreference } from '../../runtime/types.js';
import { loadTokenizer } from '../../tokenizer/index.js';
import type { Job } from '../job.js';
import type { ComputeChoice, WeightWidth } from '../../weights/width.js';
import { reportPreparing, type WeightsPreparing } from '../../weights/preparing.js';
import { withLibraryAt } from '../../library/db.js';

export type LabelJobInput =
  | {
      kind: 'start';
      dataDir: string;
      promptId: number;
      modelPath: string;
      device: DevicePreference;
      threads?: number;
      compute?: ComputeChoice;
      options: LabelJobOptions & { inputFormat?: DataFormat; quoting?: Quoting };
    }
  | { kind: 'resume'; dataDir: string; jobId: string; device: DevicePreference; threads?: number };

/** The weights prepared before the job exists (a started job is recorded once its model loaded), then its rows. */
export type LabelJobProgress = WeightsPreparing | ({ kind: 'rows' } & LabelProgress);

export const labelRun: Job<LabelJobInput, LabelSummary, LabelJobProgress> = (input, progress, signal) =>
  withLibraryAt(input.dataDir, async (db) => {
    let modelPath: string;
    let prompts: LabelPrompt[];
    let weights: WeightWidth;
    let compute: ComputeChoice | undefined;
    if (input.kind === 'start') {
      compute = input.compute;
      const chosen = promptFromLibrary(db, String(input.promptId));
      prompts = [chosen.prompt];
      weights = chosen.weightWidth ?? 'fp32';
      modelPath = input.modelPath;
    } else {
      const job = getJob(db, input.jobId);
      if (!job) throw new SproutError('label-unknown-job', `There is no labelling job "${input.jobId}".`);
      // Before loading the model: a job another process labels is refused at once (resumeLabelJob holds the lock).
      refuseIfWritten(jobWriter(db, input.jobId));
      // The job keeps its own task, so a prompt whose library task changed since still labels as it started.
      prompts = job.spec.prompts.map((stored) => {
        if (!stored.ref.startsWith(LIBRARY_REF_PREFIX))
          throw new SproutError(
            'label-unknown-prompt',
            `The job was started with the prompt file "${stored.ref}"; resume it with \`sprout label --resume\`.`,
          );
        return jobPromptFromLibrary(db, stored, job.spec.task);
      });
      modelPath = job.spec.model;
      weights = job.spec.weights ?? 'fp32';
      compute = job.spec.compute;
    }
    const model = await loadPromptModel(modelPath, {
      device: input.device,
      threads: input.threads,
      weights,
      compute,
      cacheDir: join(input.dataDir, 'cache'),
      onPrepare: reportPreparing(weights, progress),
    });
    try {
      const engine = { model, tokenizer: await loadTokenizer(modelPath), prompts, modelRef: modelPath };
      const control = { signal, onProgress: (p: LabelProgress) => progress({ kind: 'rows', ...p }) };
      return input.kind === 'start'
        ? await startLabelJob(db, engine, input.options, control)
        : await resumeLabelJob(db, input.jobId, engine, control);
    } finally {
      await model.dispose();
    }
  });
