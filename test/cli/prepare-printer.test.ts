import { afterEach, expect, it, vi } from 'vitest';
import { preparePrinter } from '../../main/cli/prepare-printer.js';
import type { PrepareProgress } from '../../main/weights/store.js';

afterEach(() => vi.restoreAllMocks());

/** What the printer writes to stderr for these events. */
function printed(tty: boolean, events: PrepareProgress[]): string[] {
  const written: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
  const print = preparePrinter(tty);
  for (const e of events) print(e);
  vi.restoreAllMocks();
  return written;
}

const steps = (phase: 'convert' | 'verify', total: number, percents: number[]): PrepareProgress[] =>
  percents.map((p) => ({ weights: 'bf16', phase, done: Math.round((total * p) / 100), total }) as PrepareProgress);

it('a 20 MB model: one line for its conversion and one for its check, however often the check is reported', () => {
  const small = 20e6;
  const events = [
    ...steps('convert', small, [0, 50, 100]),
    ...steps('verify', small, [0, 100]),
    ...steps('verify', small, [0, 100]),
    ...steps('verify', small, [100]),
  ];
  expect(printed(false, events)).toEqual([
    'converting the weights (once per model and width): 100% of 0.02 GB\n',
    'verifying the converted weights: 100% of 0.02 GB\n',
  ]);
});

it('a 3 GB model: a line per 10 % off a terminal, so a long build is not silent; one line counting up on a terminal', () => {
  const large = 3e9;
  const events = steps(
    'convert',
    large,
    Array.from({ length: 41 }, (_, i) => i * 2.5),
  );
  const lines = printed(false, events);
  expect(lines).toEqual(Array.from({ length: 11 }, (_, i) => `converting the weights (once per model and width): ${i * 10}% of 3.00 GB\n`));
  const tty = printed(true, steps('verify', large, [0, 1, 1, 50, 100]));
  expect(tty).toEqual(
    [0, 1, 50]
      .map((p) => `\rverifying the converted weights: ${p}% of 3.00 GB\x1b[K`)
      .concat('\rverifying the converted weights: 100% of 3.00 GB\x1b[K\n'),
  );
});
