import type { Hash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { SproutError } from '../errors.js';
import { blobCheck, blobMatches, hashPrefix, startHash, type BlobCheck } from './blob-hash.js';
import { cancelled, hubFetch, hubHttpError, readWithin, unreachable, type HubClient } from './http.js';

/** What a HEAD on resolve/{rev}/{path} tells about one file. */
export interface RemoteFile {
  path: string;
  url: string;
  /** Blob name in the cache: the LFS sha256 for large files, the git etag otherwise. */
  etag: string;
  size: number;
  /** How the content is checked after download: the LFS sha256, or the git object id of a small file. */
  check?: BlobCheck;
  commit?: string;
}

/** Where downloaded bytes go; tests substitute one that fails like a full disk. */
export interface BlobWriter {
  write(chunk: Uint8Array, position: number): Promise<void>;
  close(): Promise<void>;
}
export type OpenBlobWriter = (file: string, truncate: boolean) => Promise<BlobWriter>;

export const openFileWriter: OpenBlobWriter = async (file, truncate) => {
  const handle = await open(file, truncate || !existsSync(file) ? 'w' : 'r+');
  return {
    async write(chunk, position) {
      let done = 0;
      while (done < chunk.length) done += (await handle.write(chunk, done, chunk.length - done, position + done)).bytesWritten;
    },
    close: () => handle.close(),
  };
};

const ETAG = /^[0-9A-Za-z_-]{1,128}$/;
const MAX_NETWORK_RETRIES = 5;

function normaliseEtag(value: string | null): string | undefined {
  if (!value) return undefined;
  const etag = value.replace(/^W\//, '').replace(/^"|"$/g, '');
  return ETAG.test(etag) ? etag : undefined;
}

export function resolveUrl(endpoint: string, repo: string, revision: string, path: string): string {
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${path.split('/').map(encodeURIComponent).join('/')}`;
}

/** HEAD without following the redirect, because the LFS headers sit on the redirect itself. */
export async function headFile(client: HubClient, repo: string, revision: string, path: string): Promise<RemoteFile> {
  let url = resolveUrl(client.endpoint, repo, revision, path);
  for (let hops = 0; hops < 5; hops++) {
    // identity: a compressed answer would report the compressed size, as huggingface_hub also avoids.
    const response = await hubFetch(client, url, { method: 'HEAD', redirect: 'manual', headers: { 'Accept-Encoding': 'identity' } });
    const isRedirect = response.status >= 300 && response.status < 400;
    if (!response.ok && !isRedirect)
      throw hubHttpError(response.status, response.headers.get('X-Error-Code'), repo, `file "${path}" at revision "${revision}"`);
    const location = response.headers.get('Location');
    const linkedEtag = response.headers.get('X-Linked-Etag');
    // A relative redirect is a renamed repository: follow it. An absolute one is the LFS download (CDN) URL.
    if (isRedirect && location && location.startsWith('/') && !linkedEtag) {
      url = new URL(location, url).toString();
      continue;
    }
    const etag = normaliseEtag(linkedEtag ?? response.headers.get('ETag'));
    const size = Number(response.headers.get('X-Linked-Size') ?? response.headers.get('Content-Length'));
    if (!etag || !Number.isSafeInteger(size) || size < 0) {
      throw new SproutError('hub-error', `The Hub's answer for "${repo}/${path}" lacks a usable ETag or size.`, {
        hint: 'Check HF_ENDPOINT: it must point at a Hugging Face Hub or a full mirror.',
      });
    }
    // An LFS file's linked ETag is its sha256, another file's ETag its git object id; any other ETag is not checked.
    const check = blobCheck(etag);
    const checked = linkedEtag ? check?.kind === 'sha256' : check?.kind === 'git-oid';
    return { path, url, etag, size, check: checked ? check : undefined, commit: response.headers.get('X-Repo-Commit') ?? undefined };
  }
  throw new SproutError('hub-error', `Too many redirects for "${repo}/${path}".`);
}

function writeFailure(error: unknown, file: string): SproutError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new SproutError('disk-full', 'The disk is full; the download stopped.', {
      file,
      hint: 'Free some space and run the download again: it resumes where it stopped.',
    });
  }
  return new SproutError('download-write-failed', `Cannot write the download: ${(error as Error).message}.`, { file });
}

/** One file's download into its .incomplete file: what every attempt at it needs. */
interface BlobDownload {
  client: HubClient;
  file: RemoteFile;
  incomplete: string;
  onBytes: (n: number) => void;
  openWriter: OpenBlobWriter;
}

/** Where an attempt picks up: the bytes already in the .incomplete file and, for a checked file, their running hash. */
interface ResumePoint {
  offset: number;
  hash: Hash | undefined;
}

/** A failure another attempt may not meet (the Hub unreachable, a dropped connection): retried, then `giveUp()` is thrown. */
interface NetworkFailure {
  kind: 'network-failure';
  giveUp: () => SproutError;
}

interface RangedResponse {
  kind: 'response';
  response: Response;
  start: ResumePoint;
}

interface Received {
  kind: 'received';
  hash: Hash | undefined;
}

async function resumePoint(download: BlobDownload): Promise<ResumePoint> {
  const { file, incomplete } = download;
  let offset = existsSync(incomplete) ? statSync(incomplete).size : 0;
  if (offset > file.size) offset = 0;
  return { offset, hash: file.check ? await hashPrefix(file.check, file.size, incomplete, offset) : undefined };
}

