/**
 * Sprout's token ids for a JSON array of texts on stdin, one JSON array of ids per text on stdout (eos included).
 * sentencepiece_parity.py bundles it to out/tokenize-texts.js and runs `node out/tokenize-texts.js MODEL_DIR < texts.json`.
 * MODEL_DIR is read as Sprout reads a model folder: tokenizer.json when present, else spiece.model.
 */
import { loadTokenizer } from '../main/tokenizer/load.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: node tokenize-texts.js MODEL_DIR < texts.json');
const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const texts = JSON.parse(Buffer.concat(chunks).toString('utf8')) as string[];
const tok = await loadTokenizer(dir);
process.stdout.write(texts.map((t) => JSON.stringify(tok.encode(t))).join('\n') + '\n');
