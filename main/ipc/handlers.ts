/** The engine's answer to every operation of preload/contract.ts. Add one line per new operation. */
import { SproutError } from '../errors.js';
import { sproutVersion } from './version.js';
import type { Handlers } from './dispatch.js';
import { importData, listDatasetInfo, preview, removeDataset, showDataset } from './handlers/data.js';
import { listFolder } from './handlers/browse.js';
import { providerInUse } from './handlers/device.js';
import { existingFolder } from './handlers/files.js';
import { doctorReport } from './handlers/doctor.js';
import { evalReport } from './handlers/evaluation.js';
import { homeSummary } from './handlers/home.js';
import {
  exportAll,
  exportPeftFolder,
  importAll,
  importPeftFolder,
  listLibrary,
  note,
  remove,
  rename,
  showPrompt,
  similarityMap,
  tag,
} from './handlers/library.js';
import { catalogue } from './handlers/catalogue.js';
import { forgetModel, importModel, listModelInfo, verifyModel } from './handlers/models.js';
import { publicSettings, readSettings, tokenStore, writeSettings } from './handlers/settings.js';
import { retrainWithCorrections } from './handlers/retrain.js';
import { clearThreshold, setThreshold, thresholdCurveOf } from './handlers/threshold.js';
import { stateOf } from './handlers/state.js';
import { planRun } from './handlers/train-plan.js';

export const handlers: Handlers = {
  doctor: (_request, { dataDir }) => doctorReport(dataDir),
  'app.info': (_request, { dataDir, shell }) => ({ name: 'Sprout', version: sproutVersion, shell, dataDir }),
  'app.pickPath': async ({ kind, title }, { pickPath }) => {
    if (!pickPath) {
      throw new SproutError('picker-unavailable', 'A browser cannot tell Sprout where a file is.', {
        hint: 'Type the absolute path of the file or folder instead.',
      });
    }
    return { path: await pickPath(kind, title) };
  },
  'files.browse': (request, { dataDir }) => listFolder(dataDir, request),
  'home.summary': (_request, context) => homeSummary(context),
  'device.check': ({ device }, { dataDir }) => {
    const settings = readSettings(dataDir);
    return providerInUse(device ?? settings.defaultDevice, settings.threads);
  },

  'settings.get': (_request, context) => publicSettings(context, readSettings(context.dataDir)),
  'settings.set': ({ hubToken, ...request }, context) => {
    const stored = readSettings(context.dataDir);
    const given = request.browseFolders && {
      browseFolders: [...new Set(request.browseFolders.map((f) => existingFolder(f, 'folder to browse')))],
    };
    const next = { ...stored, ...Object.fromEntries(Object.entries({ ...request, ...given }).filter(([, v]) => v !== undefined)) };
    writeSettings(context.dataDir, next);
    // The token goes to its own owner-only (or keychain-sealed) file, never into settings.json.
    if (hubToken !== undefined) tokenStore(context).write(hubToken);
    return publicSettings(context, next);
  },

  'model.catalogue': (_request, context) => catalogue(context),
  'model.list': (_request, context) => listModelInfo(context),
  'model.download': ({ repo, revision }, context) => stateOf(context).downloads.start(repo, revision ?? 'main'),
  'model.download.cancel': ({ jobId }, context) => stateOf(context).downloads.cancel(jobId),
  'model.downloads': (_request, context) => stateOf(context).downloads.list(),
  'model.import': ({ path }, context) => importModel(context, path),
  'model.verify': ({ id }, context) => verifyModel(context, id),
  'model.remove': ({ id }, context) => forgetModel(context, id),

  'data.preview': (request, context) => preview(context, request),
  'data.import': (request, context) => importData(context, request),
  'data.list': (_request, context) => listDatasetInfo(context),
  'data.show': (request, context) => showDataset(context, request),
  'data.delete': ({ id }, context) => removeDataset(context, id),

  'train.start': (request, context) => stateOf(context).runs.start(request),
  'train.plan': (request, context) => planRun(context, request),
  'train.pause': ({ runId }, context) => stateOf(context).runs.pause(runId),
  'train.resume': ({ runId }, context) => stateOf(context).runs.resume(runId),
  'train.cancel': ({ runId }, context) => stateOf(context).runs.cancel(runId),
  'train.status': ({ runId }, context) => stateOf(context).runs.status(runId),
  'train.list': ({ limit }, context) => stateOf(context).runs.list(limit ?? 50),

  'eval.report': (request, context) => evalReport(context, request),
  'prompt.thresholdCurve': (request, context) => thresholdCurveOf(context, request),
  'prompt.setThreshold': (request, context) => setThreshold(context, request),
  'prompt.clearThreshold': ({ promptId }, context) => clearThreshold(context, promptId),
  'transfer.rank': (request, context) => stateOf(context).rankings.rank(request),
  'transfer.cancel': ({ datasetId }, context) => stateOf(context).rankings.cancel(datasetId),

  'library.list': (request, context) => listLibrary(context, request),
  'library.show': ({ id }, context) => showPrompt(context, id),
  'library.rename': ({ id, name }, context) => rename(context, id, name),
  'library.tag': (request, context) => tag(context, request),
  'library.note': ({ id, notes }, context) => note(context, id, notes),
  'library.delete': ({ id, force }, context) => remove(context, id, force ?? false),
  'library.exportPeft': ({ id, dir }, context) => exportPeftFolder(context, id, dir),
  'library.importPeft': (request, context) => importPeftFolder(context, request),
  'library.similarityMap': ({ modelId }, context) => similarityMap(context, modelId),
  'library.exportAll': ({ file }, context) => exportAll(context, file),
  'library.importAll': ({ file }, context) => importAll(context, file),

  'label.start': (request, context) => stateOf(context).labelJobs.start(request),
  'label.defaultOutput': (request, context) => stateOf(context).labelJobs.defaultOutput(request),
  'label.plan': (request, context) => stateOf(context).labelJobs.plan(request),
  'label.checkOutput': (r, context) => stateOf(context).labelJobs.checkOutput(r),
  'label.retrain': ({ jobId }, context) => retrainWithCorrections(stateOf(context), jobId),
  'label.cancel': ({ jobId }, context) => stateOf(context).labelJobs.cancel(jobId),
  'label.resume': ({ jobId }, context) => stateOf(context).labelJobs.resume(jobId),
  'label.status': ({ jobId }, context) => stateOf(context).labelJobs.status(jobId),
  'label.list': (_request, context) => stateOf(context).labelJobs.list(),
  'label.review': (request, context) => stateOf(context).labelJobs.review(request),
  'label.correct': ({ jobId, row, label }, context) => stateOf(context).labelJobs.correct(jobId, row, label),
  'label.saveCorrections': (request, context) => stateOf(context).labelJobs.saveCorrections(request),
  'label.export': (request, context) => stateOf(context).labelJobs.export(request),
};
