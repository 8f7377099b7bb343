/** The models Sprout knows how to fetch, with what is on disk, registered or downloading now. */
import type { CatalogueModel } from '../../../preload/contract.js';
import { catalogueOnDisk } from '../../hub/catalogue.js';
import { findModelByPath, getModel } from '../../library/models.js';
import type { HandlerContext } from '../context.js';
import { effectiveHubSettings } from './settings.js';
import { stateOf } from './state.js';

export function catalogue(context: HandlerContext): CatalogueModel[] {
  const { db, downloads } = stateOf(context);
  const settings = effectiveHubSettings(context);
  return catalogueOnDisk(settings.cacheDir).map(({ cachedDir, ...entry }) => ({
    ...entry,
    onDisk: cachedDir !== null,
    modelId: getModel(db, entry.repo)?.id ?? (cachedDir ? (findModelByPath(db, cachedDir)?.id ?? null) : null),
    downloadJobId: downloads.runningFor(entry.repo),
  }));
}
