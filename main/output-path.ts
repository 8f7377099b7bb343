/**
 * Files and folders a person chooses to write (label outputs, exports, backups, PEFT folders) stay out of Sprout's
 * data folder, whose files (the library database, runs, caches, locks) Sprout alone manages. The check compares
 * real paths: through a symlinked parent folder, a link at the target or a data folder reached by a link, the
 * path as typed says nothing about where the bytes land (a TSV once overwrote library.sqlite that way).
 */
import { accessSync, constants, existsSync, lstatSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { SproutError } from './errors.js';
import { isTempPath } from './temp-path.js';

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

/**
 * Where a file or folder the person chose will be written, checked before any slow work (loading a model, reading
 * the input): outside the data folder, in a folder that exists and that this user may write in. Its absolute path.
 */
export function checkOutputPlace(path: string, dataDir: string, what: string): string {
  const target = resolve(path);
  refuseInsideDataDir(target, dataDir, what);
  const parent = dirname(target);
  if (!existsSync(parent) || !statSync(parent).isDirectory()) {
    throw new SproutError('folder-not-found', `The folder ${parent} for the ${what} does not exist.`, {
      file: target,
      hint: 'Create it first, or choose another place.',
    });
  }
  try {
    accessSync(parent, constants.W_OK);
  } catch (error) {
    throw asNoAccess(error, parent) ?? error;
  }
  return target;
}

/**
 * checkOutputPlace for a file: not a folder either, nor a file with other names. A hard link passes every check of
 * paths, and writing it in place changes the file under each of its names: one to library.sqlite emptied the
 * library, one to the input file truncated the input.
 */
export function checkOutputFile(path: string, dataDir: string, what: string): string {
  const file = checkOutputPlace(path, dataDir, what);
  const stat = statSync(file, { throwIfNoEntry: false });
  if (stat?.isDirectory())
    throw new SproutError('not-a-file', `The ${what} ${file} is a folder.`, { file, hint: 'Give a file name inside it.' });
  if (stat && stat.nlink > 1)
    throw new SproutError(
      'output-hard-link',
      `The ${what} ${file} is one of ${stat.nlink} names of one file (hard links): writing it would change the file under its other names too.`,
      { file, hint: 'Choose another name, or remove the other names of the file first.' },
    );
  return file;
}

const NO_ACCESS = new Set(['EACCES', 'EPERM', 'EROFS']);

/**
 * A file or folder this user may not write or read, as a message a person can act on, naming the folder where the
 * path is a temporary file of Sprout's own (`.name.pid.uuid.tmp`), whose name means nothing to them; undefined for
 * any other error. Also the hosts' last line of defence, as a full disk is (main/disk-full.ts).
 */
export function asNoAccess(error: unknown, fallbackPath?: string): SproutError | undefined {
  const { code, path = fallbackPath } = (error ?? {}) as NodeJS.ErrnoException;
  if (!NO_ACCESS.has(code ?? '') || error instanceof SproutError || path === undefined) return undefined;
  const shown = isTempPath(path) ? dirname(path) : path;
  const why = code === 'EROFS' ? 'it is on a read-only disk' : 'permission denied';
  return new SproutError('no-access', `Access was refused (${why}).`, {
    file: shown,
    hint: 'Choose a folder you can write to, or change its permissions.',
  });
}

/**
 * A name (a prompt's) as part of a file or folder name: its letters and digits in any script, '.', '_' and '-',
 * every other run of characters one '-', cut to at most `maxBytes` bytes of UTF-8 (a tar header's field holds
 * bytes) at a character's end; `fallback` when nothing is left. "sst2 früh" is sst2-früh, not sst2-fr-h.
 */
export function fileNamePart(name: string, maxBytes: number, fallback: string): string {
  const whole = name
    .normalize('NFC')
    .replace(/[^\p{L}\p{N}._-]+/gu, '-')
    .replace(/^[-.]+/, '');
  let part = '';
  for (const char of whole) {
    if (Buffer.byteLength(part + char) > maxBytes) break;
    part += char;
  }
  return part.replace(/[-.]+$/, '') || fallback;
}
