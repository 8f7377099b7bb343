import { describe, expect, it } from 'vitest';
import { StringTable } from '../../main/data/string-table.js';

describe('StringTable', () => {
  it('gives back every string as added, across blocks, one longer than a block among them, and nothing out of range', () => {
    const strings = Array.from({ length: 30_000 }, (_, i) => `${i} é😀 ${'x'.repeat(i % 97)}`);
    strings.splice(12_345, 0, 'ü'.repeat(700_000), '');
    const table = new StringTable();
    for (const s of strings) table.add(s);
    expect(table.size).toBe(strings.length);
    expect(strings.every((s, i) => table.get(i) === s)).toBe(true);
    for (const i of [-1, strings.length, 1.5, Number.NaN]) expect(table.get(i)).toBeUndefined();
  });
});
