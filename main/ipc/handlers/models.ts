import { existsSync } from 'node:fs';
import type { CatalogueModel, ModelInfo, ModelVerification } from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import { catalogueOnDisk } from '../../hub/catalogue.js';
import type { LibraryDb } from '../../library/db.js';
import { findModelByPath, getModel, listModels, removeModel, type ModelRecord } from '../../library/models.js';
import type { HandlerContext } from '../context.js';
import { existingPath } from './files.js';
import { effectiveHubSettings, readSettings } from './settings.js';
import { stateOf } from './state.js';

export function modelInfo(record: ModelRecord): ModelInfo {
  return { ...record, present: existsSync(record.path) };
}

export function requireModel(db: LibraryDb, id: string): ModelRecord {
  const record = getModel(db, id);
  if (!record) throw new SproutError('unknown-model', `There is no model "${id}" in the library.`, { hint: 'Download one from the catalogue or import a model folder in the Model step.' });
  if (!existsSync(record.path)) {
    throw new SproutError('model-missing', `The files of model "${id}" are gone from ${record.path}.`, { file: record.path, hint: 'Download or import it again, or remove it from the list.' });
  }
  return record;
}

export function catalogue(context: HandlerContext): CatalogueModel[] {
  const { db, downloads } = stateOf(context);
  const settings = effectiveHubSettings(readSettings(context.dataDir));
  return catalogueOnDisk(settings.cacheDir).map(({ cachedDir, ...entry }) => ({
    ...entry,
    onDisk: cachedDir !== null,
    modelId: getModel(db, entry.repo)?.id ?? (cachedDir ? (findModelByPath(db, cachedDir)?.id ?? null) : null),
    downloadJobId: downloads.runningFor(entry.repo),
  }));
}

export function listModelInfo(context: HandlerContext): ModelInfo[] {
  return listModels(stateOf(context).db).map(modelInfo);
}

export async function importModel(context: HandlerContext, path: string): Promise<ModelInfo> {
  const target = existingPath(path, 'model folder or .safetensors file');
  const { record } = await context.worker.run('model.inspect', { dataDir: context.dataDir, path: target, register: true, verify: false });
  return modelInfo(record!);
}

export async function verifyModel(context: HandlerContext, id: string): Promise<ModelVerification> {
  const record = requireModel(stateOf(context).db, id);
  const out = await context.worker.run('model.inspect', { dataDir: context.dataDir, path: record.path, register: false, verify: true });
  return { id, ok: true, checkedFiles: out.checkedBlobs, message: `${out.tensors} tensors with the shapes the config implies, and a tokenizer${out.checkedBlobs ? `; ${out.checkedBlobs} downloaded file(s) match the Hub's checksums` : ''}.` };
}

export function forgetModel(context: HandlerContext, id: string): { removed: boolean } {
  return { removed: removeModel(stateOf(context).db, id) };
}
