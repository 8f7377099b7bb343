/**
 * The whole library as one tar archive: a manifest, a consistent copy of the database (SQLite online backup), and
 * every prompt as a PEFT adapter folder so that the prompts can be used without Sprout. Importing adds the
 * archive's contents to the open library (see merge.ts); entries are unpacked into a fresh folder of the library's
 * staging folder and none can be written outside it.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { SproutError } from '../errors.js';
import { sha256OfFile } from '../file-hash.js';
import { backupLibrary } from '../library/backup.js';
import { dataDirOf, openLibrary, type LibraryDb } from '../library/db.js';
import { stagingWorkFolder } from '../library/import-staging.js';
import { mergeLibrary, type MergeCounts } from '../library/merge.js';
import { migrations } from '../library/migrations.js';
import { extractTar, writeTar } from '../library/tar.js';
import { exportPeft, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from './peft.js';
import { tempPathBeside } from '../temp-path.js';
import { fileNamePart } from '../output-path.js';

export const ARCHIVE_FORMAT = 'sprout-library-archive';
export const ARCHIVE_VERSION = 1;
export const MANIFEST_FILE = 'sprout-library.json';
export const ARCHIVE_DATABASE = 'library.sqlite';

export interface ArchiveManifest {
  format: typeof ARCHIVE_FORMAT;
  version: number;
  schema_version: number;
  created: string;
  prompts: { id: number; name: string; folder: string }[];
  /**
   * sha256 (hex) of every other entry, by name: tar checksums only its headers, so a damaged database or prompt
   * would otherwise import without a word. Archives written before it was added have none.
   */
  sha256?: Record<string, string>;
}

/** Writes the library as a tar archive at `file` (refusing to replace an existing file). */
export async function exportLibraryArchive(db: LibraryDb, file: string): Promise<ArchiveManifest> {
  const target = resolve(file);
  if (existsSync(target))
    throw new SproutError('archive-exists', 'The archive file already exists; it was left as it is.', {
      file: target,
      hint: 'Choose a new file name.',
    });
  const work = stagingWorkFolder(dataDirOf(db), 'archive');
  try {
    await backupLibrary(db, join(work, ARCHIVE_DATABASE));
    const entries = [{ name: ARCHIVE_DATABASE, source: join(work, ARCHIVE_DATABASE) }];
    const prompts: ArchiveManifest['prompts'] = [];
    for (const p of db.prepare('SELECT id, name FROM prompts ORDER BY id').all() as { id: number; name: string }[]) {
      const folder = `prompts/${p.id}-${fileNamePart(p.name, 40, 'prompt')}`;
      exportPeft(db, p.id, join(work, folder));
      for (const f of [PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE]) entries.push({ name: `${folder}/${f}`, source: join(work, folder, f) });
      prompts.push({ id: p.id, name: p.name, folder });
    }
    const manifest: ArchiveManifest = {
      format: ARCHIVE_FORMAT,
      version: ARCHIVE_VERSION,
      schema_version: migrations.length,
      created: new Date().toISOString(),
      prompts,
      sha256: Object.fromEntries(entries.map((e) => [e.name, sha256OfFile(e.source)])),
    };
    writeFileSync(join(work, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
    const tmp = tempPathBeside(target);
    try {
      writeTar(tmp, [{ name: MANIFEST_FILE, source: join(work, MANIFEST_FILE) }, ...entries]);
      renameSync(tmp, target);
    } finally {
      rmSync(tmp, { force: true });
    }
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function readManifest(file: string, archive: string): ArchiveManifest {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new SproutError('bad-archive', `The archive's ${MANIFEST_FILE} is missing or not JSON; it is not a Sprout library archive.`, {
      file: archive,
    });
  }
  const m = manifest as Partial<ArchiveManifest>;
  if (m.format !== ARCHIVE_FORMAT) throw new SproutError('bad-archive', 'The file is not a Sprout library archive.', { file: archive });
  if (typeof m.version !== 'number' || m.version > ARCHIVE_VERSION) {
    throw new SproutError(
      'archive-too-new',
      `The archive has format version ${String(m.version)}; this Sprout reads up to ${ARCHIVE_VERSION}.`,
      { file: archive, hint: 'Update Sprout to import it.' },
    );
  }
  const sums = m.sha256;
  if (
    sums !== undefined &&
    (typeof sums !== 'object' || sums === null || Object.values(sums).some((v) => !/^[0-9a-f]{64}$/.test(String(v))))
  )
    throw new SproutError('bad-archive', `The archive's ${MANIFEST_FILE} holds checksums that are not sha256 digests.`, { file: archive });
  return m as ArchiveManifest;
}

/** Refuses an archive whose unpacked entries in `work` differ from the checksums its manifest recorded. */
function checkEntries(work: string, manifest: ArchiveManifest, archive: string): void {
  for (const [name, sha256] of Object.entries(manifest.sha256 ?? {})) {
    const path = resolve(work, name);
    if (!path.startsWith(work + sep))
      throw new SproutError('bad-archive', `The archive's manifest names ${JSON.stringify(name)}, outside it.`, { file: archive });
    const found = existsSync(path) ? sha256OfFile(path) : 'missing';
    if (found === sha256) continue;
    throw new SproutError(
      'bad-archive',
      `The archive is damaged: its ${name} ${found === 'missing' ? 'is missing' : 'does not match the checksum its manifest recorded'}. Nothing was imported.`,
      { file: archive, hint: 'Export the library again from where it came, or import another copy of the archive.' },
    );
  }
}

/**
 * Adds the prompts, tasks, runs, datasets and models of an archive to the library. An archive from an older
 * Sprout is migrated first; one from a newer Sprout is refused.
 */
export function importLibraryArchive(db: LibraryDb, file: string): MergeCounts {
  const archive = resolve(file);
  if (!existsSync(archive)) throw new SproutError('file-not-found', 'The archive file does not exist.', { file: archive });
  const work = stagingWorkFolder(dataDirOf(db), 'unpack');
  try {
    extractTar(archive, work);
    checkEntries(work, readManifest(join(work, MANIFEST_FILE), archive), archive);
    if (!existsSync(join(work, ARCHIVE_DATABASE)))
      throw new SproutError('bad-archive', `The archive holds no ${ARCHIVE_DATABASE}.`, { file: archive });
    const source = openLibrary(join(work, ARCHIVE_DATABASE));
    try {
      return mergeLibrary(db, source);
    } finally {
      source.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
