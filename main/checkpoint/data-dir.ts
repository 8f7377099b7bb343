import envPaths from 'env-paths';
import { resolve } from 'node:path';

/** Sprout's data directory: SPROUT_HOME when set, else the platform's per-user data folder. */
export function dataDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.SPROUT_HOME ? resolve(env.SPROUT_HOME) : envPaths('sprout').data;
}
