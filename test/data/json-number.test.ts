import { describe, expect, it } from 'vitest';
import { numberText, parseJsonExact, stringifyJsonExact } from '../../main/data/json-number.js';
import { fieldText } from '../../main/data/values.js';

describe('JSON numbers kept as written', () => {
  it('keeps what a double would change, leaves strings and exact numbers alone, and writes them back bare', () => {
    const line = String.raw`{"id": 1453678912345678901, "s": "say \"1.0\", 2e3", "k\\": -0, "a": [1.0, 0.5, 7, -12e-1], "ok": 9007199254740991}`;
    const value = parseJsonExact(line) as Record<string, unknown>;
    expect(numberText(value.id)).toBe('1453678912345678901');
    expect(value.s).toBe('say "1.0", 2e3');
    expect(numberText(value['k\\'])).toBe('-0');
    expect((value.a as unknown[]).map((v) => numberText(v) ?? v)).toEqual(['1.0', 0.5, 7, '-12e-1']);
    expect(value.ok).toBe(9007199254740991);
    expect(stringifyJsonExact(value)).toBe(
      line.replaceAll(': ', ':').replaceAll(', ', ',').replace('say \\"1.0\\",2e3', 'say \\"1.0\\", 2e3'),
    );
    expect(fieldText(value.id)).toBe('1453678912345678901');
    expect(fieldText(value.a)).toBe('[1.0,0.5,7,-12e-1]');
  });

  it('reports invalid JSON at its own place in the line', () => {
    for (const line of ['{"id": 1453678912345678901, "x": }', '{"x": 1.0,}', '{"x": 1.0 "y": 2}']) {
      const own = (() => {
        try {
          JSON.parse(line);
        } catch (error) {
          return (error as Error).message;
        }
      })();
      expect(() => parseJsonExact(line)).toThrow(own);
    }
  });
});
