/**
 * A workbook's shared strings, held as UTF-8 in 1 MiB blocks. Every cell of an Excel sheet names its text by index
 * into them, so all of them stay in memory while the sheet is read: up to a million texts. Measured on the import
 * benchmark's million-row workbook, after a collection: 224 MB of heap as an array of JavaScript strings (cut from
 * the decoded chunks, and built by concatenation), 91 MB of blocks and 33 MB of heap here.
 */
const BLOCK_BYTES = 1 << 20;

export class StringTable {
  private readonly blocks: Buffer[] = [];
  private used = BLOCK_BYTES;
  /** Per string: its block, and where it starts and ends there. */
  private readonly block: number[] = [];
  private readonly start: number[] = [];
  private readonly end: number[] = [];

  get size(): number {
    return this.block.length;
  }

  add(text: string): void {
    const bytes = Buffer.byteLength(text);
    if (this.used + bytes > BLOCK_BYTES) {
      // A text longer than a block gets a block of its own.
      this.blocks.push(Buffer.allocUnsafe(Math.max(BLOCK_BYTES, bytes)));
      this.used = 0;
    }
    const target = this.blocks[this.blocks.length - 1];
    target.write(text, this.used, 'utf8');
    this.block.push(this.blocks.length - 1);
    this.start.push(this.used);
    this.used += bytes;
    this.end.push(this.used);
    // The next text starts in a fresh block when this one was oversized.
    if (target.length > BLOCK_BYTES) this.used = BLOCK_BYTES;
  }

  /** The string at `index`, or undefined where the table has none. */
  get(index: number): string | undefined {
    if (!Number.isInteger(index) || index < 0 || index >= this.block.length) return undefined;
    return this.blocks[this.block[index]].toString('utf8', this.start[index], this.end[index]);
  }
}
