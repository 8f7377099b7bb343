import { exportLibraryArchive } from '../export/library-archive.js';
import { printJson, type Command } from './command.js';
import { fileArgument } from './library-shared.js';
import { withLibrary } from './model-shared.js';
import { dataDir } from '../paths.js';
import { checkOutputFile } from '../output-path.js';

export const libraryExportAllCommand: Command = {
  path: ['library', 'export-all'],
  summary: 'Write the whole library (database and every prompt as a PEFT folder) to one archive',
  usage: `Usage: sprout library export-all FILE

FILE is a tar archive: sprout-library.json, library.sqlite and prompts/<id>-<name>/ PEFT folders.
Prints one JSON line: { "file", "prompts" }.`,
  options: {},
  positionals: true,
  async run({ positionals }) {
    const file = fileArgument(positionals, 'export-all');
    checkOutputFile(file, dataDir(), 'archive');
    const manifest = await withLibrary((db) => exportLibraryArchive(db, file));
    printJson({ file, prompts: manifest.prompts.length });
  },
};
