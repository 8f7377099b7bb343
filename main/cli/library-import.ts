import { importPeft } from '../export/peft.js';
import { printJson, UsageError, type Command } from './command.js';
import { withLibrary } from './model-shared.js';

export const libraryImportCommand: Command = {
  path: ['library', 'import'],
  summary: 'Import a Hugging Face PEFT prompt-tuning adapter folder as a library prompt',
  usage: `Usage: sprout library import --peft DIR [--name NAME] [--model MODEL]

Reads rows 0..N-1 of prompt_embeddings (F32, F16 or BF16). The base model is MODEL (a model id or folder) when
given, else the adapter's base_model_name_or_path. Prints one JSON line: { "id" }.`,
  options: { peft: { type: 'string' }, name: { type: 'string' }, model: { type: 'string' } },
  async run({ values }) {
    if (!values.peft) throw new UsageError('Give the adapter folder: --peft DIR.');
    const id = await withLibrary((db) =>
      importPeft(db, values.peft as string, { name: values.name as string | undefined, model: values.model as string | undefined }),
    );
    printJson({ id });
  },
};
