import { HubApiError, modelInfo } from '@huggingface/hub';
import { SproutError } from '../errors.js';
import type { HubTimeouts } from './settings.js';

/** What every request to the Hub needs: where, who, how long to wait, and how to stop. */
export interface HubClient {
  endpoint: string;
  token?: string;
  fetch: typeof fetch;
  signal?: AbortSignal;
  timeouts: HubTimeouts;
}

export function cancelled(): SproutError {
  return new SproutError('download-cancelled', 'The download was cancelled.', {
    hint: 'Run the same download again to resume where it stopped.',
  });
}

/** Times a read (GET, HEAD) is sent again when the connection closes before any answer. */
const RESET_RETRIES = 2;
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/**
 * A connection closed before an answer came: most often one the server closed just as it was reused from the
 * keep-alive pool, which a busy client reaches late. Unlike a refused connection or a failed name lookup, asking
 * again at once usually works.
 */
function connectionReset(error: unknown): boolean {
  const cause = (error as { cause?: { code?: string } }).cause;
  return RESET_CODES.has(cause?.code ?? (error as { code?: string }).code ?? '');
}

/**
 * The Hub accepted the connection and then said nothing for `seconds`: without a limit a hung connection (a stalled
 * proxy, a mirror that stopped sending) holds a download forever, as no read ever ends. The code is hub-unreachable's,
 * so a download tries again and resumes where the bytes stopped.
 */
function silent(client: HubClient, { seconds, variable }: HubTimeout): SproutError {
  return new SproutError('hub-unreachable', `The Hugging Face Hub at ${client.endpoint} sent nothing for ${seconds} s.`, {
    hint: `Check the network connection; on a slow connection or mirror, set ${variable} to more seconds (${seconds} now).`,
  });
}

/** How long a request may wait, and the variable that sets it. */
interface HubTimeout {
  seconds: number;
  variable: 'HF_HUB_DOWNLOAD_TIMEOUT' | 'HF_HUB_ETAG_TIMEOUT';
}

/** A HEAD (the metadata before each file) waits under the etag timeout; every other request, and a body's reads, under the download one. */
function timeoutOf(client: HubClient, method: string): HubTimeout {
  return method === 'HEAD'
    ? { seconds: client.timeouts.etag, variable: 'HF_HUB_ETAG_TIMEOUT' }
    : { seconds: client.timeouts.download, variable: 'HF_HUB_DOWNLOAD_TIMEOUT' };
}

/** One request, given up when its answer takes longer than its timeout (the body's own reads are timed by readWithin). */
async function fetchWithin(client: HubClient, url: string, init: RequestInit & { method: string }): Promise<Response> {
  const timeout = timeoutOf(client, init.method);
  const answer = new AbortController();
  const timer = setTimeout(() => answer.abort(), timeout.seconds * 1000);
  // A signal that stayed armed would cut the body off later: the timer only covers the wait for the answer.
  const signal = client.signal ? AbortSignal.any([client.signal, answer.signal]) : answer.signal;
  try {
    return await client.fetch(url, { ...init, signal });
  } catch (error) {
    if (answer.signal.aborted && !client.signal?.aborted) throw silent(client, timeout);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** fetch with the token, the abort signal and the Hub's timeouts, and network failures turned into messages a person can act on. */
export async function hubFetch(client: HubClient, url: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (client.token) headers.set('Authorization', `Bearer ${client.token}`);
  headers.set('User-Agent', 'sprout; huggingface_hub-compatible');
  const method = (init.method ?? 'GET').toUpperCase();
  const idempotent = ['GET', 'HEAD'].includes(method);
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchWithin(client, url, { ...init, method, headers });
    } catch (error) {
      if (client.signal?.aborted) throw cancelled();
      if (error instanceof SproutError) throw error;
      if (idempotent && attempt < RESET_RETRIES && connectionReset(error)) continue;
      throw unreachable(client, error);
    }
  }
}

