/**
 * Writers for small sentencepiece models, so that tests can make valid (and then broken) inputs quickly:
 * a darts-clone double array for the precompiled charsmap, and the ModelProto protobuf around it.
 */

/** Precompiled charsmap bytes: u32 trie size, darts-clone units, NUL-terminated replacements. */
export function buildCharsmap(rules: ReadonlyMap<string, string>): Uint8Array {
  const enc = new TextEncoder();
  const keys = [...rules.keys()].map((k) => enc.encode(k));
  const strings: number[] = [];
  const values = [...rules.values()].map((v) => {
    const at = strings.length;
    strings.push(...enc.encode(v), 0);
    return at;
  });
  // Trie of keys; a key's end is a child with label 0 that holds the value, as darts-clone stores it.
  interface Node {
    children: Map<number, Node>;
    value: number;
  }
  const root: Node = { children: new Map(), value: -1 };
  keys.forEach((k, i) => {
    let n = root;
    for (const b of k) {
      if (!n.children.has(b)) n.children.set(b, { children: new Map(), value: -1 });
      n = n.children.get(b)!;
    }
    n.value = values[i];
  });
  const units: number[] = [0];
  const used = new Set<number>([0]);
  const place = (n: Node, pos: number): void => {
    const labels = [...n.children.keys()];
    if (n.value >= 0) labels.push(0);
    if (labels.length === 0) return;
    let offset = 1;
    while (labels.some((c) => used.has(pos ^ offset ^ c)) || (pos ^ offset) < 0) offset++;
    units[pos] = (units[pos] ?? 0) | (offset << 10) | (n.value >= 0 ? 0x100 : 0);
    for (const c of labels) used.add(pos ^ offset ^ c);
    if (n.value >= 0) units[pos ^ offset] = (n.value | 0x80000000) >>> 0;
    for (const [c, child] of n.children) {
      units[pos ^ offset ^ c] = c;
      place(child, pos ^ offset ^ c);
    }
  };
  place(root, 0);
  const size = Math.ceil(units.length / 256) * 256;
  const out = new Uint8Array(4 + size * 4 + strings.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, size * 4, true);
  for (let i = 0; i < size; i++) view.setUint32(4 + i * 4, units[i] ?? 0, true);
  out.set(strings, 4 + size * 4);
  return out;
}

export interface ModelPiece {
  piece: string;
  score: number;
  type?: number;
}

export interface SpieceModelParts {
  pieces: ModelPiece[];
  trainer?: { modelType?: number; unkId?: number; eosId?: number; padId?: number };
  normalizer?: { charsmap?: Uint8Array; addDummyPrefix?: boolean; removeExtraWhitespaces?: boolean; escapeWhitespaces?: boolean };
}

/** Serialises a sentencepiece ModelProto (field numbers of sentencepiece_model.proto). */
export function buildSpieceModel(parts: SpieceModelParts): Uint8Array {
  const w = new Writer();
  for (const p of parts.pieces) {
    const m = new Writer();
    m.bytes(1, new TextEncoder().encode(p.piece));
    m.float(2, p.score);
    if (p.type !== undefined) m.varint(3, p.type);
    w.bytes(1, m.finish());
  }
  const t = new Writer();
  const tr = parts.trainer ?? {};
  if (tr.modelType !== undefined) t.varint(3, tr.modelType);
  if (tr.unkId !== undefined) t.varint(40, tr.unkId);
  if (tr.eosId !== undefined) t.varint(42, tr.eosId);
  if (tr.padId !== undefined) t.varint(43, tr.padId);
  w.bytes(2, t.finish());
  const n = new Writer();
  const nr = parts.normalizer ?? {};
  n.bytes(1, new TextEncoder().encode('nmt_nfkc'));
  if (nr.charsmap) n.bytes(2, nr.charsmap);
  if (nr.addDummyPrefix !== undefined) n.varint(3, nr.addDummyPrefix ? 1 : 0);
  if (nr.removeExtraWhitespaces !== undefined) n.varint(4, nr.removeExtraWhitespaces ? 1 : 0);
  if (nr.escapeWhitespaces !== undefined) n.varint(5, nr.escapeWhitespaces ? 1 : 0);
  w.bytes(3, n.finish());
  return w.finish();
}

class Writer {
  private readonly out: number[] = [];
  varint(field: number, v: number): void {
    this.rawVarint(field * 8);
    this.rawVarint(v);
  }
  float(field: number, v: number): void {
    this.rawVarint(field * 8 + 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.out.push(...b);
  }
  bytes(field: number, b: Uint8Array): void {
    this.rawVarint(field * 8 + 2);
    this.rawVarint(b.length);
    for (const x of b) this.out.push(x);
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.out);
  }
  rawVarint(v: number): void {
    while (v >= 0x80) {
      this.out.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.out.push(v);
  }
}
