import { execFile, execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLibrary, libraryPath } from '../../main/library/db.js';
import { getModel } from '../../main/library/models.js';
import { fixture, repoRoot, tempDir } from '../checkpoint/helpers.js';
import { commitOf, HubServer, repoFromFolder } from './hub-server.js';

const run = promisify(execFile);
const MODEL_FILES = [
  'config.json',
  'model.safetensors',
  'spiece.model',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
  'generation_config.json',
];

let server: HubServer;
const home = tempDir('sprout-home-');
const cache = tempDir('sprout-hfcache-');

beforeAll(async () => {
  server = await new HubServer().start();
  server.repos.set('google/tiny-t5', repoFromFolder(fixture('tiny-t5-v1_1'), MODEL_FILES, 'cli'));
});
afterAll(() => server.stop());

/** Runs `node out/cli.js` (built by `npm test`) with a fresh data folder and HF cache; never throws. */
async function sprout(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { PATH: process.env.PATH ?? '', HOME: home, SPROUT_HOME: home, HF_HUB_CACHE: cache, HF_ENDPOINT: server.endpoint };
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repoRoot, 'out/cli.js'), ...args], { env: { ...base, ...env } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('sprout model', () => {
  it('download, list, verify, import, remove', async () => {
    const download = await sprout(['model', 'download', 'google/tiny-t5']);
    expect(download.stderr).toContain('google/tiny-t5: 4.3M parameters, 3+2 layers, d_model 64, vocab 32128, gated-gelu');
    expect(download.code).toBe(0);
    const record = JSON.parse(download.stdout);
    expect(record).toMatchObject({
      id: 'google/tiny-t5',
      repo: 'google/tiny-t5',
      revision: 'main',
      sha: commitOf('cli'),
      fetched_bytes: 20412104,
    });
    expect(record.path).toBe(join(cache, 'models--google--tiny-t5', 'snapshots', commitOf('cli')));
    expect(record.summary).toMatchObject({
      parameters: 4_291_840,
      encoderLayers: 3,
      decoderLayers: 2,
      dModel: 64,
      vocabSize: 32128,
      tiedEmbeddings: false,
    });

    const db = openLibrary(libraryPath(home));
    expect(getModel(db, 'google/tiny-t5')?.sha).toBe(commitOf('cli'));
    db.close();

    const offline = await sprout(['model', 'download', 'google/tiny-t5'], { HF_HUB_OFFLINE: '1', HF_ENDPOINT: 'http://127.0.0.1:9' });
    expect(offline.code).toBe(0);
    expect(JSON.parse(offline.stdout).fetched_bytes).toBe(0);
    const offlineMissing = await sprout(['model', 'download', 'google/other'], { HF_HUB_OFFLINE: '1' });
    expect(offlineMissing.code).toBe(2);
    expect(offlineMissing.stderr).toContain('sprout: "google/other" (revision "main") is not in the Hugging Face cache');

    const verify = await sprout(['model', 'verify', 'google/tiny-t5']);
    expect(verify.code).toBe(0);
    // Every file: model.safetensors and spiece.model (LFS) by the sha256 their blobs are named by, the others by
    // their git object id.
    const snapshot = join(cache, 'models--google--tiny-t5', 'snapshots', commitOf('cli'));
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, tensors: 61, checked_blobs: readdirSync(snapshot).length });

    const imported = await sprout(['model', 'import', fixture('tiny-t5-v1_0')]);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({
      id: 'local/tiny-t5-v1_0',
      path: fixture('tiny-t5-v1_0'),
      summary: { tiedEmbeddings: true, feedForward: 'relu' },
    });
    const single = await sprout(['model', 'import', join(fixture('mini-t5-pretrained'), 'model.safetensors')]);
    expect(JSON.parse(single.stdout)).toMatchObject({ id: 'local/mini-t5-pretrained', summary: { parameters: 9_996_672 } });

    const list = await sprout(['model', 'list', '--json']);
    expect(JSON.parse(list.stdout).models.map((m: { id: string }) => m.id)).toEqual([
      'google/tiny-t5',
      'local/tiny-t5-v1_0',
      'local/mini-t5-pretrained',
    ]);

    const removed = await sprout(['model', 'remove', 'local/tiny-t5-v1_0']);
    expect(JSON.parse(removed.stdout)).toEqual({ removed: 'local/tiny-t5-v1_0', path: fixture('tiny-t5-v1_0') });
    expect(existsSync(join(fixture('tiny-t5-v1_0'), 'config.json'))).toBe(true);
    const again = await sprout(['model', 'remove', 'local/tiny-t5-v1_0']);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe('sprout: No model "local/tiny-t5-v1_0" in the library. See `sprout model list` for the ids.\n');
  });

  it('a download in a log (no terminal) shows the weights coming in, resumes after a silent connection, and refuses a bad timeout', async () => {
    server.repos.set('google/slow-t5', repoFromFolder(fixture('tiny-t5-v1_1'), MODEL_FILES, 'slow'));
    server.stallOnce('model.safetensors', 1_000_000);
    // The stall lasts the whole timeout (1 s), so the line a second that a log gets falls inside the weights' transfer.
    const download = await sprout(['model', 'download', 'google/slow-t5'], { HF_HUB_DOWNLOAD_TIMEOUT: '1' });
    expect(download.code).toBe(0);
    const weightsLines = download.stderr.split('\n').filter((l) => l.startsWith('model.safetensors: '));
    const partial = weightsLines.filter((l) => !/^model\.safetensors: (\S+)\/\1 MB/.test(l));
    expect(partial.length).toBeGreaterThan(0);
    expect(weightsLines.at(-1)).toMatch(/^model\.safetensors: 17\.2\/17\.2 MB \(all files /);
    expect(download.stderr).not.toContain('\r');

    const bad = await sprout(['model', 'download', 'google/other-t5'], { HF_HUB_DOWNLOAD_TIMEOUT: 'soon' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('sprout: HF_HUB_DOWNLOAD_TIMEOUT is "soon", which is not a number of seconds.');
  });

  it('clear errors: a damaged blob, a folder that is no model, an unknown repo', async () => {
    const notModel = await sprout(['model', 'import', tempDir()]);
    expect(notModel.code).toBe(2);
    expect(notModel.stderr).toContain('The folder has no config.json, so it is not a Hugging Face model folder.');
    // A named pipe for a config would hold the reader (in the app: the engine's one worker) until something wrote to it.
    const piped = tempDir();
    execFileSync('mkfifo', [join(piped, 'config.json')]);
    const pipe = await sprout(['model', 'import', piped]);
    expect(pipe.code).toBe(2);
    expect(pipe.stderr).toContain('The file is a named pipe (FIFO), not a file.');
    // Tokenizer files that are there but unreadable: refused by import (and verify), not by the first job.
    const badTokenizer = tempDir();
    for (const file of ['config.json', 'model.safetensors']) copyFileSync(join(fixture('tiny-t5-v1_1'), file), join(badTokenizer, file));
    for (const file of ['tokenizer.json', 'spiece.model']) writeFileSync(join(badTokenizer, file), 'garbage\n');
    const tokenizerRefused = await sprout(['model', 'import', badTokenizer]);
    expect([tokenizerRefused.code, tokenizerRefused.stderr]).toEqual([2, expect.stringContaining('tokenizer.json: is not valid JSON')]);
    const unknown = await sprout(['model', 'download', 'google/nothing-here']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('The Hub refused access to revision "main" of "google/nothing-here" (HTTP 401, RepoNotFound)');
    const revision = await sprout(['model', 'download', 'google/tiny-t5', '--revision', 'v2']);
    expect(revision.stderr).toContain('The Hub has no revision "v2" for "google/tiny-t5" (HTTP 404, RevisionNotFound).');
    expect(readFileSync(join(cache, 'models--google--tiny-t5', 'refs', 'main'), 'utf8')).toBe(commitOf('cli'));

    const spiece = join(cache, 'models--google--tiny-t5', 'snapshots', commitOf('cli'), 'spiece.model');
    const bytes = readFileSync(spiece);
    bytes[1000] ^= 1;
    writeFileSync(realpathSync(spiece), bytes);
    const damaged = await sprout(['model', 'verify', 'google/tiny-t5']);
    expect(damaged.code).toBe(2);
    expect(damaged.stderr).toContain('"spiece.model" is damaged: its sha256 differs from the Hub\'s.');
    bytes[1000] ^= 1;
    writeFileSync(realpathSync(spiece), bytes);
    // A small file edited by hand: its git object id no longer matches.
    const tokenizer = realpathSync(join(cache, 'models--google--tiny-t5', 'snapshots', commitOf('cli'), 'tokenizer.json'));
    writeFileSync(tokenizer, readFileSync(tokenizer, 'utf8').replace('"▁"', '"▁ "'));
    const edited = await sprout(['model', 'verify', 'google/tiny-t5']);
    expect([edited.code, edited.stderr]).toEqual([2, expect.stringContaining('"tokenizer.json" is damaged: its git object id differs')]);
  });

  it('generate: a scaled-down flan-t5-xl as sharded bfloat16 .bin, which import converts and registers', async () => {
    const dir = join(tempDir(), 'flan');
    const generated = await sprout([
      'model',
      'generate',
      'flan-t5-xl',
      '--out',
      dir,
      '--dtype',
      'bfloat16',
      '--format',
      'bin',
      '--shard-size',
      '3MB',
      '--layers',
      '2',
      '--d-model',
      '32',
      '--d-ff',
      '48',
      '--heads',
      '2',
      '--tokenizer',
      fixture('tiny-t5-v1_1'),
    ]);
    expect(generated.code).toBe(0);
    const out = JSON.parse(generated.stdout);
    expect(out).toMatchObject({ dir, family: 'google/flan-t5-xl', dtype: 'bfloat16', format: 'bin' });
    expect(out.files.at(-1)).toBe('pytorch_model.bin.index.json');
    expect(out.files[0]).toMatch(/^pytorch_model-00001-of-0000\d\.bin$/);
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    expect(config).toMatchObject({
      d_model: 32,
      d_ff: 48,
      num_heads: 2,
      num_layers: 2,
      num_decoder_layers: 2,
      torch_dtype: 'bfloat16',
      tie_word_embeddings: false,
    });

    const imported = await sprout(['model', 'import', dir]);
    expect(imported.code).toBe(0);
    expect(JSON.parse(imported.stdout).summary).toMatchObject({
      encoderLayers: 2,
      decoderLayers: 2,
      dModel: 32,
      dFf: 48,
      numHeads: 2,
      tiedEmbeddings: false,
    });

    const unknown = await sprout(['model', 'generate', 't5-xxxl', '--out', dir]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown family "t5-xxxl". Known: t5-small, t5-base');
    const badSize = await sprout(['model', 'generate', 't5-small', '--out', dir, '--shard-size', 'big']);
    expect(badSize.stderr).toContain('--shard-size must be a size such as 10GB, 500MB or 4096, not "big".');
  });
});
