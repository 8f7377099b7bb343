import { listPrompts } from '../library/prompts.js';
import { printJson, type Command } from './command.js';
import { promptJson, promptLine } from './library-shared.js';
import { withLibrary } from './model-shared.js';

export const libraryListCommand: Command = {
  path: ['library', 'list'],
  summary: 'List the prompts in the library (filter by model, task, tag or text)',
  usage: `Usage: sprout library list [--model MODEL] [--task TASK] [--tag TAG] [--search TEXT] [--json]

--model matches a model id or folder, --task a task id or name, --search the name or notes.
--json prints one JSON line: { "prompts": [ {id, name, model, length, d_model, init, parent_id, tags, …} ] }.`,
  options: {
    model: { type: 'string' },
    task: { type: 'string' },
    tag: { type: 'string' },
    search: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  async run({ values }) {
    const filter = {
      model: values.model as string | undefined,
      task: values.task as string | undefined,
      tag: values.tag as string | undefined,
      search: values.search as string | undefined,
    };
    const prompts = await withLibrary((db) => listPrompts(db, filter));
    if (values.json) {
      printJson({ prompts: prompts.map(promptJson) });
      return;
    }
    if (prompts.length === 0) {
      process.stdout.write('No prompts match. Train one with `sprout train`, or import one with `sprout library import --peft DIR`.\n');
      return;
    }
    for (const p of prompts) process.stdout.write(`${promptLine(p)}\n`);
  },
};
