import { listDatasets } from '../library/datasets.js';
import { printJson, type Command } from './command.js';
import { datasetJson, datasetLine } from './data-shared.js';
import { withLibrary } from './model-shared.js';

export const dataListCommand: Command = {
  path: ['data', 'list'],
  summary: 'List the datasets in the library',
  usage: `Usage: sprout data list [--json]

Lists imported datasets; --json prints one JSON line:
{ "datasets": [ {id, name, source, format, rows, splits, labels, …} ] }.`,
  options: { json: { type: 'boolean', default: false } },
  async run({ values }) {
    const datasets = await withLibrary((db) => listDatasets(db));
    if (values.json) {
      printJson({ datasets: datasets.map(datasetJson) });
      return;
    }
    if (datasets.length === 0) {
      process.stdout.write('No datasets yet. Try `sprout data import FILE`.\n');
      return;
    }
    for (const d of datasets) process.stdout.write(`${datasetLine(d)}\n`);
  },
};