/** GETs the file from `start.offset` on; the start that comes back is 0 when the server sends the whole file instead. */
async function requestRest(download: BlobDownload, start: ResumePoint): Promise<RangedResponse | NetworkFailure> {
  const { client, file } = download;
  let response: Response;
  try {
    response = await hubFetch(client, file.url, {
      headers: { 'Accept-Encoding': 'identity', ...(start.offset > 0 ? { Range: `bytes=${start.offset}-` } : {}) },
    });
  } catch (error) {
    if (error instanceof SproutError && error.code === 'hub-unreachable') return { kind: 'network-failure', giveUp: () => error };
    throw error;
  }
  if (!response.ok) throw hubHttpError(response.status, response.headers.get('X-Error-Code'), file.path, `file "${file.path}"`);
  if (start.offset > 0 && response.status !== 206) {
    // The server ignored the Range header and sends the whole file: start over.
    return { kind: 'response', response, start: { offset: 0, hash: file.check ? startHash(file.check, file.size) : undefined } };
  }
  if (start.offset > 0 && !response.headers.get('Content-Range')?.startsWith(`bytes ${start.offset}-`))
    throw new SproutError('hub-error', `The Hub resumed "${file.path}" at the wrong place (${response.headers.get('Content-Range')}).`);
  return { kind: 'response', response, start };
}

/** Streams the response body into `writer` from `start.offset`, feeding `start.hash`; returns the position where the body ended. */
async function copyBody(download: BlobDownload, response: Response, writer: BlobWriter, start: ResumePoint): Promise<number> {
  const { client, file, incomplete, onBytes } = download;
  const reader = response.body!.getReader();
  let position = start.offset;
  for (;;) {
    const { done, value } = await readWithin(client, reader);
    if (done) return position;
    if (position + value.length > file.size)
      throw new SproutError('hub-error', `The Hub sent more than the ${file.size} bytes announced for "${file.path}".`);
    try {
      await writer.write(value, position);
    } catch (error) {
      throw writeFailure(error, incomplete);
    }
    start.hash?.update(value);
    position += value.length;
    onBytes(value.length);
  }
}

/** One attempt at the bytes `start` lacks: throws what another attempt cannot fix, returns a NetworkFailure for what it may. */
async function downloadRest(download: BlobDownload, start: ResumePoint): Promise<Received | NetworkFailure> {
  const { client, file, incomplete } = download;
  const requested = await requestRest(download, start);
  if (requested.kind === 'network-failure') return requested;
  const { response, start: from } = requested;
  const writer = await download.openWriter(incomplete, from.offset === 0).catch((error: unknown) => {
    throw writeFailure(error, incomplete);
  });
  let position: number;
  try {
    position = await copyBody(download, response, writer, from);
  } catch (error) {
    await writer.close();
    if (error instanceof SproutError && error.code !== 'hub-unreachable') throw error;
    if (client.signal?.aborted) throw cancelled();
    return { kind: 'network-failure', giveUp: () => (error instanceof SproutError ? error : unreachable(client, error)) };
  }
  await writer.close();
  if (position < file.size) {
    const giveUp = (): SproutError =>
      new SproutError('hub-error', `The connection kept closing before "${file.path}" was complete.`, {
        hint: 'Run the download again: it resumes where it stopped.',
      });
    return { kind: 'network-failure', giveUp };
  }
  return { kind: 'received', hash: from.hash };
}

/**
 * Downloads one file into blobs/{etag}, resuming blobs/{etag}.incomplete with an HTTP Range request when a
 * previous attempt (this process or an earlier one) left one. The blob is renamed into place only after its
 * size and its checksum (blob-hash.ts) check out; a mismatch discards the partial file and fetches once more.
 */
export async function fetchBlob(
  client: HubClient,
  file: RemoteFile,
  blobsDir: string,
  onBytes: (n: number) => void,
  openWriter: OpenBlobWriter = openFileWriter,
): Promise<string> {
  const blob = join(blobsDir, file.etag);
  if (existsSync(blob)) {
    // A small file is checked again, at no cost to speak of: a damaged one (left by an older Sprout, or another tool)
    // would otherwise fail every download after it. Weights are checked by `model verify`, not on every download.
    if (file.check?.kind !== 'git-oid' || (await blobMatches(file.check, file.size, blob))) return blob;
    rmSync(blob);
  }
  mkdirSync(blobsDir, { recursive: true });
  const download: BlobDownload = { client, file, incomplete: `${blob}.incomplete`, onBytes, openWriter };
  let networkRetries = 0;
  let checksumRetries = 0;
  for (;;) {
    const start = await resumePoint(download);
    let hash = start.hash;
    if (start.offset < file.size) {
      const attempt = await downloadRest(download, start);
      if (attempt.kind === 'network-failure') {
        if (networkRetries++ < MAX_NETWORK_RETRIES) continue;
        throw attempt.giveUp();
      }
      hash = attempt.hash;
    }
    if (hash && hash.digest('hex') !== file.check?.expected) {
      rmSync(download.incomplete, { force: true });
      if (checksumRetries++ < 1) continue;
      throw new SproutError('checksum-mismatch', `"${file.path}" arrived damaged twice (its checksum does not match the Hub's).`, {
        hint: 'Run the download again later; if it keeps failing the mirror (HF_ENDPOINT) serves a wrong file.',
      });
    }
    try {
      renameSync(download.incomplete, blob);
    } catch (error) {
      // Another download of the same file (another process, or this one for another model) shares the .incomplete
      // file: it wrote the same bytes at the same places and renamed it first.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || !existsSync(blob)) throw error;
    }
    return blob;
  }
}
