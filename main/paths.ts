import envPaths from 'env-paths';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Where Sprout keeps models, datasets, runs and the library. The Electron app passes its userData folder;
 * the CLI and `sprout serve` use SPROUT_HOME when set (tests always set it), else the platform's data folder
 * (~/.local/share/sprout, ~/Library/Application Support/sprout, %LOCALAPPDATA%\sprout\Data).
 */
export function dataDir(options: { electronUserData?: string } = {}): string {
  const dir = options.electronUserData ?? (process.env.SPROUT_HOME || envPaths('sprout', { suffix: '' }).data);
  const absolute = resolve(dir);
  mkdirSync(dirname(absolute), { recursive: true });
  try {
    // Readable by this user only, as the Hub token's file is: it holds their datasets and labelled texts. A folder
    // that exists keeps the permissions its owner gave it.
    mkdirSync(absolute, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return absolute;
}
