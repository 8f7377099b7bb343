import { basename, dirname } from 'node:path';
import { convertedFolderFor, inspectModel } from '../hub/inspect.js';
import { findModelByPath, localModelId, saveModel } from '../library/models.js';
import { printJson, UsageError, type Command } from './command.js';
import { describeSummary, modelJson, withLibrary } from './model-shared.js';

export const modelImportCommand: Command = {
  path: ['model', 'import'],
  summary: 'Register a T5 model folder (or one .safetensors file) already on disk, without copying it',
  usage: `Usage: sprout model import PATH

PATH is a model folder (config.json, model.safetensors or shards, tokenizer.json or spiece.model) or a single
.safetensors file with config.json and the tokenizer beside it. The model is validated and registered in place.
A folder with only PyTorch weights (pytorch_model.bin, or its shards and index) is converted once to safetensors,
with the same split, in Sprout's data folder.
Prints one JSON line: id, path, summary.`,
  options: {},
  positionals: true,
  async run({ positionals }) {
    if (positionals.length !== 1) throw new UsageError('Give exactly one folder or .safetensors file.');
    const folder = convertedFolderFor(positionals[0]);
    const inspected = await inspectModel(folder);
    const record = await withLibrary((db) => {
      const name =
        basename(inspected.path) === 'model.safetensors'
          ? basename(dirname(inspected.path))
          : basename(inspected.path).replace(/\.safetensors$/, '');
      const id = findModelByPath(db, inspected.path)?.id ?? localModelId(db, name, inspected.path);
      return saveModel(db, { id, repo: null, revision: null, sha: null, path: inspected.path, summary: inspected.summary });
    });
    process.stderr.write(`${record.id}: ${describeSummary(record.summary)}\n`);
    printJson(modelJson(record));
  },
};
