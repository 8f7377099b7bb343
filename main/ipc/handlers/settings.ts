/** App settings, kept as settings.json in the data folder so the desktop app and `sprout serve` share them. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { Settings } from '../../../preload/contract.js';
import { DEVICE_PREFERENCES, THEMES, WEIGHTS_CHOICES } from '../../choices.js';
import { SproutError } from '../../errors.js';
import { environmentToken, hubSettings, type HubSettings } from '../../hub/settings.js';
import { TokenStore } from '../../hub/token-store.js';
import type { HandlerContext } from '../context.js';
import { writeFileAtomic } from '../../train/run-store.js';

export const SETTINGS_FILE = 'settings.json';

const Stored = z.object({
  defaultDevice: z.enum(DEVICE_PREFERENCES).default('auto'),
  defaultWeights: z.enum(WEIGHTS_CHOICES).default('auto'),
  threads: z.number().int().min(1).nullable().default(null),
  /** null: the environment's (HF_ENDPOINT) or huggingface.co. */
  hubEndpoint: z.string().nullable().default(null),
  theme: z.enum(THEMES).default('system'),
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
    throw new SproutError('bad-settings', `The settings file is not JSON: ${(error as Error).message}.`, {
      file,
      hint: 'Delete it to go back to the defaults.',
    });
  }
  const parsed = Stored.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new SproutError('bad-settings', `The settings file has a bad "${issue.path.join('.')}": ${issue.message}.`, {
      file,
      hint: 'Fix it in Settings or delete the file to go back to the defaults.',
    });
  }
  return parsed.data;
}

export function writeSettings(dataDir: string, settings: StoredSettings): void {
  writeFileAtomic(join(dataDir, SETTINGS_FILE), `${JSON.stringify(settings, null, 2)}\n`);
}

export function tokenStore(context: Pick<HandlerContext, 'dataDir' | 'secrets'>): TokenStore {
  return new TokenStore(context.dataDir, context.secrets);
}

/**
 * Moves a Hub token that an earlier Sprout kept in settings.json (world-readable) to the token store, and
 * rewrites settings.json without it. Run once as a host starts.
 */
export function moveLegacyHubToken(context: Pick<HandlerContext, 'dataDir' | 'secrets'>): void {
  const file = join(context.dataDir, SETTINGS_FILE);
  if (!existsSync(file)) return;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    // A file that is not JSON holds no token to move; Settings says what is wrong with it. Failing here stopped the
    // host from starting (sprout serve hung with its port open and no address printed).
    return;
  }
  const legacy = z.looseObject({ hubToken: z.string().nullable().optional() }).safeParse(json);
  if (!legacy.success || legacy.data.hubToken === undefined) return;
  const store = tokenStore(context);
  if (legacy.data.hubToken !== null && store.read() === null) store.write(legacy.data.hubToken);
  // The rest as it was, checked or not: Settings reports a bad value; this only takes the token out.
  const { hubToken: _moved, ...rest } = legacy.data;
  writeFileAtomic(file, `${JSON.stringify(rest, null, 2)}\n`);
}

/** The Hub settings of the environment, with the endpoint and token chosen in the app taking precedence. */
export function effectiveHubSettings(
  context: Pick<HandlerContext, 'dataDir' | 'secrets'>,
  stored = readSettings(context.dataDir),
): HubSettings {
  const env = hubSettings();
  return { ...env, endpoint: (stored.hubEndpoint ?? env.endpoint).replace(/\/+$/, ''), token: tokenStore(context).read() ?? env.token };
}

export function publicSettings(context: Pick<HandlerContext, 'dataDir' | 'secrets'>, stored: StoredSettings): Settings {
  const hub = effectiveHubSettings(context, stored);
  const where = tokenStore(context).where() ?? environmentToken()?.from ?? null;
  return {
    dataDir: context.dataDir,
    defaultDevice: stored.defaultDevice,
    defaultWeights: stored.defaultWeights,
    threads: stored.threads,
    hubEndpoint: hub.endpoint,
    hubTokenSet: hub.token !== undefined,
    hubTokenWhere: where,
    theme: stored.theme,
    browseFolders: stored.browseFolders,
  };
}
