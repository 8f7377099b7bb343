import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { SproutError } from '../errors.js';
import { COMMIT } from './cache.js';
import { counted } from '../wording.js';

/**
 * Model folders as Python's huggingface_hub caches them (see cache.ts for the layout), given to `sprout model
 * import` or the Model step the way people find them on disk: ~/.cache/huggingface/hub/models--google--flan-t5-base
 * holds no config.json itself, only refs/ and snapshots/<commit>/ with the files.
 */

const REPO_FOLDER = /^models--(.+)$/;

/** The repo id a cache folder name stands for, as huggingface_hub reads it back: models--google--flan-t5-base → google/flan-t5-base. */
function repoOf(folderName: string): string | undefined {
  return REPO_FOLDER.exec(folderName)?.[1].replaceAll('--', '/');
}

/** The folders in dir, links to folders included; none when dir cannot be read (any folder may be given). */
function folders(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() || (e.isSymbolicLink() && statSync(join(dir, e.name), { throwIfNoEntry: false })?.isDirectory()))
      .map((e) => e.name)
      .sort();
  } catch {
    return [];
  }
}

/**
 * The folder to read a model from: `path` itself, unless it is a cache folder of one model (models--ORG--NAME, or its
 * snapshots/ folder), whose snapshot refs/main names is taken (else its only snapshot). A cache folder with several
 * snapshots and no refs/main, or none, and the cache's root (which holds many models), are refused with the folders
 * to choose from.
 */
export function cachedModelFolder(path: string): string {
  const dir = resolve(path);
  if (!existsSync(dir) || !statSync(dir).isDirectory() || existsSync(join(dir, 'config.json'))) return dir;
  // Its snapshots/ folder, one click further in, stands for the model's folder too.
  if (basename(dir) === 'snapshots' && repoOf(basename(dirname(dir))) !== undefined) return chosenSnapshot(dirname(dir), dir);
  const snapshots = join(dir, 'snapshots');
  if (repoOf(basename(dir)) !== undefined && existsSync(snapshots)) return chosenSnapshot(dir, snapshots);
  const models = folders(dir).filter((name) => repoOf(name) !== undefined && existsSync(join(dir, name, 'snapshots')));
  if (models.length > 0) {
    throw new SproutError(
      'hub-cache-root',
      `This is a Hugging Face cache holding ${counted(models.length, 'model')}, not one model's folder.`,
      {
        file: dir,
        hint: `Import one of them: ${models.map((m) => `sprout model import ${join(dir, m)}`).join(' · ')}`,
        uiHint: `Choose one of its models: ${models.map((m) => join(dir, m)).join(', ')}`,
      },
    );
  }
  return dir;
}

function chosenSnapshot(dir: string, snapshots: string): string {
  const repo = repoOf(basename(dir))!;
  const commits = folders(snapshots);
  const main = join(dir, 'refs', 'main');
  const ref = existsSync(main) ? readFileSync(main, 'utf8').trim() : undefined;
  if (ref !== undefined && COMMIT.test(ref) && commits.includes(ref)) return join(snapshots, ref);
  if (commits.length === 1) return join(snapshots, commits[0]);
  if (commits.length === 0) {
    throw new SproutError('hub-cache-empty', `The cache folder of ${repo} holds no snapshot: its download never finished.`, {
      file: dir,
      hint: `Download it again (\`sprout model download ${repo}\`, or huggingface_hub).`,
      uiHint: `Download ${repo} again.`,
    });
  }
  throw new SproutError(
    'hub-cache-ambiguous',
    `The cache folder of ${repo} holds ${commits.length} snapshots and no refs/main naming one.`,
    {
      file: dir,
      hint: `Import the one you mean: ${commits.map((c) => `sprout model import ${join(snapshots, c)}`).join(' · ')}`,
      uiHint: `Choose one of its snapshots: ${commits.map((c) => join(snapshots, c)).join(', ')}`,
    },
  );
}

/** The model's name when `dir` is a snapshot folder of the cache (flan-t5-base for …/models--google--flan-t5-base/snapshots/<commit>). */
export function cachedModelName(dir: string): string | undefined {
  if (basename(dirname(dir)) !== 'snapshots') return undefined;
  return repoOf(basename(dirname(dirname(dir))))
    ?.split('/')
    .at(-1);
}
