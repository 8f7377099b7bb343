import { deletePrompt } from '../library/prompts.js';
import { refuseDeletingInUse } from '../label/prompt-in-use.js';
import { printJson, type Command } from './command.js';
import { PROMPT_ID_HELP, idArgument } from './library-shared.js';
import { withLibrary } from './model-shared.js';

export const libraryRemoveCommand: Command = {
  path: ['library', 'rm'],
  summary: 'Delete a prompt (asks for --force when others derive from it)',
  usage: `Usage: sprout library rm ID [--force]
${PROMPT_ID_HELP}

Refuses when other prompts were transferred or copied from ID; --force deletes it anyway and makes them derive
from ID's own source. Prints one JSON line: { "deleted", "reparented": [ids] }.`,
  options: { force: { type: 'boolean', default: false } },
  positionals: true,
  async run({ values, positionals }) {
    const { id } = await idArgument(positionals, 'rm', 'none');
    printJson(
      await withLibrary((db) => {
        refuseDeletingInUse(db, id);
        return deletePrompt(db, id, { force: values.force as boolean });
      }),
    );
  },
};
