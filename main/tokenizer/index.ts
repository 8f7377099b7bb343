export { loadTokenizer } from './load.js';
export { T5Tokenizer, truncateIds, type EncodeBatchResult } from './t5-tokenizer.js';
export { parseSpieceModel } from './spiece-model.js';
export { parseTokenizerJson } from './tokenizer-json.js';
