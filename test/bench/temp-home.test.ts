/** Benchmark homes are measured, not kept: the folder goes when the work settles, whether it succeeded or threw. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { withTempHome } from '../../main/bench/temp-home.js';

describe('a benchmark home', () => {
  it('is a fresh folder while the work runs, gone once it returns its value', async () => {
    let seen = '';
    const value = await withTempHome('sprout-temp-home-test-', async (home) => {
      seen = home;
      writeFileSync(join(home, 'library.sqlite'), 'x');
      return 42;
    });
    expect(value).toBe(42);
    expect(seen).toContain('sprout-temp-home-test-');
    expect(existsSync(seen)).toBe(false);
  });

  it('is gone after the work throws, and the error reaches the caller', async () => {
    let seen = '';
    const failing = withTempHome('sprout-temp-home-test-', async (home) => {
      seen = home;
      throw new Error('the replay ended early');
    });
    await expect(failing).rejects.toThrow('the replay ended early');
    expect(seen).not.toBe('');
    expect(existsSync(seen)).toBe(false);
  });
});
