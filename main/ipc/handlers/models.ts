import type { ModelInfo, ModelVerification } from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import type { LibraryDb } from '../../library/db.js';
import { getModel, listModels, modelFilesPresent, presentModel, removeModel, type ModelRecord } from '../../library/models.js';
import type { HandlerContext } from '../context.js';
import { existingPath } from './files.js';
import { libraryOf } from './library-connection.js';
import { counted } from '../../wording.js';

export function modelInfo(record: ModelRecord): ModelInfo {
  return { ...record, present: modelFilesPresent(record) };
}

export function requireModel(db: LibraryDb, id: string): ModelRecord {
  const record = getModel(db, id);
  if (!record)
    throw new SproutError('unknown-model', `There is no model "${id}" in the library.`, {
      hint: 'Download one from the catalogue or import a model folder in the Model step.',
    });
  return presentModel(record);
}

export function listModelInfo(context: HandlerContext): ModelInfo[] {
  return listModels(libraryOf(context)).map(modelInfo);
}

export async function importModel(context: HandlerContext, path: string): Promise<ModelInfo> {
  const target = existingPath(path, 'model folder or .safetensors file');
  const { record } = await context.worker.run('model.inspect', { dataDir: context.dataDir, path: target, register: true, verify: false });
  return modelInfo(record!);
}

export async function verifyModel(context: HandlerContext, id: string): Promise<ModelVerification> {
  const record = requireModel(libraryOf(context), id);
  const out = await context.worker.run('model.inspect', { dataDir: context.dataDir, path: record.path, register: false, verify: true });
  return {
    id,
    ok: true,
    checkedFiles: out.checkedBlobs,
    message:
      `${out.tensors} tensors with the shapes the config implies` +
      `, and a tokenizer${out.checkedBlobs ? `; the Hub's checksums match ${counted(out.checkedBlobs, 'downloaded file')}` : ''}.`,
  };
}

export function forgetModel(context: HandlerContext, id: string): { removed: boolean } {
  return { removed: removeModel(libraryOf(context), id) };
}
