import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { dataDir } from '../main/paths.js';

const saved = process.env.SPROUT_HOME;
afterEach(() => {
  process.env.SPROUT_HOME = saved;
});

it('creates the data folder readable by its user only, and leaves one that exists as its owner made it', () => {
  const parent = mkdtempSync(join(tmpdir(), 'sprout-paths-'));
  process.env.SPROUT_HOME = join(parent, 'deeper', 'sprout');
  expect(statSync(dataDir()).mode & 0o777).toBe(0o700);
  const shared = join(parent, 'shared');
  mkdirSync(shared, { mode: 0o755 });
  process.env.SPROUT_HOME = shared;
  expect(statSync(dataDir()).mode & 0o777).toBe(0o755 & ~process.umask());
});
