import envPaths from 'env-paths';
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * Where Sprout keeps models, datasets, runs and the library. The Electron app passes its userData folder;
 * the CLI and `sprout serve` use SPROUT_HOME when set (tests always set it), else the platform's data folder
 * (~/.local/share/sprout, ~/Library/Application Support/sprout, %LOCALAPPDATA%\sprout\Data).
 */
export function dataDir(options: { electronUserData?: string } = {}): string {
  const dir = options.electronUserData ?? (process.env.SPROUT_HOME || envPaths('sprout', { suffix: '' }).data);
  const absolute = resolve(dir);
  mkdirSync(absolute, { recursive: true });
  return absolute;
}
