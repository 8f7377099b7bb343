/**
 * The browser version's file picker: a browser never tells a page where a file lives, so `sprout serve` lists folders
 * for it. Only the person's home folder and the folders they added in Settings can be listed, each checked as a typed
 * path is (absolute, no "..", existing) and, after following links, still inside one of those places.
 */
import { readdirSync, realpathSync, statSync, type Dirent } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, relative, sep } from 'node:path';
import type { BrowseEntry, FolderListing, ValidRequestOf } from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import { inside } from '../../output-path.js';
import { existingFolder } from './files.js';
import { readSettings } from './settings.js';

/** Entries listed per folder; a larger folder says how many were left out (filter by name to find the rest). */
export const MAX_ENTRIES = 2000;

/** The places the picker starts from: home first, then the folders added in Settings. */
export function browseRoots(dataDir: string): { name: string; path: string }[] {
  const home = homedir();
  return [
    { name: 'Home', path: home },
    ...readSettings(dataDir)
      .browseFolders.filter((f) => f !== home)
      .map((path) => ({ name: basename(path) || path, path })),
  ];
}

export function listFolder(dataDir: string, r: ValidRequestOf<'files.browse'>): FolderListing {
  const roots = browseRoots(dataDir);
  const folder = existingFolder(r.path ?? roots[0].path, 'folder');
  const real = realpathSync(folder);
  // The innermost place holding it, so that "up" stops at an added folder rather than climbing to home.
  const places = roots.map((p) => ({ ...p, real: realOrSelf(p.path) }));
  const root = places.filter((p) => inside(real, p.real)).sort((a, b) => b.real.length - a.real.length)[0];
  if (!root) {
    throw new SproutError('outside-browse-folders', `${folder} is outside your home folder and the folders added in Settings.`, {
      file: folder,
      hint: 'Add the folder in Settings → Files to browse it, or type the path of the file.',
    });
  }
  const wanted = (r.filter ?? '').toLowerCase();
  const entries: BrowseEntry[] = [];
  let matching = 0;
  for (const dirent of readdirSync(folder, { withFileTypes: true })) {
    if ((!r.hidden && dirent.name.startsWith('.')) || (wanted && !dirent.name.toLowerCase().includes(wanted))) continue;
    // A link listed here leads only inside the places, as a folder opened through one must: a link in home to
    // /etc/passwd was offered, with its size.
    if (dirent.isSymbolicLink() && !places.some((p) => inside(realOrSelf(join(folder, dirent.name)), p.real))) continue;
    const entry = describe(folder, dirent);
    if (!entry || (r.kind === 'folder' && entry.kind === 'file')) continue;
    matching++;
    entries.push(entry);
  }
  entries.sort((a, b) =>
    a.kind === b.kind ? a.name.localeCompare(b.name, undefined, { numeric: true, sensitivity: 'base' }) : a.kind === 'folder' ? -1 : 1,
  );
  return {
    roots,
    root: root.path,
    folder,
    path: trail(root, folder),
    parent: real === root.real ? null : dirname(folder),
    entries: entries.slice(0, MAX_ENTRIES),
    omitted: Math.max(0, matching - MAX_ENTRIES),
  };
}

/** The folders from the top of the place down to `folder`, named as the person sees them. */
function trail(root: { name: string; path: string }, folder: string): { name: string; path: string }[] {
  if (!inside(folder, root.path)) return [{ name: folder, path: folder }];
  const below = relative(root.path, folder).split(sep).filter(Boolean);
  return [{ name: root.name, path: root.path }, ...below.map((name, i) => ({ name, path: join(root.path, ...below.slice(0, i + 1)) }))];
}

/** A file or folder, links followed; null for what cannot be opened as either (a broken link, a socket, no permission). */
function describe(folder: string, dirent: Dirent): BrowseEntry | null {
  const path = join(folder, dirent.name);
  try {
    const s = statSync(path);
    if (s.isDirectory()) return { name: dirent.name, path, kind: 'folder', bytes: null, modified: s.mtime.toISOString() };
    if (s.isFile()) return { name: dirent.name, path, kind: 'file', bytes: s.size, modified: s.mtime.toISOString() };
  } catch {
    // Listed by the folder but not readable: leave it out rather than offer what cannot be opened.
  }
  return null;
}

function realOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}
