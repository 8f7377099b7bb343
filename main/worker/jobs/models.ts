import { join } from 'node:path';
import type { ArchitectureSummary } from '../../checkpoint/summary.js';
import { downloadModel } from '../../hub/download.js';
import { cachedModelFolder } from '../../hub/cached-folder.js';
import { convertedFolderFor, inspectModel } from '../../hub/inspect.js';
import type { DownloadProgress } from '../../hub/progress.js';
import type { HubSettings } from '../../hub/settings.js';
import { withLibraryAt } from '../../library/db.js';
import { hubModelId, registerLocalModel, saveModel, type ModelRecord } from '../../library/models.js';
import type { Job } from '../job.js';

export interface ModelDownloadInput {
  dataDir: string;
  repo: string;
  revision: string;
  settings: HubSettings;
}

export interface ModelDownloadOutput {
  record: ModelRecord;
  fetchedBytes: number;
}

export interface ModelInspectInput {
  dataDir: string;
  path: string;
  /** Register it as a local model (import) rather than only check it. */
  register: boolean;
  /** Re-hash files downloaded from the Hub against their names. */
  verify: boolean;
}

export interface ModelInspectOutput {
  path: string;
  summary: ArchitectureSummary;
  tensors: number;
  checkedBlobs: number;
  record: ModelRecord | null;
}

export const modelDownload: Job<ModelDownloadInput, ModelDownloadOutput, DownloadProgress> = async (
  { dataDir, repo, revision, settings },
  progress,
  signal,
) => {
  const result = await downloadModel(repo, { revision, settings, signal, onProgress: progress });
  const { summary } = await inspectModel(result.dir);
  const record = await withLibraryAt(dataDir, (db) =>
    saveModel(db, { id: hubModelId(repo, revision), repo, revision, sha: result.commit, path: result.dir, summary }),
  );
  return { record, fetchedBytes: result.fetchedBytes };
};

export const modelInspect: Job<ModelInspectInput, ModelInspectOutput> = async ({ dataDir, path, register, verify }) => {
  // A folder holding only pytorch_model.bin is converted once into the data folder; the user's folder is not written.
  const folder = cachedModelFolder(path);
  const inspected = await inspectModel(register ? convertedFolderFor(folder, join(dataDir, 'converted')) : folder, { verify });
  const record = register ? await withLibraryAt(dataDir, (db) => registerLocalModel(db, inspected)) : null;
  const { checkedBlobs } = inspected;
  return { path: inspected.path, summary: inspected.summary, tensors: inspected.checkpoint.tensors.size, checkedBlobs, record };
};
