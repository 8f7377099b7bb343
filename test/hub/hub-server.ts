import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

/**
 * A loopback Hugging Face Hub (127.0.0.1 only) implementing what huggingface_hub's snapshot_download uses:
 * model info with sha and siblings, resolve/{rev}/{file} with ETag / X-Repo-Commit, LFS redirects carrying
 * X-Linked-Etag (sha256) and X-Linked-Size, and Range requests on the LFS "CDN". Faults are injected per file.
 */
export interface HubRepo {
  commit: string;
  branches: Record<string, string>;
  files: Map<string, Buffer>;
  /** When set, requests must carry this bearer token (a private or gated repo). */
  token?: string;
}

const LFS = /\.(safetensors|bin|model)$/;

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const gitOid = (b: Buffer): string => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');

export function commitOf(label: string): string {
  return createHash('sha1').update(label).digest('hex');
}

export function repoFromFolder(folder: string, names: string[], label: string, extra: Record<string, Buffer> = {}): HubRepo {
  const files = new Map<string, Buffer>();
  for (const name of names) files.set(name, readFileSync(join(folder, name)));
  for (const [name, data] of Object.entries(extra)) files.set(name, data);
  const commit = commitOf(label);
  return { commit, branches: { main: commit }, files };
}

export class HubServer {
  readonly repos = new Map<string, HubRepo>();
  /** Bytes of file content sent, per file name (LFS and regular). */
  readonly sent = new Map<string, number>();
  readonly requests: string[] = [];
  /** Sizes announced in X-Linked-Size instead of the real ones (a file too large for the disk). */
  readonly announcedSizes = new Map<string, number>();
  private drops = new Map<string, number>();
  private stalls = new Map<string, number>();
  private corruptions = new Set<string>();
  private resets: RegExp[] = [];
  private holds: RegExp[] = [];
  private server: Server;
  endpoint = '';

  constructor() {
    this.server = createServer((req, res) => this.handle(req, res));
    // Idle connections stay open until stop(): with Node's default 5 s keep-alive timeout, a client slowed by a busy
    // machine reuses a connection just as the server closes it and gets ECONNRESET, which no real test here asks for.
    this.server.keepAliveTimeout = 0;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next transfer of `file` stops (socket destroyed) after `bytes` bytes. */
  dropOnce(file: string, bytes: number): void {
    this.drops.set(file, bytes);
  }

  /** The next transfer of `file` sends `bytes` bytes and then waits forever (a hung connection). */
  stallOnce(file: string, bytes: number): void {
    this.stalls.set(file, bytes);
  }

  /** The next request whose path matches `path` is cut off before any answer (its connection reset). */
  resetOnce(path: RegExp): void {
    this.resets.push(path);
  }

  /** The next request whose path matches `path` gets no answer at all: the connection stays open and silent. */
  holdOnce(path: RegExp): void {
    this.holds.push(path);
  }

  /** Resets asked for that no request has met yet. */
  get pendingResets(): number {
    return this.resets.length;
  }

  /** The next transfer of `file` has one byte flipped. */
  corruptOnce(file: string): void {
    this.corruptions.add(file);
  }

  fileRequests(): string[] {
    return this.requests.filter((r) => r.includes('/resolve/') || r.includes('/lfs/'));
  }

  private find(path: string): { sha: string; name: string; data: Buffer } | undefined {
    for (const repo of this.repos.values()) {
      for (const [name, data] of repo.files) if (sha256(data) === path) return { sha: path, name, data };
    }
    return undefined;
  }

  private deny(res: ServerResponse, status: number, code: string): void {
    res.writeHead(status, { 'X-Error-Code': code, 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: code }));
  }

  private authorised(repo: HubRepo, req: IncomingMessage): boolean {
    return !repo.token || req.headers.authorization === `Bearer ${repo.token}`;
  }

