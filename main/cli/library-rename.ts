import { renamePrompt } from '../library/prompts.js';
import { printJson, type Command } from './command.js';
import { idArgument } from './library-shared.js';
import { withLibrary } from './model-shared.js';

export const libraryRenameCommand: Command = {
  path: ['library', 'rename'],
  summary: 'Rename a prompt',
  usage: `Usage: sprout library rename ID NAME

Prints one JSON line: { "id", "name" }.`,
  options: {},
  positionals: true,
  async run({ positionals }) {
    const { id, rest } = idArgument(positionals, 'rename', 'some');
    const name = rest.join(' ');
    await withLibrary((db) => renamePrompt(db, id, name));
    printJson({ id, name });
  },
};
