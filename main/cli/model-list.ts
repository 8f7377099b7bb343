import { listModels, modelFilesPresent } from '../library/models.js';
import { printJson, type Command } from './command.js';
import { describeSummary, modelJson, withLibrary } from './model-shared.js';

export const modelListCommand: Command = {
  path: ['model', 'list'],
  summary: 'List the models in the library',
  usage: `Usage: sprout model list [--json]

Lists registered models; --json prints one JSON line: { "models": [ {id, repo, revision, sha, path, added, summary, present} ] }.`,
  options: { json: { type: 'boolean', default: false } },
  async run({ values }) {
    const models = await withLibrary((db) => listModels(db));
    if (values.json) {
      printJson({ models: models.map(modelJson) });
      return;
    }
    if (models.length === 0) {
      process.stdout.write('No models yet. Try `sprout model download google/t5-small-lm-adapt`.\n');
      return;
    }
    for (const m of models) {
      const missing = modelFilesPresent(m) ? '' : '  (files missing: moved or deleted)';
      process.stdout.write(`${m.id}\n  ${describeSummary(m.summary)}\n  ${m.path}${missing}\n`);
    }
  },
};
