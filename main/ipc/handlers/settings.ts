/** App settings, kept as settings.json in the data folder so the desktop app and `sprout serve` share them. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Settings } from '../../../preload/contract.js';
import { SproutError } from '../../errors.js';
import { hubSettings, type HubSettings } from '../../hub/settings.js';
import { writeFileAtomic } from '../../train/run-store.js';
import { WEIGHTS_CHOICES, type WeightsChoice } from '../../weights/width.js';

export const SETTINGS_FILE = 'settings.json';

const Stored = z.object({
  defaultDevice: z.enum(['auto', 'gpu', 'cuda', 'dml', 'coreml', 'webgpu', 'cpu']).default('auto'),
  defaultWeights: z.enum(WEIGHTS_CHOICES as [WeightsChoice, ...WeightsChoice[]]).default('auto'),
  threads: z.number().int().min(1).nullable().default(null),
  /** null: the environment's (HF_ENDPOINT) or huggingface.co. */
  hubEndpoint: z.string().nullable().default(null),
  hubToken: z.string().nullable().default(null),
  theme: z.enum(['light', 'dark', 'system']).default('system'),
  browseFolders: z.array(z.string()).default([]),
});
export type StoredSettings = z.infer<typeof Stored>;

export function readSettings(dataDir: string): StoredSettings {
  const file = join(dataDir, SETTINGS_FILE);
  if (!existsSync(file)) return Stored.parse({});
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SproutError('bad-settings', `The settings file is not JSON: ${(error as Error).message}.`, { file, hint: 'Delete it to go back to the defaults.' });
  }
  const parsed = Stored.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SproutError('bad-settings', `The settings file has a bad "${issue.path.join('.')}": ${issue.message}.`, { file, hint: 'Fix it in Settings or delete the file to go back to the defaults.' });
  }
  return parsed.data;
}

export function writeSettings(dataDir: string, settings: StoredSettings): void {
  writeFileAtomic(join(dataDir, SETTINGS_FILE), `${JSON.stringify(settings, null, 2)}\n`);
}

/** The Hub settings of the environment, with the endpoint and token chosen in the app taking precedence. */
export function effectiveHubSettings(stored: StoredSettings): HubSettings {
  const env = hubSettings();
  return { ...env, endpoint: (stored.hubEndpoint ?? env.endpoint).replace(/\/+$/, ''), token: stored.hubToken ?? env.token };
}

export function publicSettings(dataDir: string, stored: StoredSettings): Settings {
  const hub = effectiveHubSettings(stored);
  return { dataDir, defaultDevice: stored.defaultDevice, defaultWeights: stored.defaultWeights, threads: stored.threads, hubEndpoint: hub.endpoint, hubTokenSet: hub.token !== undefined, theme: stored.theme, browseFolders: stored.browseFolders };
}
