/**
 * Checks on paths that arrive from the renderer (the desktop app's open dialog, or a path typed in):
 * absolute, existing where they must, the right kind, and outputs kept out of Sprout's own data folder.
 */
import { existsSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { SproutError } from '../../errors.js';
import { checkOutputFile, checkOutputPlace } from '../../output-path.js';
import { kindOf } from '../../file-kind.js';

function absolute(path: string, what: string): string {
  if (path.includes('\0')) throw new SproutError('bad-path', `The ${what} path holds a NUL character.`, { hint: 'Choose the file again.' });
  if (!isAbsolute(path)) {
    throw new SproutError('bad-path', `The ${what} path "${path}" is not absolute.`, {
      hint: what.includes('folder')
        ? 'Type the full path, e.g. /home/me/models/flan-t5-small or C:\\models\\flan-t5-small.'
        : 'Type the full path, e.g. /home/me/data/train.csv or C:\\data\\train.csv.',
    });
  }
  // A ".." segment in a typed path hides where it leads; ask for the plain path instead.
  if (path.split(/[\\/]+/).includes('..')) {
    throw new SproutError('bad-path', `The ${what} path "${path}" contains "..".`, { hint: 'Give the path without ".." segments.' });
  }
  return resolve(path);
}

export function existingFile(path: string, what = 'input file'): string {
  const file = absolute(path, what);
  if (!existsSync(file))
    throw new SproutError('file-not-found', `The ${what} ${file} does not exist.`, {
      file,
      hint: 'Check the path, or choose the file again.',
    });
  const stat = statSync(file);
  if (stat.isDirectory())
    throw new SproutError('not-a-file', `The ${what} ${file} is a folder, not a file.`, { file, hint: 'Choose a file inside it.' });
  if (!stat.isFile())
    throw new SproutError('not-a-file', `The ${what} ${file} is ${kindOf(stat)}, not a file.`, { file, hint: 'Choose a file.' });
  return file;
}

export function existingPath(path: string, what: string): string {
  const target = absolute(path, what);
  if (!existsSync(target))
    throw new SproutError('file-not-found', `The ${what} ${target} does not exist.`, {
      file: target,
      hint: 'Check the path, or choose it again.',
    });
  return target;
}

export function existingFolder(path: string, what: string): string {
  const folder = existingPath(path, what);
  if (!statSync(folder).isDirectory())
    throw new SproutError('not-a-folder', `The ${what} ${folder} is a file, not a folder.`, {
      file: folder,
      hint: 'Choose the folder that holds it.',
    });
  return folder;
}

/**
 * Where the app writes a file or folder the person chose: absolute, its parent folder exists, and it is not inside
 * the data folder, whose files (the library database, runs, caches) Sprout alone manages.
 */
export function outputTarget(path: string, dataDir: string, what: string): string {
  return checkOutputPlace(absolute(path, what), dataDir, what);
}

export function outputFile(path: string, dataDir: string, what: string): string {
  return checkOutputFile(absolute(path, what), dataDir, what);
}
