import { renamePrompt } from '../library/prompts.js';
import { printJson, type Command } from './command.js';
import { PROMPT_ID_HELP, idArgument } from './library-shared.js';
import { withLibrary } from './model-shared.js';

export const libraryRenameCommand: Command = {
  path: ['library', 'rename'],
  summary: 'Rename a prompt',
  usage: `Usage: sprout library rename ID NAME
${PROMPT_ID_HELP}

Prints one JSON line: { "id", "name" }.`,
  options: {},
  positionals: true,
  async run({ positionals }) {
    const { id, rest } = await idArgument(positionals, 'rename', 'some');
    const name = rest.join(' ');
    await withLibrary((db) => renamePrompt(db, id, name));
    printJson({ id, name });
  },
};
