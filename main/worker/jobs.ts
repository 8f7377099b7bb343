/** What the engine worker can run. Add one line per job declared in protocol.ts's JobTable. */
import { dataImport, dataPreview } from './jobs/data.js';
import { evalReport } from './jobs/eval.js';
import { labelRun } from './jobs/label.js';
import { libraryExportAll, libraryImportAll } from './jobs/library-archive.js';
import { modelDownload, modelInspect } from './jobs/models.js';
import { sha256File } from './jobs/sha256.js';
import { trainPlan, trainRun } from './jobs/train.js';
import { transferProbe } from './jobs/transfer.js';
import type { Job } from './job.js';
import type { JobInput, JobName, JobOutput, JobProgress } from './protocol.js';

export const jobs: { [J in JobName]: Job<JobInput<J>, JobOutput<J>, JobProgress<J>> } = {
  'file.sha256': sha256File,
  'model.download': modelDownload,
  'model.inspect': modelInspect,
  'data.preview': dataPreview,
  'data.import': dataImport,
  'train.run': trainRun,
  'train.plan': trainPlan,
  'eval.report': evalReport,
  'transfer.probe': transferProbe,
  'label.run': labelRun,
  'library.exportAll': libraryExportAll,
  'library.importAll': libraryImportAll,
};
