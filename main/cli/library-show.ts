import { promptChildren, promptLineage } from '../library/prompts.js';
import { metricRows } from '../wording.js';
import { getRun } from '../library/runs.js';
import { getTask } from '../library/tasks.js';
import { printJson, type Command } from './command.js';
import { PROMPT_ID_HELP, idArgument, promptJson, promptLine } from './library-shared.js';
import { withLibrary } from './model-shared.js';

export const libraryShowCommand: Command = {
  path: ['library', 'show'],
  summary: 'Show a prompt with its lineage (the prompts it was transferred from)',
  usage: `Usage: sprout library show ID [--json]
${PROMPT_ID_HELP}

--json prints one JSON line:
{ "prompt": {…}, "lineage": [ {…parent}, {…grandparent} ], "derived": [ … ], "task": {…}|null, "run": {…}|null }.`,
  options: { json: { type: 'boolean', default: false } },
  positionals: true,
  async run({ values, positionals }) {
    const { id } = await idArgument(positionals, 'show', 'none');
    const shown = await withLibrary((db) => {
      const [prompt, ...lineage] = promptLineage(db, id);
      return {
        prompt,
        lineage,
        derived: promptChildren(db, id),
        task: prompt.taskId === null ? null : (getTask(db, prompt.taskId) ?? null),
        run: prompt.runId === null ? null : (getRun(db, prompt.runId) ?? null),
      };
    });
    if (values.json) {
      printJson({
        prompt: promptJson(shown.prompt),
        lineage: shown.lineage.map(promptJson),
        derived: shown.derived.map(promptJson),
        task: shown.task,
        run: shown.run,
      });
      return;
    }
    const p = shown.prompt;
    const out = [promptLine(p), `      created ${p.created}`];
    if (p.model.path) out.push(`      model folder ${p.model.path}`);
    if (shown.task) out.push(`      task ${shown.task.id} "${shown.task.name}": ${shown.task.template}`);
    // In words, as the app's Library lists them; --json has the stored record as it is.
    if (typeof p.metrics.metric_reason === 'string') out.push(`      judged by ${p.metrics.metric_reason}`);
    for (const [name, value] of metricRows(p.metrics)) out.push(`      ${name}: ${value}`);
    const warnings = Array.isArray(p.metrics.warnings) ? (p.metrics.warnings as unknown[]).filter((w) => typeof w === 'string') : [];
    for (const w of warnings) out.push(`      warning: ${w}`);
    if (p.notes) out.push(`      notes: ${p.notes}`);
    out.push(shown.lineage.length ? 'Transferred from:' : 'Transferred from: none (trained from its own initialisation)');
    shown.lineage.forEach((q, depth) => out.push(`${'  '.repeat(depth + 1)}${promptLine(q).trimStart()}`));
    if (shown.derived.length) out.push(`Derived: ${shown.derived.map((q) => q.id).join(', ')}`);
    process.stdout.write(`${out.join('\n')}\n`);
  },
};
