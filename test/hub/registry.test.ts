import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue, catalogueOnDisk } from '../../main/hub/catalogue.js';
import { hubSettings, hubTimeouts } from '../../main/hub/settings.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { getModel, hubModelId, listModels, localModelId, removeModel, resolveModel, saveModel } from '../../main/library/models.js';
import { SproutError } from '../../main/errors.js';
import type { ArchitectureSummary } from '../../main/checkpoint/summary.js';
import { tempDir } from '../checkpoint/helpers.js';

const summary: ArchitectureSummary = {
  parameters: 10,
  encoderLayers: 1,
  decoderLayers: 1,
  dModel: 4,
  dKv: 2,
  numHeads: 2,
  dFf: 8,
  vocabSize: 5,
  feedForward: 'relu',
  tiedEmbeddings: true,
  weightBytes: 40,
};

describe('models registry', () => {
  it('saves, replaces (keeping the first added time), lists and removes', () => {
    const db = openLibrary(libraryPath(tempDir()));
    const first = saveModel(db, {
      id: hubModelId('t5-small', 'main'),
      repo: 't5-small',
      revision: 'main',
      sha: 'a'.repeat(40),
      path: '/x',
      summary,
    });
    expect(first.id).toBe('t5-small');
    const second = saveModel(db, { ...first, sha: 'b'.repeat(40), summary: { ...summary, parameters: 11 } });
    expect(second.added).toBe(first.added);
    expect(getModel(db, 't5-small')).toEqual({ ...first, sha: 'b'.repeat(40), summary: { ...summary, parameters: 11 } });
    expect(hubModelId('google/flan-t5-small', 'v2')).toBe('google/flan-t5-small@v2');
    saveModel(db, { id: localModelId(db, 'my model', '/a'), repo: null, revision: null, sha: null, path: '/a', summary });
    expect(localModelId(db, 'my model', '/a')).toBe('local/my-model');
    expect(localModelId(db, 'my model', '/b')).toBe('local/my-model-2');
    expect(listModels(db).map((m) => m.id)).toEqual(['t5-small', 'local/my-model']);
    expect(removeModel(db, 't5-small')).toBe(true);
    expect(removeModel(db, 't5-small')).toBe(false);
    expect(listModels(db)).toHaveLength(1);
    db.close();
  });
});

describe('what --model names (resolveModel)', () => {
  it('takes a registered id first, then a folder on disk with its registration if any, and names anything else', () => {
    const home = tempDir();
    const db = openLibrary(libraryPath(home));
    const registered = join(home, 'registered');
    const loose = join(home, 'local', 'loose');
    mkdirSync(registered);
    mkdirSync(loose, { recursive: true });
    const record = saveModel(db, { id: 'local/registered', repo: null, revision: null, sha: null, path: registered, summary });
    // A folder named like another model's id: the id wins, as `sprout model list` shows ids, not folders.
    saveModel(db, { id: 'local/loose', repo: null, revision: null, sha: null, path: registered, summary });
    expect(resolveModel(db, 'local/registered')).toEqual({ path: registered, record });
    expect(resolveModel(db, registered)).toEqual({ path: registered, record });
    expect(resolveModel(db, join(home, 'local', 'loose'))).toEqual({ path: loose, record: undefined });
    const unknown = (() => {
      try {
        resolveModel(db, 'local/gone');
      } catch (error) {
        return error;
      }
    })();
    // A registered model whose folder was moved or deleted is named with where it was.
    const moved = join(home, 'moved');
    mkdirSync(moved);
    saveModel(db, { id: 'local/moved', repo: null, revision: null, sha: null, path: moved, summary });
    rmSync(moved, { recursive: true });
    expect(() => resolveModel(db, 'local/moved')).toThrow(`The files of model "local/moved" are gone from ${moved}.`);
    // Given by the path it was registered at, relative or not, the same words, not "neither a model nor a folder".
    expect(() => resolveModel(db, moved)).toThrow(`The files of model "local/moved" are gone from ${moved}.`);
    expect(() => resolveModel(db, relative(process.cwd(), moved))).toThrow(`The files of model "local/moved" are gone`);
    expect(unknown).toBeInstanceOf(SproutError);
    expect(unknown).toMatchObject({ code: 'unknown-model', summary: '"local/gone" is neither a model in the library nor a folder.' });
    db.close();
  });
});

describe('hub settings and catalogue', () => {
  it('reads the environment variables huggingface_hub reads', () => {
    const hfHome = tempDir();
    expect(hubSettings({})).toEqual({
      endpoint: 'https://huggingface.co',
      cacheDir: join(homedir(), '.cache', 'huggingface', 'hub'),
      token: undefined,
      offline: false,
    });
    writeFileSync(join(hfHome, 'token'), 'hf_fromfile\n');
    expect(hubSettings({ HF_HOME: hfHome, HF_HUB_OFFLINE: 'true', HF_ENDPOINT: 'https://mirror.example/' })).toEqual({
      endpoint: 'https://mirror.example',
      cacheDir: join(hfHome, 'hub'),
      token: 'hf_fromfile',
      offline: true,
    });
    expect(hubSettings({ HF_HOME: hfHome, HF_HUB_CACHE: '/c', HF_TOKEN: 'hf_env', HF_HUB_OFFLINE: '0' })).toMatchObject({
      cacheDir: '/c',
      token: 'hf_env',
      offline: false,
    });
    expect(hubSettings({ XDG_CACHE_HOME: '/xdg' }).cacheDir).toBe('/xdg/huggingface/hub');
  });

  it("takes huggingface_hub's timeouts and defaults, and refuses a value that is not a number of seconds", () => {
    expect(hubTimeouts({})).toEqual({ download: 10, etag: 10 });
    expect(hubTimeouts({ HF_HUB_DOWNLOAD_TIMEOUT: '60', HF_HUB_ETAG_TIMEOUT: ' 2.5 ' })).toEqual({ download: 60, etag: 2.5 });
    for (const value of ['ten', '0', '-1', 'Infinity']) {
      const error = (() => {
        try {
          hubTimeouts({ HF_HUB_DOWNLOAD_TIMEOUT: value });
        } catch (e) {
          return e as SproutError;
        }
      })();
      expect(error?.code).toBe('bad-environment');
      expect(error?.message).toBe(
        `HF_HUB_DOWNLOAD_TIMEOUT is "${value}", which is not a number of seconds. ` +
          "Set HF_HUB_DOWNLOAD_TIMEOUT to a number of seconds above 0 (huggingface_hub's default is 10), or unset it.",
      );
    }
  });

  it('lists recommended models and which are on disk', () => {
    expect(catalogue.filter((c) => c.recommendedForPromptTuning).map((c) => c.repo)).toContain('google/t5-small-lm-adapt');
    expect(catalogue.find((c) => c.repo === 't5-small')?.parameters).toBe(60_500_000);
    const cacheDir = tempDir();
    const snapshot = join(cacheDir, 'models--google--flan-t5-small', 'snapshots', 'c'.repeat(40));
    mkdirSync(snapshot, { recursive: true });
    writeFileSync(join(snapshot, 'config.json'), '{}');
    mkdirSync(join(cacheDir, 'models--google--flan-t5-small', 'refs'));
    writeFileSync(join(cacheDir, 'models--google--flan-t5-small', 'refs', 'main'), 'c'.repeat(40));
    const onDisk = catalogueOnDisk(cacheDir).filter((c) => c.cachedDir !== null);
    expect(onDisk.map((c) => [c.repo, c.cachedDir])).toEqual([['google/flan-t5-small', snapshot]]);
  });
});
