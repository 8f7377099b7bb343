import { SproutError } from '../errors.js';
import { getModel, removeModel } from '../library/models.js';
import { printJson, UsageError, type Command } from './command.js';
import { withLibrary } from './model-shared.js';

export const modelRemoveCommand: Command = {
  path: ['model', 'remove'],
  summary: 'Remove a model from the library (its files stay where they are)',
  usage: `Usage: sprout model remove ID

Forgets the model ID. Files are not deleted: downloads stay in the Hugging Face cache, which Python tools share
(\`huggingface-cli delete-cache\` frees them), and imported folders belong to you. Prints one JSON line: removed, path.`,
  options: {},
  positionals: true,
  async run({ positionals }) {
    if (positionals.length !== 1) throw new UsageError('Give exactly one model id (see `sprout model list`).');
    const id = positionals[0];
    const path = await withLibrary((db) => {
      const record = getModel(db, id);
      if (!record)
        throw new SproutError('unknown-model', `No model "${id}" in the library.`, { hint: 'See `sprout model list` for the ids.' });
      removeModel(db, id);
      return record.path;
    });
    printJson({ removed: id, path });
  },
};
