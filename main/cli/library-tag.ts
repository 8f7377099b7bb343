import { tagPrompt } from '../library/prompts.js';
import { printJson, UsageError, type Command } from './command.js';
import { PROMPT_ID_HELP, idArgument } from './library-shared.js';
import { withLibrary } from './model-shared.js';

export const libraryTagCommand: Command = {
  path: ['library', 'tag'],
  summary: 'Add (or --remove) tags of a prompt',
  usage: `Usage: sprout library tag ID [TAG...] [--remove TAG]...
${PROMPT_ID_HELP}

Prints one JSON line: { "id", "tags" } with the tags afterwards.`,
  options: { remove: { type: 'string', multiple: true } },
  positionals: true,
  async run({ values, positionals, listHint }) {
    // `--remove old stale` would otherwise add "stale" while removing "old".
    if (listHint) throw new UsageError(`${listHint}; tags to add go before --remove.`);
    const { id, rest } = await idArgument(positionals, 'tag', 'any');
    const tags = await withLibrary((db) => tagPrompt(db, id, rest, (values.remove as string[] | undefined) ?? []));
    printJson({ id, tags });
  },
};
