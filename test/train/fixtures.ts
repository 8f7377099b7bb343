import { readSafetensorsHeader, readTensorF32 } from '../../main/checkpoint/safetensors.js';
import path from 'node:path';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const shared = path.resolve(repoRoot, '../shared');
export const miniModel = path.join(shared, 'fixtures/mini-t5-pretrained');
export const tinyModel = path.join(shared, 'fixtures/tiny-t5-v1_1');
/** How the CLI reads CoLA's published TSVs: no header, no quoting, the sentence in column 3, the label in column 1. */
export const COLA_TSV_FLAGS = ['--no-header', '--quoting', 'none', '--text-column', '3', '--label-column', '1'];

/** shared.weight of a fixture model, read straight from its safetensors file. */
export function sharedWeight(modelDir: string): { data: Float32Array; dModel: number; vocabSize: number } {
  const entry = readSafetensorsHeader(path.join(modelDir, 'model.safetensors')).get('shared.weight')!;
  return { data: readTensorF32(entry), vocabSize: entry.shape[0], dModel: entry.shape[1] };
}