  /** Whether a reset or a hold asked for takes this request: then it gets no answer. */
  private faulted(req: IncomingMessage, path: string): boolean {
    const takes = (faults: RegExp[]): boolean => {
      const at = faults.findIndex((r) => r.test(path));
      if (at >= 0) faults.splice(at, 1);
      return at >= 0;
    };
    if (takes(this.resets)) req.socket.resetAndDestroy();
    else if (!takes(this.holds)) return false;
    return true;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.endpoint);
    this.requests.push(`${req.method} ${url.pathname}`);
    if (this.faulted(req, url.pathname)) return;
    const info = /^\/api\/models\/(.+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (info && req.method === 'GET') {
      const repo = this.repos.get(info[1]);
      // Like the real Hub, an unknown repository answers 401, so as not to reveal private ones.
      if (!repo || !this.authorised(repo, req)) return this.deny(res, 401, 'RepoNotFound');
      const rev = decodeURIComponent(info[2]);
      const commit = repo.branches[rev] ?? (rev === repo.commit ? rev : undefined);
      if (!commit) return this.deny(res, 404, 'RevisionNotFound');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        JSON.stringify({
          _id: info[1],
          id: info[1],
          sha: commit,
          private: !!repo.token,
          siblings: [...repo.files.keys()].map((rfilename) => ({ rfilename })),
        }),
      );
      return;
    }
    const resolve = /^\/(.+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (resolve && (req.method === 'GET' || req.method === 'HEAD')) {
      const repo = this.repos.get(resolve[1]);
      if (!repo || !this.authorised(repo, req)) return this.deny(res, 401, 'RepoNotFound');
      const rev = decodeURIComponent(resolve[2]);
      const commit = repo.branches[rev] ?? (rev === repo.commit ? rev : undefined);
      if (!commit) return this.deny(res, 404, 'RevisionNotFound');
      const name = resolve[3].split('/').map(decodeURIComponent).join('/');
      const data = repo.files.get(name);
      if (!data) return this.deny(res, 404, 'EntryNotFound');
      if (LFS.test(name)) {
        const sha = sha256(data);
        res.writeHead(302, {
          Location: `${this.endpoint}/lfs/${sha}?signature=x`,
          'X-Linked-Etag': `"${sha}"`,
          'X-Linked-Size': String(this.announcedSizes.get(name) ?? data.length),
          'X-Repo-Commit': commit,
          ETag: `"${gitOid(Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha}\nsize ${data.length}\n`))}"`,
        });
        res.end();
        return;
      }
      return this.send(req, res, name, data, { ETag: `"${gitOid(data)}"`, 'X-Repo-Commit': commit });
    }
    const lfs = /^\/lfs\/([0-9a-f]{64})$/.exec(url.pathname);
    if (lfs && (req.method === 'GET' || req.method === 'HEAD')) {
      const found = this.find(lfs[1]);
      if (!found) return this.deny(res, 404, 'EntryNotFound');
      return this.send(req, res, found.name, found.data, { ETag: `"${found.sha}"` });
    }
    this.deny(res, 404, 'NotFound');
  }

  private send(req: IncomingMessage, res: ServerResponse, name: string, data: Buffer, headers: Record<string, string>): void {
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range) start = Number(range[1]);
    if (start > data.length) {
      res.writeHead(416, { 'Content-Range': `bytes */${data.length}` });
      res.end();
      return;
    }
    const body = Buffer.from(data.subarray(start));
    if (req.method !== 'HEAD' && body.length > 0 && this.corruptions.delete(name)) body[Math.floor(body.length / 2)] ^= 0xff;
    res.writeHead(range ? 206 : 200, {
      ...headers,
      'Content-Length': String(body.length),
      'Accept-Ranges': 'bytes',
      ...(range ? { 'Content-Range': `bytes ${start}-${data.length - 1}/${data.length}` } : {}),
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    const dropAt = this.drops.get(name) ?? this.stalls.get(name);
    const stall = this.stalls.delete(name);
    this.drops.delete(name);
    const chunk = 64 * 1024;
    let offset = 0;
    const pump = (): void => {
      while (offset < body.length) {
        const end = Math.min(body.length, offset + chunk, dropAt !== undefined && offset < dropAt ? dropAt : Infinity);
        const piece = body.subarray(offset, end);
        offset = end;
        this.sent.set(name, (this.sent.get(name) ?? 0) + piece.length);
        const more = res.write(piece);
        if (dropAt !== undefined && offset >= dropAt) {
          if (!stall) res.socket?.destroy();
          return;
        }
        if (!more) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  }
}
