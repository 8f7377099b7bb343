import type { HomeSummary } from '../../../preload/contract.js';
import { listDatasets } from '../../library/datasets.js';
import { listPrompts } from '../../library/prompts.js';
import type { HandlerContext } from '../context.js';
import { providerInUse } from './device.js';
import { promptInfo } from './library.js';
import { listModelInfo } from './models.js';
import { readSettings } from './settings.js';
import { stateOf } from './state.js';

const RECENT = 5;

export async function homeSummary(context: HandlerContext): Promise<HomeSummary> {
  const { db, runs, labelJobs, downloads } = stateOf(context);
  const settings = readSettings(context.dataDir);
  return {
    runs: runs.list(RECENT),
    prompts: listPrompts(db)
      .sort((a, b) => b.id - a.id)
      .slice(0, RECENT)
      .map((p) => promptInfo(db, p)),
    labelJobs: labelJobs.list().slice(-RECENT).reverse(),
    models: listModelInfo(context),
    datasets: listDatasets(db).length,
    downloads: downloads.list(),
    device: await providerInUse(settings.defaultDevice, settings.threads),
  };
}
