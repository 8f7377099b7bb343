import { describe, expect, it } from 'vitest';
import { inputLimit } from '../../main/label/job.js';
import type { LabelPrompt } from '../../main/label/types.js';

const prompt = (limit?: number): LabelPrompt => ({
  ref: 'prompt:1',
  name: 'p',
  prompt: { length: 1, data: new Float32Array(4) },
  task: { kind: 'classification', labels: ['a', 'b'], verbalisers: ['a', 'b'], template: null },
  ...(limit === undefined ? {} : { inputLimit: limit }),
});

describe('inputLimit: where labelling and evaluation cut inputs', () => {
  it('takes the limit given, else the largest the prompts were trained with, else 512', () => {
    expect(inputLimit([prompt()])).toBe(512);
    expect(inputLimit([prompt(16)])).toBe(16);
    // An ensemble: no prompt reads less than it was trained on.
    expect(inputLimit([prompt(16), prompt(), prompt(65)])).toBe(65);
    expect(inputLimit([prompt(16)], 300)).toBe(300);
  });
});
