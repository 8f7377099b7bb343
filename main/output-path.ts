/**
 * Files and folders a person chooses to write (label outputs, exports, backups, PEFT folders) stay out of Sprout's
 * data folder, whose files (the library database, runs, caches, locks) Sprout alone manages. The check compares
 * real paths: through a symlinked parent folder, a link at the target or a data folder reached by a link, the
 * path as typed says nothing about where the bytes land (a TSV once overwrote library.sqlite that way).
 */
import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SproutError } from './errors.js';

/** Links followed before giving up, as the kernel does (ELOOP). */
const MAX_LINKS = 40;

/** Whether `child` is `parent` or lies below it (plain paths: compare real paths where links matter). */
export function inside(child: string, parent: string): boolean {
  // Windows and macOS file systems usually ignore case: C:\Data and c:\data are one folder.
  const fold = process.platform === 'win32' || process.platform === 'darwin' ? (p: string) => p.toLowerCase() : (p: string) => p;
  const r = relative(fold(parent), fold(child));
  return r === '' || (!r.startsWith('..') && !isAbsolute(r) && !r.startsWith(`..${sep}`));
}

/**
 * Where writing `path` lands: the real path of its deepest existing ancestor (the parent's, for a file that does
 * not exist yet) with the rest appended; a link at the end, dangling or not, is followed to where it points.
 */
export function realTarget(path: string): string {
  let target = resolve(path);
  for (let links = 0; links < MAX_LINKS; links++) {
    try {
      return realpathSync.native(target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
    // A dangling link: writing through it creates the file it names.
    if (isLink(target)) {
      target = resolve(dirname(target), readlinkSync(target));
      continue;
    }
    const parent = dirname(target);
    return parent === target ? target : join(realTarget(parent), basename(target));
  }
  throw new SproutError('bad-path', `${path} leads through more than ${MAX_LINKS} symbolic links.`, { file: path });
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Throws `output-in-data-dir` when writing `path` would land inside the data folder; `what` names it ("export file"). */
export function refuseInsideDataDir(path: string, dataDir: string, what: string): void {
  const real = realTarget(path);
  if (!inside(real, realTarget(dataDir))) return;
  const via = real === resolve(path) ? '' : ` (it leads to ${real})`;
  throw new SproutError('output-in-data-dir', `The ${what} is inside Sprout's data folder${via}, whose files Sprout alone manages.`, {
    file: resolve(path),
    hint: 'Choose a folder of your own, e.g. your Documents.',
  });
}
