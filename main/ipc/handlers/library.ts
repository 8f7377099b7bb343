import type { PromptDetail, PromptInfo, ResponseOf, SimilarityMap, ValidRequestOf } from '../../../preload/contract.js';
import { exportPeft, importPeft, PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE } from '../../export/peft.js';
import type { LibraryDb } from '../../library/db.js';
import {
  deletePrompt,
  getPrompt,
  listPrompts,
  promptChildren,
  promptLineage,
  renamePrompt,
  requirePrompt,
  setPromptNotes,
  tagPrompt,
  type PromptSummary,
} from '../../library/prompts.js';
import { getTask } from '../../library/tasks.js';
import { decisionText } from '../../train/threshold.js';
import type { HandlerContext } from '../context.js';
import { existingFile, existingFolder, outputFile, outputTarget } from './files.js';
import { requireModel } from './models.js';
import { project2d } from './pca.js';
import { libraryOf } from './library-connection.js';
import { refuseDeletingInUse } from '../../label/prompt-in-use.js';

export function promptInfo(db: LibraryDb, p: PromptSummary): PromptInfo {
  const task = p.taskId === null ? undefined : getTask(db, p.taskId);
  return {
    id: p.id,
    uid: p.uid,
    name: p.name,
    modelId: p.model.id,
    modelPath: p.model.path,
    length: p.length,
    dModel: p.dModel,
    init: p.init,
    parentId: p.parentId,
    taskId: p.taskId,
    taskName: task?.name ?? null,
    runId: p.runId,
    labels: p.labels,
    metrics: p.metrics,
    tags: p.tags,
    notes: p.notes,
    decision: p.decision && decisionText(p.decision, task?.labelSet ?? p.labels ?? []),
    created: p.created,
  };
}

function info(db: LibraryDb, id: number): PromptInfo {
  return promptInfo(db, requirePrompt(db, id));
}

export function listLibrary(context: HandlerContext, r: ValidRequestOf<'library.list'>): PromptInfo[] {
  const db = libraryOf(context);
  return listPrompts(db, { search: r.search || undefined, model: r.modelId, task: r.task, tag: r.tag }).map((p) => promptInfo(db, p));
}

export function showPrompt(context: HandlerContext, id: number): PromptDetail {
  const db = libraryOf(context);
  const prompt = info(db, id);
  const task = prompt.taskId === null ? undefined : getTask(db, prompt.taskId);
  return {
    ...prompt,
    lineage: promptLineage(db, id)
      .slice(1)
      .map((p) => promptInfo(db, p)),
    children: promptChildren(db, id).map((p) => promptInfo(db, p)),
    task: task ? { id: task.id, name: task.name, template: task.template, verbalizer: task.verbalizer, datasetId: task.datasetId } : null,
  };
}

export function rename(context: HandlerContext, id: number, name: string): PromptInfo {
  const db = libraryOf(context);
  renamePrompt(db, id, name);
  return info(db, id);
}

export function tag(context: HandlerContext, r: ValidRequestOf<'library.tag'>): PromptInfo {
  const db = libraryOf(context);
  tagPrompt(db, r.id, r.add ?? [], r.remove ?? []);
  return info(db, r.id);
}

export function note(context: HandlerContext, id: number, notes: string): PromptInfo {
  const db = libraryOf(context);
  setPromptNotes(db, id, notes);
  return info(db, id);
}

export function remove(context: HandlerContext, id: number, force: boolean): { removed: boolean; children: number } {
  const db = libraryOf(context);
  refuseDeletingInUse(db, id);
  const result = deletePrompt(db, id, { force });
  return { removed: true, children: result.reparented.length };
}

export function exportPeftFolder(context: HandlerContext, id: number, dir: string): { dir: string; files: string[] } {
  const target = outputTarget(dir, context.dataDir, 'export folder');
  exportPeft(libraryOf(context), id, target);
  return { dir: target, files: [PEFT_CONFIG_FILE, PEFT_WEIGHTS_FILE] };
}

export function importPeftFolder(context: HandlerContext, r: ValidRequestOf<'library.importPeft'>): PromptInfo {
  const db = libraryOf(context);
  const dir = existingFolder(r.dir, 'PEFT adapter folder');
  if (r.modelId !== undefined) requireModel(db, r.modelId);
  return info(db, importPeft(db, dir, { name: r.name, model: r.modelId }));
}

/** The archive is written on the engine worker's own connection: a library with large datasets takes seconds. */
export function exportAll(context: HandlerContext, file: string): Promise<ResponseOf<'library.exportAll'>> {
  const target = outputFile(file, context.dataDir, 'library archive');
  return context.worker.run('library.exportAll', { dataDir: context.dataDir, file: target });
}

export function importAll(context: HandlerContext, file: string): Promise<ResponseOf<'library.importAll'>> {
  return context.worker.run('library.importAll', { dataDir: context.dataDir, file: existingFile(file, 'library archive') });
}

/** Each prompt of the model mean-pooled over its tokens ([length × d] → [d]), then projected to 2-D. */
export function similarityMap(context: HandlerContext, modelId: string): SimilarityMap {
  const db = libraryOf(context);
  const summaries = listPrompts(db, { model: modelId });
  const rows = summaries.map((s) => {
    const p = getPrompt(db, s.id)!;
    const mean = new Float64Array(p.dModel);
    for (let t = 0; t < p.length; t++) for (let k = 0; k < p.dModel; k++) mean[k] += p.embedding[t * p.dModel + k] / p.length;
    return mean;
  });
  // Prompts of different widths cannot share axes; the model id fixes the width, but a stray import might not.
  const width = rows[0]?.length;
  const kept = summaries.filter((_, i) => rows[i].length === width);
  const projection = project2d(rows.filter((r) => r.length === width));
  return {
    modelId,
    explained: projection.explained,
    points: kept.map((s, i) => ({
      promptId: s.id,
      name: s.name,
      taskName: s.taskId === null ? null : (getTask(db, s.taskId)?.name ?? null),
      x: projection.points[i][0],
      y: projection.points[i][1],
    })),
  };
}
