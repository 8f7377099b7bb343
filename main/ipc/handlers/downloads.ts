import type { ContractErrorShape, DownloadJob, DownloadProgress } from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import { checkRepoId } from '../../hub/cache.js';
import { hubModelId } from '../../library/models.js';
import type { HandlerContext } from '../context.js';
import { toErrorShape } from '../dispatch.js';
import { jobId } from './ids.js';
import { effectiveHubSettings } from './settings.js';

interface Entry {
  job: DownloadJob;
  controller: AbortController;
}

/** Model downloads of this host: each runs on the engine worker and reports `download.progress`. */
export class Downloads {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly context: HandlerContext) {}

  start(repo: string, revision: string): DownloadJob {
    checkRepoId(repo);
    const running = [...this.entries.values()].find(
      (e) => e.job.status === 'running' && e.job.repo === repo && e.job.revision === revision,
    );
    if (running) return { ...running.job };
    const settings = effectiveHubSettings(this.context);
    if (settings.offline) {
      throw new SproutError('hub-offline', 'Downloads are off: HF_HUB_OFFLINE is set.', {
        hint: 'Unset HF_HUB_OFFLINE and restart Sprout, or import a model folder you already have.',
      });
    }
    const id = jobId('dl');
    const controller = new AbortController();
    const modelId = hubModelId(repo, revision);
    const job: DownloadJob = {
      jobId: id,
      repo,
      revision,
      status: 'running',
      progress: null,
      modelId: null,
      error: null,
      started: new Date().toISOString(),
    };
    this.entries.set(id, { job, controller });
    const emit = (progress: DownloadProgress) => {
      job.progress = progress;
      this.context.emit('download.progress', progress);
    };
    this.context.worker
      .run(
        'model.download',
        { dataDir: this.context.dataDir, repo, revision, settings },
        (p) =>
          emit({
            jobId: id,
            modelId,
            status: 'running',
            file: p.file,
            fileBytes: p.fileBytes,
            fileTotal: p.fileTotal,
            bytes: p.bytes,
            totalBytes: p.total,
            rate: p.rate,
            etaSeconds: p.etaSeconds,
          }),
        controller.signal,
      )
      .then(
        (output) => {
          job.status = 'done';
          job.modelId = output.record.id;
        },
        (error: unknown) => {
          const shape: ContractErrorShape = toErrorShape(error);
          job.status = shape.code === 'cancelled' || controller.signal.aborted ? 'cancelled' : 'failed';
          if (job.status === 'failed') job.error = shape;
        },
      )
      .finally(() => {
        const last = job.progress;
        emit({
          jobId: id,
          modelId,
          status: job.status,
          file: last?.file ?? '',
          fileBytes: last?.fileBytes ?? 0,
          fileTotal: last?.fileTotal ?? 0,
          bytes: job.status === 'done' ? (last?.totalBytes ?? 0) : (last?.bytes ?? 0),
          totalBytes: last?.totalBytes ?? 0,
          rate: last?.rate ?? 0,
          etaSeconds: job.status === 'done' ? 0 : null,
        });
      });
    return { ...job };
  }

  cancel(id: string): DownloadJob {
    const entry = this.require(id);
    entry.controller.abort();
    return { ...entry.job };
  }

  list(): DownloadJob[] {
    return [...this.entries.values()].map((e) => ({ ...e.job }));
  }

  /** The job in flight for a repo, if any. */
  runningFor(repo: string): string | null {
    return [...this.entries.values()].find((e) => e.job.status === 'running' && e.job.repo === repo)?.job.jobId ?? null;
  }

  private require(id: string): Entry {
    const entry = this.entries.get(id);
    if (!entry)
      throw new SproutError('unknown-download', `There is no download ${id} in this session.`, {
        hint: 'Downloads are listed by model.downloads; start it again from the catalogue.',
      });
    return entry;
  }
}
