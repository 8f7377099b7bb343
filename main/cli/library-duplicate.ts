import { duplicatePrompt } from '../library/prompts.js';
import { printJson, type Command } from './command.js';
import { PROMPT_ID_HELP, idArgument } from './library-shared.js';
import { withLibrary } from './model-shared.js';

export const libraryDuplicateCommand: Command = {
  path: ['library', 'duplicate'],
  summary: 'Copy a prompt under a new id',
  usage: `Usage: sprout library duplicate ID [--name NAME]
${PROMPT_ID_HELP}

Prints one JSON line: { "id" } of the copy, which derives from ID.`,
  options: { name: { type: 'string' } },
  positionals: true,
  async run({ values, positionals }) {
    const { id } = await idArgument(positionals, 'duplicate', 'none');
    printJson({ id: await withLibrary((db) => duplicatePrompt(db, id, values.name as string | undefined)) });
  },
};
