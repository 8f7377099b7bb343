import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseT5Config, type T5Config } from '../../main/checkpoint/config.js';
import type { WeightLookup } from '../../main/graph/t5/model.js';
import { shared } from '../train/fixtures.js';

/** Weights for graphs that are built and read, never run: placement and structure read only ops and element types. */
export const noBytes: WeightLookup = (name) => ({
  kind: 'float',
  dtype: 'float32',
  dims: [1, 1],
  data: { location: name, offset: 0, length: 4 },
});

/** A fixture's config.json from ../shared/fixtures. */
export function fixtureConfig(name: string): T5Config {
  const file = join(shared, 'fixtures', name, 'config.json');
  return parseT5Config(JSON.parse(readFileSync(file, 'utf8')), file);
}
