/**
 * What the handlers keep between calls for one host (the Electron main process or one `sprout serve`): the jobs
 * in flight, over the library connection of library-connection.ts. It lives in main, not in the renderer, so a
 * training run or a download goes on when the window closes, and a reopened window finds it again.
 */
import type { HandlerContext } from '../context.js';
import type { LibraryDb } from '../../library/db.js';
import { Downloads } from './downloads.js';
import { LabelJobs } from './labelling.js';
import { closeLibraryOf, libraryOf } from './library-connection.js';
import { Runs } from './training.js';
import { TransferRankings } from './transfer.js';

export interface AppState {
  db: LibraryDb;
  downloads: Downloads;
  runs: Runs;
  labelJobs: LabelJobs;
  rankings: TransferRankings;
}

const states = new WeakMap<HandlerContext, AppState>();

export function stateOf(context: HandlerContext): AppState {
  let state = states.get(context);
  if (!state) {
    const db = libraryOf(context);
    state = {
      db,
      downloads: new Downloads(context),
      runs: new Runs(context, db),
      labelJobs: new LabelJobs(context, db),
      rankings: new TransferRankings(context),
    };
    states.set(context, state);
  }
  return state;
}

/** Closes the library connection of a host that is shutting down (after its worker was closed). */
export function releaseState(context: HandlerContext): void {
  states.delete(context);
  closeLibraryOf(context);
}
