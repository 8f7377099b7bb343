/**
 * Labelling jobs of this host: each runs on the engine worker (the job's rows and output are committed in chunks by
 * main/label, so a cancel or a crash resumes where it stopped), reports `labelling.progress`, and is reviewed,
 * corrected and exported from the library afterwards.
 */
import { existsSync } from 'node:fs';
import type {
  DatasetInfo,
  LabelJobInfo,
  LabellingProgress,
  ReviewPage,
  ReviewRow,
  TrainingPlan,
  ValidRequestOf,
} from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import { isWritten, refuseIfWritten } from '../../writer-lock.js';
import { exportCorrected, type ExportResult } from '../../label/export.js';
import { LIBRARY_REF_PREFIX, promptFromLibrary } from '../../label/library-prompt.js';
import { planLabelling } from '../../label/memory-plan.js';
import { loadTokenizer } from '../../tokenizer/index.js';
import { planSuggestion } from './train-plan.js';
import { getJob, jobWriter, listJobs, setJobStatus, type LabelJob, type StoredRow } from '../../label/jobs.js';
import { defaultOutputPath, jobsOwning, outputNote, outputState, refuseOutputOverInput } from '../../label/ownership.js';
import { retrainBlocker } from '../../label/retrain.js';
import { rowsNote } from '../../label/rows-note.js';
import { listReviewRows, recordCorrection, reviewRowOf, saveCorrectionsAsDataset } from '../../label/review.js';
import { getDataset } from '../../library/datasets.js';
import type { LibraryDb } from '../../library/db.js';
import { parsePromptId, requirePrompt } from '../../library/prompts.js';
import { accuracyReport } from '../../train/metrics.js';
import type { LabelProgress } from '../../label/types.js';
import type { HandlerContext } from '../context.js';
import { toErrorShape } from '../dispatch.js';
import { datasetInfo } from './data.js';
import { promptModelPath } from '../../library/prompt-model.js';
import { existingFile, outputFile } from './files.js';
import { readSettings } from './settings.js';
import type { LabelJobInput, LabelJobProgress } from '../../worker/jobs/label.js';
import { weightPreparation } from './weight-preparation.js';
import { decisionText } from '../../train/threshold.js';

interface Live {
  controller: AbortController;
  rowsPerSecond: number;
  etaSeconds: number | null;
  ended: Promise<void>;
}

export class LabelJobs {
  private readonly live = new Map<string, Live>();

  constructor(
    private readonly context: HandlerContext,
    private readonly db: LibraryDb,
  ) {}

  start(r: ValidRequestOf<'label.start'>): Promise<LabelJobInfo> {
    const prompt = requirePrompt(this.db, r.promptId);
    const input = existingFile(r.input, 'input file');
    const output = outputFile(r.output, this.context.dataDir, 'output file');
    refuseOutputOverInput(input, output);
    const settings = readSettings(this.context.dataDir);
    // The reading and job options pass through as they came (listing them one by one once dropped a new one); only
    // the two formats are renamed, the input's and the output's.
    const { promptId: _prompt, input: _input, output: _output, compute, format, outputFormat, ...options } = r;
    return this.launch({
      kind: 'start',
      dataDir: this.context.dataDir,
      promptId: prompt.id,
      modelPath: promptModelPath(this.db, prompt),
      device: settings.defaultDevice,
      ...(settings.threads === null ? {} : { threads: settings.threads }),
      ...(compute ? { compute } : {}),
      options: { ...options, input, inputFormat: format, output, format: outputFormat },
    });
  }

  resume(jobId: string): Promise<LabelJobInfo> | LabelJobInfo {
    const job = this.requireJob(jobId);
    if (this.live.has(jobId) || job.status === 'done') return this.info(job);
    refuseIfWritten(jobWriter(this.db, jobId));
    const settings = readSettings(this.context.dataDir);
    return this.launch({
      kind: 'resume',
      dataDir: this.context.dataDir,
      jobId,
      device: settings.defaultDevice,
      ...(settings.threads === null ? {} : { threads: settings.threads }),
    });
  }

