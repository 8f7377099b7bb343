import { cachedModelFolder } from '../hub/cached-folder.js';
import { convertedFolderFor, inspectModel } from '../hub/inspect.js';
import { registerLocalModel } from '../library/models.js';
import { printJson, UsageError, type Command } from './command.js';
import { describeSummary, modelJson, withLibrary } from './model-shared.js';

export const modelImportCommand: Command = {
  path: ['model', 'import'],
  summary: 'Register a T5 model folder (or one .safetensors file) already on disk, without copying it',
  usage: `Usage: sprout model import PATH

PATH is a model folder (config.json, model.safetensors or shards, tokenizer.json or spiece.model) or a single
.safetensors file with config.json and the tokenizer beside it. The model is validated and registered in place.
A model in Python's Hugging Face cache can be given by its folder there (~/.cache/huggingface/hub/models--ORG--NAME):
the snapshot refs/main names is registered.
A folder with only PyTorch weights (pytorch_model.bin, or its shards and index) is converted once to safetensors,
with the same split, in Sprout's data folder.
Prints one JSON line: id, path, summary.
The id is what \`--model\` takes in the commands that use a model (train, label, transfer rank).`,
  options: {},
  positionals: true,
  async run({ positionals }) {
    if (positionals.length !== 1) throw new UsageError('Give exactly one folder or .safetensors file.');
    const folder = convertedFolderFor(cachedModelFolder(positionals[0]));
    const inspected = await inspectModel(folder);
    const record = await withLibrary((db) => registerLocalModel(db, inspected));
    process.stderr.write(`${record.id}: ${describeSummary(record.summary)}\n`);
    printJson(modelJson(record));
  },
};
