/**
 * Byte trie over the UTF-8 spellings of the pieces, with the transitions in one open-addressing hash table
 * (node * 256 + byte -> child), so that walking it allocates nothing.
 */
export class PieceTrie {
  /** Piece id that ends at each node, or -1. */
  readonly terminal: Int32Array;
  private readonly keys: Int32Array;
  private readonly children: Int32Array;
  private readonly mask: number;
  private readonly shift: number;

  /** Callers keep the total spelling length below 2^23 bytes so that node * 256 + byte stays an int32. */
  constructor(pieces: readonly Uint8Array[], ids: readonly number[]) {
    let bytes = 0;
    for (const p of pieces) bytes += p.length;
    const maxNodes = bytes + 1;
    let bits = 10;
    while (2 ** bits < maxNodes * 2) bits++;
    const capacity = 2 ** bits;
    this.mask = capacity - 1;
    this.shift = 32 - bits;
    this.keys = new Int32Array(capacity).fill(-1);
    this.children = new Int32Array(capacity);
    const terminal = new Int32Array(maxNodes).fill(-1);
    let nodes = 1;
    for (let k = 0; k < pieces.length; k++) {
      const p = pieces[k];
      let node = 0;
      for (let i = 0; i < p.length; i++) {
        const key = node * 256 + p[i];
        let slot = this.slot(key);
        while (this.keys[slot] !== -1 && this.keys[slot] !== key) slot = (slot + 1) & this.mask;
        if (this.keys[slot] === key) {
          node = this.children[slot];
        } else {
          this.keys[slot] = key;
          this.children[slot] = nodes;
          node = nodes++;
        }
      }
      terminal[node] = ids[k];
    }
    this.terminal = terminal;
  }

  /** Child of `node` along `byte`, or -1. */
  child(node: number, byte: number): number {
    const key = node * 256 + byte;
    let slot = this.slot(key);
    for (;;) {
      const k = this.keys[slot];
      if (k === key) return this.children[slot];
      if (k === -1) return -1;
      slot = (slot + 1) & this.mask;
    }
  }

  private slot(key: number): number {
    // Fibonacci hashing: the high bits of the product mix every bit of the key.
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }
}
