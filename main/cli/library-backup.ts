import { backupLibrary } from '../library/backup.js';
import { printJson, type Command } from './command.js';
import { fileArgument } from './library-shared.js';
import { withLibrary } from './model-shared.js';
import { dataDir } from '../paths.js';
import { checkOutputFile } from '../output-path.js';

export const libraryBackupCommand: Command = {
  path: ['library', 'backup'],
  summary: 'Copy the library database to a file (SQLite online backup)',
  usage: `Usage: sprout library backup FILE

Safe while Sprout is running. The copy is an ordinary SQLite file; restore it by putting it in place of
library.sqlite in the data folder while Sprout is closed. Prints one JSON line: { "file", "bytes" }.`,
  options: {},
  positionals: true,
  async run({ positionals }) {
    const file = fileArgument(positionals, 'backup');
    checkOutputFile(file, dataDir(), 'backup file');
    printJson(await withLibrary((db) => backupLibrary(db, file)));
  },
};
