import { invalid, limits } from './spec.js';

/**
 * Sentencepiece's precompiled normalisation map: a u32 (little-endian) byte size, a darts-clone double-array
 * trie of that size mapping UTF-8 byte strings to offsets, then a blob of NUL-terminated replacement strings.
 * Parsing walks every reachable trie state once, so that lookups later never leave the arrays.
 */
export class Charsmap {
  /** Offset in `strings` of the last match of longestPrefix (a field, so that lookups allocate nothing). */
  value = 0;

  private constructor(
    private readonly units: Uint32Array,
    /** Replacement strings, UTF-8, each NUL-terminated. */
    readonly strings: Uint8Array,
  ) {}

  static parse(blob: Uint8Array, file: string): Charsmap {
    if (blob.length > limits.charsmapBytes)
      throw invalid(file, `the precompiled charsmap has ${blob.length} bytes, more than the ${limits.charsmapBytes} allowed.`);
    if (blob.length < 4) throw invalid(file, `the precompiled charsmap has ${blob.length} bytes, too few for its header.`);
    const trieBytes = new DataView(blob.buffer, blob.byteOffset, 4).getUint32(0, true);
    if (trieBytes < 4 || trieBytes % 4 !== 0 || trieBytes > blob.length - 4) {
      throw invalid(
        file,
        `the precompiled charsmap declares a ${trieBytes}-byte trie, which does not fit its ${blob.length} bytes in 4-byte units.`,
      );
    }
    const units = new Uint32Array(trieBytes / 4);
    const view = new DataView(blob.buffer, blob.byteOffset + 4, trieBytes);
    for (let i = 0; i < units.length; i++) units[i] = view.getUint32(i * 4, true);
    const strings = blob.slice(4 + trieBytes);
    validate(units, strings, file);
    return new Charsmap(units, strings);
  }

  /**
   * Longest key that prefixes bytes[start, end), as darts-clone's commonPrefixSearch with sentencepiece's
   * 32-result buffer: returns the matched key length (0 if none) and leaves the replacement offset in `value`.
   */
  longestPrefix(bytes: Uint8Array, start: number, end: number): number {
    const units = this.units;
    const n = units.length;
    let pos = offsetOf(units[0]);
    let longest = 0;
    let found = 0;
    for (let i = start; i < end; i++) {
      const c = bytes[i];
      pos ^= c;
      if (pos >= n) break;
      const unit = units[pos];
      if (labelOf(unit) !== c) break;
      pos ^= offsetOf(unit);
      if (hasLeaf(unit)) {
        if (found < maxResults) {
          longest = i + 1 - start;
          this.value = units[pos] & 0x7fffffff;
        }
        found++;
      }
    }
    return longest;
  }
}

const maxResults = 32;

function hasLeaf(unit: number): boolean {
  return ((unit >>> 8) & 1) === 1;
}
function labelOf(unit: number): number {
  return (unit & 0x800000ff) >>> 0;
}
function offsetOf(unit: number): number {
  return ((unit >>> 10) << ((unit & 0x200) >>> 6)) >>> 0;
}

function validate(units: Uint32Array, strings: Uint8Array, file: string): void {
  const n = units.length;
  if (strings.length > 0 && strings[strings.length - 1] !== 0)
    throw invalid(file, "the precompiled charsmap's replacement strings do not end with a NUL byte.");
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(strings);
  } catch {
    throw invalid(file, "the precompiled charsmap's replacement strings are not valid UTF-8.");
  }
  // A state is the position reached after following a unit's offset; darts-clone may share suffixes, so
  // states are deduplicated. Every probe below is one a lookup could make.
  const seen = new Uint8Array(n);
  const stack: number[] = [offsetOf(units[0])];
  while (stack.length > 0) {
    const base = stack.pop()!;
    for (let c = 0; c < 256; c++) {
      const p = (base ^ c) >>> 0;
      if (p >= n || labelOf(units[p]) !== c || seen[p]) continue;
      seen[p] = 1;
      const child = (p ^ offsetOf(units[p])) >>> 0;
      if (hasLeaf(units[p])) {
        if (child >= n) throw invalid(file, `the precompiled charsmap's trie unit ${p} points outside the trie.`);
        const value = units[child] & 0x7fffffff;
        if (value >= strings.length || (strings[value] & 0xc0) === 0x80) {
          throw invalid(
            file,
            `the precompiled charsmap's trie unit ${p} points to byte ${value}, which does not start a replacement string.`,
          );
        }
      }
      stack.push(child);
    }
  }
}