  /** Stops after the chunk in flight (everything before it stays committed) and answers once it stopped. */
  async cancel(jobId: string): Promise<LabelJobInfo> {
    const job = this.requireJob(jobId);
    const live = this.live.get(jobId);
    if (live) {
      live.controller.abort();
      await live.ended;
    } else if (job.status === 'running') {
      refuseIfWritten(jobWriter(this.db, jobId));
      setJobStatus(this.db, jobId, 'cancelled');
    }
    return this.info(this.requireJob(jobId));
  }

  status(jobId: string): LabelJobInfo {
    return this.info(this.requireJob(jobId));
  }

  list(): LabelJobInfo[] {
    return listJobs(this.db).map((j) => this.info(j));
  }

  review(r: ValidRequestOf<'label.review'>): ReviewPage {
    const job = this.requireJob(r.jobId);
    const offset = r.offset ?? 0;
    const { jobId, offset: _offset, limit, ...filter } = r;
    const page = listReviewRows(this.db, jobId, { ...filter, offset, limit: limit ?? 100 });
    return {
      total: page.total,
      offset,
      rows: page.rows,
      labels: job.spec.task.labels,
      labelTexts: job.spec.task.verbalisers,
      columns: job.spec.inputColumns,
      counts: page.counts,
    };
  }

  correct(jobId: string, row: number, label: string | null): ReviewRow {
    const job = this.requireJob(jobId);
    recordCorrection(this.db, jobId, row, label);
    return reviewRowOf(job, this.db.prepare('SELECT * FROM label_rows WHERE job_id = ? AND row = ?').get(jobId, row) as StoredRow);
  }

  saveCorrections(r: ValidRequestOf<'label.saveCorrections'>): DatasetInfo {
    this.requireJob(r.jobId);
    const id = saveCorrectionsAsDataset(this.db, r.jobId, { name: r.name, include: r.include, split: r.split });
    return datasetInfo(this.db, getDataset(this.db, id)!);
  }

  /** The job's output with the person's corrections (main/label/export.ts), in any output format. */
  export(r: ValidRequestOf<'label.export'>): Promise<ExportResult> {
    this.requireJob(r.jobId);
    const file = outputFile(r.file, this.context.dataDir, 'export file');
    return exportCorrected(this.db, r.jobId, { file, format: r.format, overwrite: r.overwrite, replaceJob: r.replaceJob });
  }

  /** The job's memory plan: the prompt's own width (as the worker loads it) or int8 products, on the default device. */
  async plan(r: ValidRequestOf<'label.plan'>): Promise<TrainingPlan> {
    const chosen = promptFromLibrary(this.db, String(r.promptId));
    const model = promptModelPath(this.db, requirePrompt(this.db, r.promptId));
    const plan = await planLabelling({
      model,
      tokenizer: await loadTokenizer(model),
      prompts: [chosen.prompt],
      device: readSettings(this.context.dataDir).defaultDevice,
      weights: chosen.weightWidth ?? 'fp32',
      compute: r.compute,
      batchSize: r.batchSize,
    });
    return { ...plan, suggestion: planSuggestion(plan.suggestion) };
  }

  defaultOutput(r: ValidRequestOf<'label.defaultOutput'>): { output: string } {
    const prompt = requirePrompt(this.db, r.promptId);
    return { output: defaultOutputPath(this.db, existingFile(r.input, 'input file'), prompt.name, r.format) };
  }

  checkOutput({ file: path, input }: ValidRequestOf<'label.checkOutput'>): { file: string; exists: boolean; owner: LabelJobInfo | null } {
    const file = outputFile(path, this.context.dataDir, 'output file');
    if (input !== undefined) refuseOutputOverInput(input, file);
    const exists = existsSync(file);
    const [owner] = exists ? jobsOwning(this.db, file) : [];
    return { file, exists, owner: owner ? this.info(owner) : null };
  }

  private requireJob(jobId: string): LabelJob {
    const job = getJob(this.db, jobId);
    if (!job)
      throw new SproutError('label-unknown-job', `There is no labelling job "${jobId}".`, { hint: 'The Label step lists the jobs.' });
    return job;
  }

