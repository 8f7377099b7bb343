import { SproutError } from '../errors.js';
import { getDataset } from '../library/datasets.js';
import { printJson, UsageError, type Command } from './command.js';
import { datasetJson, onePositional } from './data-shared.js';
import { withLibrary } from './model-shared.js';

export const dataShowCommand: Command = {
  path: ['data', 'show'],
  summary: 'Show one dataset: its source, column mapping, splits, labels and import report',
  usage: `Usage: sprout data show ID [--json]

--json prints one JSON line with the dataset's record and its import report.`,
  options: { json: { type: 'boolean', default: false } },
  positionals: true,
  async run({ values, positionals }) {
    const raw = onePositional(positionals, 'dataset id', 'data show');
    const id = Number(raw);
    if (!Number.isInteger(id) || id <= 0)
      throw new UsageError(`A dataset id is a positive whole number, not "${raw}". See \`sprout data list\`.`);
    const dataset = await withLibrary((db) => getDataset(db, id));
    if (!dataset)
      throw new SproutError('data-no-dataset', `There is no dataset ${id} in the library.`, {
        hint: 'See `sprout data list` for the ids.',
      });
    const json = datasetJson(dataset);
    if (values.json) {
      printJson(json);
      return;
    }
    const lines = Object.entries(json).map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  },
};
