import { findPromptId, type PromptSummary } from '../library/prompts.js';
import { promptHeadline } from '../wording.js';
import { UsageError } from './command.js';
import { withLibrary } from './model-shared.js';

/** The JSON shape of a prompt that `sprout library` commands print (snake_case like the other commands). */
export function promptJson(p: PromptSummary): Record<string, unknown> {
  return {
    id: p.id,
    name: p.name,
    model: { id: p.model.id, path: p.model.path },
    length: p.length,
    d_model: p.dModel,
    init: p.init,
    parent_id: p.parentId,
    task_id: p.taskId,
    run_id: p.runId,
    labels: p.labels,
    metrics: p.metrics,
    tags: p.tags,
    notes: p.notes,
    task_embedding_step: p.taskEmbeddingStep,
    created: p.created,
  };
}

/** One line describing a prompt for people: with its headline score (as the app's Library shows it) once it has one. */
export function promptLine(p: PromptSummary): string {
  const tags = p.tags.length ? `  [${p.tags.join(', ')}]` : '';
  const headline = Object.keys(p.metrics).length ? `  ${promptHeadline(p.metrics)}` : '';
  return `${String(p.id).padStart(4)}  ${p.name}  (${p.model.id ?? p.model.path ?? 'unknown model'}, ${p.length}×${p.dModel}, init ${p.init})${headline}${tags}`;
}

/** How the library commands' ID argument is read, for their help. */
export const PROMPT_ID_HELP = 'ID is a prompt id, or a prompt name that only one prompt has (`sprout library list` shows both).';

/** The prompt that the first positional argument names (an id, or a unique name: findPromptId), and the rest. */
export async function idArgument(
  positionals: string[],
  command: string,
  rest: 'none' | 'some' | 'any',
): Promise<{ id: number; rest: string[] }> {
  if (positionals.length === 0)
    throw new UsageError(`Give a prompt id or name: sprout library ${command} ID (see \`sprout library list\`).`);
  const tail = positionals.slice(1);
  if (rest === 'none' && tail.length > 0)
    throw new UsageError(`sprout library ${command} takes one prompt id, got: ${positionals.join(' ')}.`);
  if (rest === 'some' && tail.length === 0)
    throw new UsageError(`sprout library ${command} needs more than the prompt id; see \`sprout library ${command} --help\`.`);
  return { id: await withLibrary((db) => findPromptId(db, positionals[0])), rest: tail };
}

/** The single FILE argument of a command. */
export function fileArgument(positionals: string[], command: string): string {
  if (positionals.length !== 1) throw new UsageError(`Give one file: sprout library ${command} FILE.`);
  return positionals[0];
}
