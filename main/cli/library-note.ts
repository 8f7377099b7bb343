import { setPromptNotes } from '../library/prompts.js';
import { printJson, UsageError, type Command } from './command.js';
import { PROMPT_ID_HELP, idArgument } from './library-shared.js';
import { withLibrary } from './model-shared.js';

export const libraryNoteCommand: Command = {
  path: ['library', 'note'],
  summary: 'Set the notes of a prompt',
  usage: `Usage: sprout library note ID TEXT
${PROMPT_ID_HELP}

Replaces the prompt's notes with TEXT; \`sprout library note ID ""\` clears them. Prints one JSON line: { "id", "notes" }.`,
  options: {},
  positionals: true,
  async run({ positionals }) {
    const { id, rest } = await idArgument(positionals, 'note', 'any');
    // Without TEXT the command would clear the notes: a forgotten argument must not erase them.
    if (rest.length === 0) throw new UsageError('Give the notes: sprout library note ID TEXT (an empty "" clears them).');
    const notes = rest.join(' ');
    await withLibrary((db) => setPromptNotes(db, id, notes));
    printJson({ id, notes });
  },
};
