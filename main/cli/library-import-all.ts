import { importLibraryArchive } from '../export/library-archive.js';
import { printJson, type Command } from './command.js';
import { fileArgument } from './library-shared.js';
import { withLibrary } from './model-shared.js';

export const libraryImportAllCommand: Command = {
  path: ['library', 'import-all'],
  summary: 'Add everything in a library archive to this library',
  usage: `Usage: sprout library import-all FILE

Adds the archive's models, datasets, tasks, runs and prompts; what is already here is kept, so importing the same
archive twice adds nothing. Prints one JSON line:
{ "models", "datasets", "tasks", "runs", "prompts", "prompts_present" }.`,
  options: {},
  positionals: true,
  async run({ positionals }) {
    const file = fileArgument(positionals, 'import-all');
    const c = await withLibrary((db) => importLibraryArchive(db, file));
    printJson({
      models: c.models,
      datasets: c.datasets,
      tasks: c.tasks,
      runs: c.runs,
      prompts: c.prompts,
      prompts_present: c.promptsPresent,
    });
  },
};
