import { existsSync } from 'node:fs';
import { cachedModelFolder } from '../hub/cached-folder.js';
import { inspectModel } from '../hub/inspect.js';
import { getModel } from '../library/models.js';
import { SproutError } from '../errors.js';
import { printJson, UsageError, type Command } from './command.js';
import { withLibrary } from './model-shared.js';

export const modelVerifyCommand: Command = {
  path: ['model', 'verify'],
  summary: 'Check a model: config, every tensor and its shape, tokenizer, and the checksums of downloaded files',
  usage: `Usage: sprout model verify ID|PATH

Validates a registered model (by id) or a folder / .safetensors file, and re-hashes files downloaded from the Hub.
Prints one JSON line: ok, path, tensors, checked_blobs, summary. A problem is reported by name (exit code 2).`,
  options: {},
  positionals: true,
  async run({ positionals }) {
    if (positionals.length !== 1) throw new UsageError('Give exactly one model id or path.');
    const record = await withLibrary((db) => getModel(db, positionals[0]));
    const path = record?.path ?? positionals[0];
    if (!record && !existsSync(path)) {
      throw new SproutError('unknown-model', `"${positionals[0]}" is neither a registered model nor a folder or file.`, {
        hint: 'See `sprout model list`.',
      });
    }
    const inspected = await inspectModel(record ? path : cachedModelFolder(path), { verify: true });
    printJson({
      ok: true,
      id: record?.id ?? null,
      path: inspected.path,
      tensors: inspected.checkpoint.tensors.size,
      checked_blobs: inspected.checkedBlobs,
      summary: inspected.summary,
    });
  },
};
