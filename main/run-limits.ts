/**
 * RUN_LIMITS (main/choices.ts) as checks: the engine's training config, the contract's train.start and the CLI's
 * number flags all refuse the same values, so a setting the app refuses is refused on the command line too.
 */
import { z } from 'zod';
import { RUN_LIMITS, type RunLimited } from './choices.js';

/** A whole number within a run setting's bounds, as zod checks it. */
export function limitedInt(setting: RunLimited) {
  const { min, max } = RUN_LIMITS[setting];
  const atLeast = z.number().int().min(min);
  return max === undefined ? atLeast : atLeast.max(max);
}
