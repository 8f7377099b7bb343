import { exportPeft } from '../export/peft.js';
import { printJson, UsageError, type Command } from './command.js';
import { PROMPT_ID_HELP, idArgument } from './library-shared.js';
import { withLibrary } from './model-shared.js';
import { dataDir } from '../paths.js';
import { checkOutputPlace } from '../output-path.js';

export const libraryExportCommand: Command = {
  path: ['library', 'export'],
  summary: 'Export a prompt as a Hugging Face PEFT prompt-tuning adapter folder',
  usage: `Usage: sprout library export ID --peft DIR
${PROMPT_ID_HELP}

Writes DIR/adapter_config.json and DIR/adapter_model.safetensors (prompt_embeddings [2N, d]; rows N..2N-1 repeat
rows 0..N-1, as PEFT lays out seq2seq prompts). Load it with PeftModel.from_pretrained(model, DIR).
Prints one JSON line: { "id", "dir", "num_virtual_tokens", "token_dim", "base_model_name_or_path" }.`,
  options: { peft: { type: 'string' } },
  positionals: true,
  async run({ values, positionals }) {
    const { id } = await idArgument(positionals, 'export', 'none');
    if (!values.peft) throw new UsageError('Give the folder to write: --peft DIR.');
    const dir = values.peft as string;
    checkOutputPlace(dir, dataDir(), 'PEFT folder');
    const config = await withLibrary((db) => exportPeft(db, id, dir));
    printJson({
      id,
      dir,
      num_virtual_tokens: config.num_virtual_tokens,
      token_dim: config.token_dim,
      base_model_name_or_path: config.base_model_name_or_path,
    });
  },
};
