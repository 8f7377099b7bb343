import { getRepoFolderName } from '@huggingface/hub';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { SproutError } from '../errors.js';
import { tempPathBeside } from '../temp-path.js';

/**
 * The Hugging Face hub cache layout, shared with Python's huggingface_hub:
 *   {cache}/models--{org}--{name}/blobs/{etag}                file contents, named by etag
 *   {cache}/models--{org}--{name}/snapshots/{commit}/{path}   relative symlinks into blobs/
 *   {cache}/models--{org}--{name}/refs/{revision}             the commit a branch or tag resolved to
 */
export interface RepoCache {
  root: string;
  blobs: string;
}

const REPO_ID = /^(?:[A-Za-z0-9][\w.-]{0,95}\/)?[A-Za-z0-9][\w.-]{0,95}$/;
export const COMMIT = /^[0-9a-f]{40}$/;

export function checkRepoId(repo: string): void {
  if (!REPO_ID.test(repo) || repo.includes('..') || repo.endsWith('.git')) {
    throw new SproutError('bad-repo-id', `"${repo}" is not a Hugging Face model id.`, {
      hint: 'Model ids look like "t5-small" or "google/flan-t5-base".',
    });
  }
}

function checkRevision(revision: string): void {
  if (!revision || revision.split('/').some((part) => part === '' || part === '.' || part === '..') || /[\\\0]/.test(revision)) {
    throw new SproutError('bad-revision', `"${revision}" is not a valid revision (branch, tag or commit).`);
  }
}

export function repoCache(cacheDir: string, repo: string): RepoCache {
  checkRepoId(repo);
  const root = join(cacheDir, getRepoFolderName({ type: 'model', name: repo }));
  return { root, blobs: join(root, 'blobs') };
}

export function snapshotDir(cache: RepoCache, commit: string): string {
  return join(cache.root, 'snapshots', commit);
}

/** The commit of a snapshot folder, or of a file in one ({cache}/models--{org}--{name}/snapshots/{commit}/…). */
export function snapshotCommit(path: string): string | undefined {
  return /[\\/]models--[^\\/]+[\\/]snapshots[\\/]([0-9a-f]{40})(?:[\\/]|$)/.exec(path)?.[1];
}

/** The commit a revision points to in the cache: itself when it is a commit, else refs/{revision}. */
export function cachedCommit(cache: RepoCache, revision: string): string | undefined {
  if (COMMIT.test(revision)) return existsSync(snapshotDir(cache, revision)) ? revision : undefined;
  checkRevision(revision);
  const ref = join(cache.root, 'refs', revision);
  if (!existsSync(ref)) return undefined;
  const commit = readFileSync(ref, 'utf8').trim();
  return COMMIT.test(commit) ? commit : undefined;
}

export function writeRef(cache: RepoCache, revision: string, commit: string): void {
  if (revision === commit) return;
  checkRevision(revision);
  const ref = join(cache.root, 'refs', revision);
  mkdirSync(dirname(ref), { recursive: true });
  const tmp = tempPathBeside(ref);
  writeFileSync(tmp, commit);
  renameSync(tmp, ref);
}

/**
 * Puts a complete blob into a snapshot as a relative symlink (as huggingface_hub does), replacing whatever
 * was there; where symlinks are not allowed (Windows without developer mode) the blob is copied instead.
 */
export function linkIntoSnapshot(blob: string, target: string): void {
  mkdirSync(dirname(target), { recursive: true });
  rmSync(target, { force: true });
  try {
    symlinkSync(relative(dirname(target), blob), target);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    copyFileSync(blob, target);
  }
}
