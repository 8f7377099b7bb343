/**
 * A prompt file (`sprout label --prompt-file`) is checked when read: a value that is not finite, as a diverged
 * training leaves, used to be found while scoring, failing the job after its output was begun. Files are written
 * by Python (numpy and the safetensors layout by hand), not by Sprout's writer.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { promptFromFile } from '../../main/label/prompt-file.js';
import type { LabelTask } from '../../main/label/types.js';
import { tempDir } from './helpers.js';

const task: LabelTask = { kind: 'classification', labels: ['neg', 'pos'], verbalisers: ['neg', 'pos'], template: null };

/** A [4, 64] float32 prompt of 0.01 · index, with `bad` (a Python float literal) at row 2, column 5 when given. */
function pythonPromptFile(file: string, bad?: string): void {
  const script = `
import json, struct, sys
import numpy as np
a = (np.arange(4 * 64, dtype=np.float32) * np.float32(0.01)).reshape(4, 64)
if sys.argv[2]: a[2, 5] = float(sys.argv[2])
data = a.tobytes()
header = json.dumps({'soft_prompt': {'dtype': 'F32', 'shape': [4, 64], 'data_offsets': [0, len(data)]}}).encode()
open(sys.argv[1], 'wb').write(struct.pack('<Q', len(header)) + header + data)
`;
  execFileSync('/usr/bin/python3', ['-c', script, file, bad ?? ''], { encoding: 'utf8' });
}

it('reads a finite prompt as numpy wrote it, and refuses one holding inf or nan, naming where', () => {
  const dir = tempDir();
  const good = join(dir, 'good.safetensors');
  pythonPromptFile(good);
  const prompt = promptFromFile(good, task).prompt;
  expect([prompt.length, prompt.data.length, prompt.data[2 * 64 + 5]]).toEqual([4, 256, Math.fround(133 * Math.fround(0.01))]);
  for (const [bad, shown] of [
    ['inf', 'Infinity'],
    ['nan', 'NaN'],
  ]) {
    const file = join(dir, `${bad}.safetensors`);
    pythonPromptFile(file, bad);
    expect(() => promptFromFile(file, task)).toThrow(
      `The prompt tensor "soft_prompt" holds ${shown} at row 2, column 5: a prompt of numbers that are not finite cannot label anything.`,
    );
  }
});
