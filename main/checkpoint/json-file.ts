import { readFileSync } from 'node:fs';
import { SproutError } from '../errors.js';
import { refuseSpecialFile } from '../file-kind.js';

/** Reads and parses a JSON file; a missing or malformed file is a SproutError with `code` naming the file. */
export function readJsonFile(file: string, code: string): unknown {
  refuseSpecialFile(file, code);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SproutError(
      code,
      `Cannot read ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file: it does not exist' : (error as Error).message}.`,
      { file },
    );
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SproutError(code, `Not valid JSON: ${(error as Error).message}.`, { file });
  }
}
