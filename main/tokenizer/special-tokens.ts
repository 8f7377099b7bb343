/**
 * Splits text at literal special tokens (leftmost, then longest match), as Hugging Face does before
 * sentencepiece sees the text. Calls `onText(start, end)` for plain stretches and `onSpecial(id)` for tokens.
 */
export class SpecialTokenSplitter {
  /** Literals grouped by first UTF-16 unit, longest first. */
  private readonly byFirst = new Map<number, { literal: string; id: number }[]>();
  private readonly firstUnits: Uint8Array = new Uint8Array(65536);

  constructor(tokens: ReadonlyMap<string, number>) {
    for (const [literal, id] of tokens) {
      const c = literal.charCodeAt(0);
      this.firstUnits[c] = 1;
      const list = this.byFirst.get(c) ?? [];
      list.push({ literal, id });
      this.byFirst.set(c, list);
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.literal.length - a.literal.length);
  }

  split(text: string, onText: (start: number, end: number) => void, onSpecial: (id: number) => void): void {
    const first = this.firstUnits;
    let plainStart = 0;
    let i = 0;
    while (i < text.length) {
      if (first[text.charCodeAt(i)] === 1) {
        const hit = this.byFirst.get(text.charCodeAt(i))!.find((t) => text.startsWith(t.literal, i));
        if (hit !== undefined) {
          if (i > plainStart) onText(plainStart, i);
          onSpecial(hit.id);
          i += hit.literal.length;
          plainStart = i;
          continue;
        }
      }
      i++;
    }
    if (text.length > plainStart) onText(plainStart, text.length);
  }
}
