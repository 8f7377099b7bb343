import { existsSync, statSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { convertPytorchWeights, pytorchOnlyWeights } from '../checkpoint/convert-bin-folder.js';
import { readJsonFile } from '../checkpoint/json-file.js';
import { findWeightFiles, indexName, WEIGHTS_NAME } from '../checkpoint/shards.js';
import { SproutError } from '../errors.js';
import { fetchBlob, headFile, openFileWriter, type OpenBlobWriter, type RemoteFile } from './blob.js';
import { cachedCommit, COMMIT, linkIntoSnapshot, repoCache, snapshotDir, writeRef, type RepoCache } from './cache.js';
import { listRepo, type HubClient } from './http.js';
import { ProgressTracker, type DownloadProgress } from './progress.js';
import { hubSettings, hubTimeouts, type HubSettings } from './settings.js';

export interface DownloadOptions {
  /** Branch, tag or commit; default "main". */
  revision?: string;
  settings?: HubSettings;
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  fetch?: typeof fetch;
  /** Where bytes are written; tests inject a failing writer to simulate a full disk. */
  openWriter?: OpenBlobWriter;
}

export interface DownloadResult {
  repo: string;
  revision: string;
  commit: string;
  /** The snapshot folder: a model folder openCheckpoint reads. */
  dir: string;
  files: string[];
  /** Bytes fetched over the network by this call (0 when everything was cached). */
  fetchedBytes: number;
}

const OPTIONAL = ['tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];
const TOKENIZERS = ['tokenizer.json', 'spiece.model'];
const WEIGHT_CHOICES = [WEIGHTS_NAME.safetensors, indexName('safetensors'), WEIGHTS_NAME.bin, indexName('bin')];
const INDEXES = new Set([indexName('safetensors'), indexName('bin')]);
/** Kept free beyond the download itself, so that finishing it does not leave the disk completely full. */
const DISK_MARGIN = 64 << 20;

/** A snapshot Sprout can use as it is: config, safetensors weights (converted if need be) and a tokenizer. */
function usableSnapshot(dir: string): boolean {
  if (!existsSync(join(dir, 'config.json')) || !TOKENIZERS.some((t) => existsSync(join(dir, t)))) return false;
  try {
    return findWeightFiles(dir, 'safetensors') !== undefined;
  } catch {
    // An index whose shards are not all there yet: the download completes it.
    return false;
  }
}

/** Which of the repository's files Sprout needs (the index's shards are added once the index is read). */
export function selectFiles(repo: string, files: string[]): string[] {
  const has = new Set(files);
  if (!has.has('config.json')) throw new SproutError('hub-no-config', `"${repo}" has no config.json: it is not a transformers model.`);
  // safetensors before PyTorch weights, a single file before shards: what transformers' from_pretrained prefers.
  const weights = WEIGHT_CHOICES.find((name) => has.has(name));
  if (!weights) {
    throw new SproutError('hub-no-weights', `"${repo}" has neither safetensors nor PyTorch weights (${WEIGHT_CHOICES.join(', ')}).`, {
      hint: 'Sprout reads safetensors and PyTorch (pytorch_model.bin) checkpoints, single or sharded; pick another revision or another repository.',
    });
  }
  const tokenizers = TOKENIZERS.filter((t) => has.has(t));
  if (tokenizers.length === 0) throw new SproutError('hub-no-tokenizer', `"${repo}" has no tokenizer.json or spiece.model.`);
  return ['config.json', weights, ...tokenizers, ...OPTIONAL.filter((f) => has.has(f))];
}

async function freeBytes(path: string): Promise<number> {
  let dir = path;
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

function gb(bytes: number): string {
  return `${(bytes / 1e9).toFixed(2)} GB`;
}

/** Converts a snapshot's PyTorch weights (single or sharded) once to safetensors beside them. */
function convertIfNeeded(dir: string): void {
  const weights = pytorchOnlyWeights(dir);
  if (weights) convertPytorchWeights(weights, dir, dir);
}

function hasPytorchWeights(dir: string): boolean {
  try {
    return findWeightFiles(dir, 'bin') !== undefined;
  } catch {
    return false;
  }
}

function offlineResult(repo: string, revision: string, cache: RepoCache, settings: HubSettings): DownloadResult {
  const commit = cachedCommit(cache, revision);
  const dir = commit && snapshotDir(cache, commit);
  if (!commit || !dir || !(usableSnapshot(dir) || hasPytorchWeights(dir))) {
    throw new SproutError(
      'offline-not-cached',
      `"${repo}" (revision "${revision}") is not in the Hugging Face cache at ${settings.cacheDir}, and HF_HUB_OFFLINE is set.`,
      {
        hint: 'Unset HF_HUB_OFFLINE to download it, or point HF_HUB_CACHE / HF_HOME at the cache that holds it.',
      },
    );
  }
  convertIfNeeded(dir);
  return { repo, revision, commit, dir, files: [], fetchedBytes: 0 };
}

/**
 * Downloads the files Sprout needs from a Hub model repository into the Hugging Face cache, or finds them
 * there. Resumable, verified, atomic per file, cancellable through `signal`.
 */
export async function downloadModel(repo: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const settings = options.settings ?? hubSettings();
  const revision = options.revision ?? 'main';
  const cache = repoCache(settings.cacheDir, repo);
  if (settings.offline) return offlineResult(repo, revision, cache, settings);
  if (COMMIT.test(revision) && usableSnapshot(snapshotDir(cache, revision))) {
    return { repo, revision, commit: revision, dir: snapshotDir(cache, revision), files: [], fetchedBytes: 0 };
  }

  const client: HubClient = {
    endpoint: settings.endpoint,
    token: settings.token,
    fetch: options.fetch ?? fetch,
    signal: options.signal,
    timeouts: settings.timeouts ?? hubTimeouts(),
  };
  const listing = await listRepo(client, repo, revision);
  const commit = listing.commit;
  const dir = snapshotDir(cache, commit);
  if (usableSnapshot(dir)) {
    writeRef(cache, revision, commit);
    return { repo, revision, commit, dir, files: [], fetchedBytes: 0 };
  }

  // Files are fetched at the resolved commit so that a branch moving meanwhile cannot mix two versions.
  const wanted = selectFiles(repo, listing.files);
  const remote: RemoteFile[] = [];
  for (const path of wanted) remote.push(await headFile(client, repo, commit, path));

  const present = (f: RemoteFile): number => {
    if (existsSync(join(cache.blobs, f.etag))) return f.size;
    const partial = join(cache.blobs, `${f.etag}.incomplete`);
    return existsSync(partial) ? Math.min(statSync(partial).size, f.size) : 0;
  };
  const total = (files: RemoteFile[]): number => files.reduce((s, f) => s + f.size, 0);
  const onDisk = (files: RemoteFile[]): number => files.reduce((s, f) => s + present(f), 0);

  const fetchAll = async (files: RemoteFile[], tracker: ProgressTracker): Promise<void> => {
    for (const f of files) {
      tracker.startFile(f.path, present(f), f.size);
      const blob = await fetchBlob(client, f, cache.blobs, (n) => tracker.add(n), options.openWriter ?? openFileWriter);
      tracker.finishFile();
      linkIntoSnapshot(blob, join(dir, f.path));
    }
  };

  // The shard list lives in the index, so the index comes first; its size is small enough to skip the disk check.
  const indexFile = remote.find((f) => INDEXES.has(f.path));
  let fetched = 0;
  if (indexFile) {
    const tracker = new ProgressTracker(onDisk([indexFile]), indexFile.size, options.onProgress);
    await fetchAll([indexFile], tracker);
    fetched += tracker.fetchedBytes;
    const index = readJsonFile(join(dir, indexFile.path), 'hub-bad-index') as { weight_map?: unknown } | null;
    const weightMap =
      typeof index?.weight_map === 'object' && index.weight_map !== null ? (index.weight_map as Record<string, unknown>) : {};
    for (const shard of new Set(Object.values(weightMap))) {
      // A shard name becomes a path under the snapshot folder: only plain relative names, as the Hub itself has.
      if (
        typeof shard !== 'string' ||
        !listing.files.includes(shard) ||
        shard.split(/[\\/]/).some((part) => part === '' || part === '.' || part === '..')
      ) {
        throw new SproutError(
          'hub-bad-index',
          `The index of "${repo}" names a shard ${JSON.stringify(shard)} the repository does not have.`,
        );
      }
      remote.push(await headFile(client, repo, commit, shard));
    }
  }
  const rest = remote.filter((f) => f !== indexFile);
  // PyTorch weights are converted to safetensors beside them: room for a second copy.
  const bins = rest.filter((f) => f.path.endsWith('.bin'));
  const needed = total(rest) - onDisk(rest) + total(bins);
  await checkDisk(settings.cacheDir, needed);
  const tracker = new ProgressTracker(onDisk(rest), total(rest), options.onProgress);
  await fetchAll(rest, tracker);
  fetched += tracker.fetchedBytes;
  writeRef(cache, revision, commit);
  convertIfNeeded(dir);
  return { repo, revision, commit, dir, files: remote.map((f) => f.path), fetchedBytes: fetched };
}

async function checkDisk(cacheDir: string, needed: number): Promise<void> {
  const free = await freeBytes(cacheDir);
  if (free < needed + DISK_MARGIN) {
    throw new SproutError('disk-full', `The download needs ${gb(needed)} but only ${gb(free)} is free on the disk holding ${cacheDir}.`, {
      hint: 'Free some space, or set HF_HUB_CACHE to a folder on a larger disk.',
    });
  }
}
