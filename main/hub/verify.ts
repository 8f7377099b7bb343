import { lstatSync, readdirSync, readlinkSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { SproutError } from '../errors.js';
import { blobCheck, blobMatches } from './blob-hash.js';

/**
 * Re-hashes every file of a Hugging Face snapshot folder whose blob name checks its content (blob-hash.ts: the
 * sha256 of an LFS file, the git object id of any other) and compares; returns how many were checked. Files that
 * are not links into a blobs/ folder (a plain local folder) are skipped.
 */
export async function verifySnapshotBlobs(dir: string): Promise<number> {
  let checked = 0;
  const walk = async (folder: string): Promise<void> => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      const st = lstatSync(path);
      if (st.isDirectory()) {
        await walk(path);
        continue;
      }
      if (!st.isSymbolicLink()) continue;
      const check = blobCheck(basename(readlinkSync(path)));
      if (!check) continue;
      if (!(await blobMatches(check, statSync(path).size, path))) {
        const what = check.kind === 'sha256' ? 'sha256' : 'git object id';
        throw new SproutError('checksum-mismatch', `"${relative(dir, path)}" is damaged: its ${what} differs from the Hub's.`, {
          file: path,
          hint: "Delete the file's blob from the Hugging Face cache and download the model again.",
        });
      }
      checked++;
    }
  };
  await walk(dir);
  return checked;
}