/** The body's next chunk, or the silent() error when none comes within the download timeout (the connection is then let go). */
export async function readWithin(
  client: HubClient,
  reader: ReadableStreamDefaultReader<Uint8Array>,
): Promise<ReadableStreamReadResult<Uint8Array>> {
  const timeout = timeoutOf(client, 'GET');
  let timer: NodeJS.Timeout | undefined;
  const quiet = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(silent(client, timeout)), timeout.seconds * 1000);
  });
  try {
    return await Promise.race([reader.read(), quiet]);
  } catch (error) {
    if (error instanceof SproutError) reader.cancel().catch(() => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

export function unreachable(client: HubClient, error: unknown): SproutError {
  const cause = (error as { cause?: { message?: string } }).cause?.message ?? (error as Error).message;
  return new SproutError('hub-unreachable', `Cannot reach the Hugging Face Hub at ${client.endpoint}: ${cause}.`, {
    hint: 'Check the network connection (HF_ENDPOINT selects a mirror); models already downloaded work offline with HF_HUB_OFFLINE=1.',
  });
}

/** A failed Hub response as a SproutError: 401/403 mean private, gated or missing; 404 names what is missing. */
export function hubHttpError(status: number, errorCode: string | null, repo: string, what: string): SproutError {
  if (status === 401 || status === 403) {
    const gated = errorCode === 'GatedRepo';
    return new SproutError(
      gated ? 'hub-gated' : 'hub-unauthorized',
      `The Hub refused access to ${what} of "${repo}" (HTTP ${status}${errorCode ? `, ${errorCode}` : ''})` +
        `: the model is ${gated ? 'gated' : 'private or gated, or does not exist'}.`,
      { hint: `Check the model id; for a private or gated model accept its terms on the model page and set HF_TOKEN to an access token.` },
    );
  }
  if (status === 404) {
    const code =
      errorCode === 'RevisionNotFound' ? 'hub-revision-not-found' : errorCode === 'EntryNotFound' ? 'hub-file-not-found' : 'hub-not-found';
    return new SproutError(code, `The Hub has no ${what} for "${repo}" (HTTP 404${errorCode ? `, ${errorCode}` : ''}).`, {
      hint: 'Check the model id and the revision (branch, tag or commit).',
    });
  }
  return new SproutError('hub-error', `The Hub answered HTTP ${status} for ${what} of "${repo}".`, {
    hint: 'Try again later; if it persists the Hub or the mirror (HF_ENDPOINT) has a problem.',
  });
}

export interface RepoListing {
  commit: string;
  files: string[];
}

/** The commit a revision resolves to and the repository's file list, via @huggingface/hub's modelInfo. */
export async function listRepo(client: HubClient, repo: string, revision: string): Promise<RepoListing> {
  let errorCode: string | null = null;
  // The token travels in our fetch wrapper rather than modelInfo's accessToken, which insists on the "hf_" prefix.
  const fetchWithAuth: typeof fetch = async (input, init) => {
    const response = await hubFetch(client, String(input), init);
    errorCode = response.headers.get('X-Error-Code');
    return response;
  };
  try {
    const info = await modelInfo({
      name: repo,
      revision,
      hubUrl: client.endpoint,
      fetch: fetchWithAuth,
      additionalFields: ['sha', 'filePaths'],
    });
    const commit = (info as { sha?: unknown }).sha;
    const files = (info as { filePaths?: unknown }).filePaths;
    if (
      typeof commit !== 'string' ||
      !/^[0-9a-f]{40}$/.test(commit) ||
      !Array.isArray(files) ||
      !files.every((f) => typeof f === 'string')
    ) {
      throw new SproutError('hub-error', `The Hub's answer for "${repo}" has no commit sha or file list.`, {
        hint: 'Check HF_ENDPOINT: it must point at a Hugging Face Hub or a full mirror.',
      });
    }
    return { commit, files };
  } catch (error) {
    if (error instanceof HubApiError) throw hubHttpError(error.statusCode, errorCode, repo, `revision "${revision}"`);
    if (error instanceof SproutError) throw error;
    if (client.signal?.aborted) throw cancelled();
    throw new SproutError('hub-error', `The Hub's answer for "${repo}" could not be read: ${(error as Error).message}.`);
  }
}
