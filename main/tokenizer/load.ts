import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { requireModelFolder } from '../checkpoint/checkpoint.js';
import { SproutError } from '../errors.js';
import { invalid, limits } from './spec.js';
import { parseSpieceModel } from './spiece-model.js';
import { T5Tokenizer } from './t5-tokenizer.js';
import { parseTokenizerJson } from './tokenizer-json.js';

/** T5Tokenizer's own default: 100 sentinel tokens <extra_id_0..99>. */
const defaultExtraIds = 100;
const maxConfigBytes = 16 * 1024 * 1024;

/**
 * Loads the tokenizer of a Hugging Face T5 model folder: tokenizer.json when present, else spiece.model.
 * tokenizer_config.json, when present, supplies clean_up_tokenization_spaces and extra_ids.
 */
export async function loadTokenizer(dir: string): Promise<T5Tokenizer> {
  requireModelFolder(dir);
  const config = await readConfig(path.join(dir, 'tokenizer_config.json'));
  const jsonFile = path.join(dir, 'tokenizer.json');
  const json = await readCapped(jsonFile, limits.tokenizerJsonBytes);
  if (json !== null) return new T5Tokenizer(parseTokenizerJson(json.toString('utf8'), jsonFile, config.cleanUpTokenizationSpaces));
  const spieceFile = path.join(dir, 'spiece.model');
  const spiece = await readCapped(spieceFile, limits.spieceModelBytes);
  if (spiece !== null) return new T5Tokenizer(parseSpieceModel(spiece, spieceFile, config));
  throw new SproutError('tokenizer-missing', 'has neither tokenizer.json nor spiece.model.', {
    file: dir,
    hint: 'Download the tokenizer files together with the model (a T5 model repository has both).',
  });
}

interface TokenizerConfig {
  cleanUpTokenizationSpaces: boolean;
  extraIds: number;
}

async function readConfig(file: string): Promise<TokenizerConfig> {
  const config: TokenizerConfig = { cleanUpTokenizationSpaces: true, extraIds: defaultExtraIds };
  const bytes = await readCapped(file, maxConfigBytes);
  if (bytes === null) return config;
  let c: unknown;
  try {
    c = JSON.parse(bytes.toString('utf8'));
  } catch (e) {
    throw invalid(file, `is not valid JSON (${(e as Error).message}).`);
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c)) throw invalid(file, 'must hold a JSON object.');
  const { clean_up_tokenization_spaces: clean, extra_ids: extra } = c as Record<string, unknown>;
  if (clean !== undefined) {
    if (typeof clean !== 'boolean') throw invalid(file, '"clean_up_tokenization_spaces" must be true or false.');
    config.cleanUpTokenizationSpaces = clean;
  }
  if (extra !== undefined) {
    if (!(typeof extra === 'number' && Number.isInteger(extra) && extra >= 0 && extra <= 10_000))
      throw invalid(file, '"extra_ids" must be an integer from 0 to 10000.');
    config.extraIds = extra;
  }
  return config;
}

/** The file's bytes, or null if it does not exist; refuses files over `cap` before reading them. */
async function readCapped(file: string, cap: number): Promise<Buffer | null> {
  let size: number;
  try {
    const s = await stat(file);
    if (!s.isFile()) throw invalid(file, 'is not a regular file.');
    size = s.size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  if (size > cap) throw invalid(file, `has ${size} bytes, more than the ${cap} allowed for it.`);
  return readFile(file);
}
