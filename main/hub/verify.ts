import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { SproutError } from '../errors.js';
import { sha256OfFileAsync } from '../file-hash.js';

/**
 * Re-hashes every file of a Hugging Face snapshot folder whose blob is named by its sha256 (the LFS files:
 * weights, spiece.model) and compares; returns how many were checked. Files that are not links into a
 * blobs/ folder (a plain local folder) are skipped.
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
      const target = basename(readlinkSync(path));
      if (!/^[0-9a-f]{64}$/.test(target)) continue;
      if ((await sha256OfFileAsync(path)).sha256 !== target) {
        throw new SproutError('checksum-mismatch', `"${relative(dir, path)}" is damaged: its sha256 differs from the Hub's.`, {
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
