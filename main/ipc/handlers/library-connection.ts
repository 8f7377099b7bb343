/**
 * The library connection of one host (the Electron main process or one `sprout serve`). Handlers that only read
 * or write the library take it from here, so they need not know the jobs in flight (state.ts), which in turn use
 * those handlers.
 */
import type { HandlerContext } from '../context.js';
import { libraryPath, openLibrary, type LibraryDb } from '../../library/db.js';

const connections = new WeakMap<HandlerContext, LibraryDb>();

export function libraryOf(context: HandlerContext): LibraryDb {
  let db = connections.get(context);
  if (!db) {
    db = openLibrary(libraryPath(context.dataDir));
    connections.set(context, db);
  }
  return db;
}

export function closeLibraryOf(context: HandlerContext): void {
  connections.get(context)?.close();
  connections.delete(context);
}
