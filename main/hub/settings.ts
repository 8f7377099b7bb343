import { getHFHubCachePath } from '@huggingface/hub';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { SproutError } from '../errors.js';

/** Where and how to reach the Hub, from the environment variables huggingface_hub itself reads. */
export interface HubSettings {
  endpoint: string;
  cacheDir: string;
  token?: string;
  offline: boolean;
  /** Unset: read from the environment when a download starts (hubTimeouts), where a wrong value is refused. */
  timeouts?: HubTimeouts;
}

/**
 * Seconds the Hub may stay silent before an attempt is given up and tried again: huggingface_hub's own variables and
 * defaults, so that a slow mirror configured for Python works for Sprout. `etag` is for the HEAD that precedes each file.
 */
export interface HubTimeouts {
  download: number;
  etag: number;
}

const DEFAULT_TIMEOUT_S = 10;

function secondsFrom(env: NodeJS.ProcessEnv, name: string): number {
  const text = env[name]?.trim();
  if (!text) return DEFAULT_TIMEOUT_S;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new SproutError('bad-environment', `${name} is "${env[name]}", which is not a number of seconds.`, {
      hint: `Set ${name} to a number of seconds above 0 (huggingface_hub's default is ${DEFAULT_TIMEOUT_S}), or unset it.`,
    });
  return seconds;
}

export function hubTimeouts(env: NodeJS.ProcessEnv = process.env): HubTimeouts {
  return { download: secondsFrom(env, 'HF_HUB_DOWNLOAD_TIMEOUT'), etag: secondsFrom(env, 'HF_HUB_ETAG_TIMEOUT') };
}

const TRUE = new Set(['1', 'true', 'yes', 'on']);

function hfHome(env: NodeJS.ProcessEnv): string {
  return env.HF_HOME ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'huggingface');
}

/**
 * The token of the environment and where it comes from: HF_TOKEN, HUGGING_FACE_HUB_TOKEN, or the file
 * `huggingface-cli login` stores (so that a Python login also works for Sprout).
 */
export function environmentToken(env: NodeJS.ProcessEnv = process.env): { token: string; from: string } | undefined {
  for (const name of ['HF_TOKEN', 'HUGGING_FACE_HUB_TOKEN'] as const)
    if (env[name]) return { token: env[name], from: `the ${name} environment variable` };
  const file = env.HF_TOKEN_PATH ?? join(hfHome(env), 'token');
  if (!existsSync(file)) return undefined;
  const token = readFileSync(file, 'utf8').trim();
  return token ? { token, from: file } : undefined;
}

export function hubSettings(env: NodeJS.ProcessEnv = process.env): HubSettings {
  // getHFHubCachePath reads process.env (HF_HUB_CACHE, HUGGINGFACE_HUB_CACHE, HF_HOME, XDG_CACHE_HOME).
  const cacheDir = env === process.env ? getHFHubCachePath() : (env.HF_HUB_CACHE ?? env.HUGGINGFACE_HUB_CACHE ?? join(hfHome(env), 'hub'));
  return {
    endpoint: (env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, ''),
    cacheDir,
    token: environmentToken(env)?.token,
    offline: TRUE.has((env.HF_HUB_OFFLINE ?? '').toLowerCase()),
  };
}