  private info(job: LabelJob): LabelJobInfo {
    const live = this.live.get(job.id);
    const gold = job.stats.gold && accuracyReport(job.stats.gold, job.spec.task.labels);
    const state = outputState(this.db, job);
    return {
      jobId: job.id,
      // Running in the library but in no worker of this session: another process labels it, or a crash or quit stopped it.
      status: job.status === 'running' && !live && !isWritten(jobWriter(this.db, job.id)) ? 'interrupted' : job.status,
      input: job.spec.input,
      output: job.spec.output,
      format: job.spec.format,
      promptNames: job.spec.prompts.map((p) => currentName(this.db, p)),
      template: job.spec.template,
      decision: job.spec.task.decision ? decisionText(job.spec.task.decision, job.spec.task.labels) : null,
      goldColumn: job.spec.goldColumn,
      accuracy: gold && { rows: gold.rows, accuracy: gold.accuracy, macroF1: gold.macro_f1 },
      outputState: state,
      outputNote: outputNote(job, state),
      rowsNote: rowsNote(job.spec, job.stats),
      rowsDone: job.rowsDone,
      totalRows: job.spec.totalRows,
      labelled: job.stats.labelled,
      labelCounts: job.stats.labelCounts,
      error: job.error,
      retrainBlocker: retrainBlocker(this.db, job),
      created: job.created,
      updated: job.updated,
    };
  }

  /**
   * Starts the worker job; resolves once the job exists (its first report of rows names it). Before that its model's
   * weight preparation goes out as `labelling.preparing`.
   */
  private launch(input: LabelJobInput): Promise<LabelJobInfo> {
    const controller = new AbortController();
    let jobId: string | undefined = input.kind === 'resume' ? input.jobId : undefined;
    let live: Live | undefined;
    let endLive!: () => void;
    const ended = new Promise<void>((resolve) => (endLive = resolve));
    const emit = (status: LabellingProgress['status'], p?: LabelProgress) => {
      const job = getJob(this.db, jobId!)!;
      this.context.emit('labelling.progress', {
        jobId: jobId!,
        status,
        rows: p?.rowsDone ?? job.rowsDone,
        totalRows: p?.totalRows ?? job.spec.totalRows,
        rowsPerSecond: p?.rowsPerS ?? live?.rowsPerSecond ?? 0,
        etaSeconds: p ? p.etaS : null,
      });
    };
    return new Promise<LabelJobInfo>((resolve, reject) => {
      const onProgress = (p: LabelJobProgress) => {
        if (p.kind === 'preparing')
          return this.context.emit('labelling.preparing', { jobId: jobId ?? null, preparing: weightPreparation(p) });
        if (!live) {
          jobId = p.jobId;
          live = { controller, rowsPerSecond: 0, etaSeconds: null, ended };
          this.live.set(p.jobId, live);
          resolve(this.info(this.requireJob(p.jobId)));
        }
        live.rowsPerSecond = p.rowsPerS;
        live.etaSeconds = p.etaS;
        emit('running', p);
      };
      this.context.worker
        .run('label.run', input, onProgress, controller.signal)
        .then(
          (summary) => {
            jobId = summary.job_id;
            if (!live) resolve(this.info(this.requireJob(summary.job_id)));
            else emit(summary.status === 'running' ? 'failed' : summary.status);
          },
          (error: unknown) => {
            if (!live) return reject(error);
            emit(toErrorShape(error).code === 'cancelled' ? 'cancelled' : 'failed');
          },
        )
        .finally(() => {
          if (jobId !== undefined) this.live.delete(jobId);
          endLive();
        });
    });
  }
}

/** A job's prompt by its name in the library now (renamed since, perhaps); the name it had where it is gone or a file. */
function currentName(db: LibraryDb, prompt: { ref: string; name: string }): string {
  if (!prompt.ref.startsWith(LIBRARY_REF_PREFIX)) return prompt.name;
  const row = db.prepare('SELECT name FROM prompts WHERE id = ?').get(parsePromptId(prompt.ref)) as { name: string } | undefined;
  return row?.name ?? prompt.name;
}
