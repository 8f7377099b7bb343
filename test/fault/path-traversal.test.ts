/**
 * Names that become paths cannot lead outside their folders: Hub model ids and revisions (the HF cache), shard
 * names in a mirror's index, run and labelling job ids, dataset names, and the paths the app's contract accepts for
 * exports, label outputs and imports. (Archive entries: test/library/archive.test.ts.)
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { downloadModel } from '../../main/hub/download.js';
import type { HandlerContext } from '../../main/ipc/context.js';
import { createDispatch } from '../../main/ipc/dispatch.js';
import { handlers } from '../../main/ipc/handlers.js';
import { releaseState } from '../../main/ipc/handlers/state.js';
import { libraryPath, openLibrary } from '../../main/library/db.js';
import { insertPrompt } from '../../main/library/prompts.js';
import { inLibrary } from '../../main/library/run-records.js';
import { getJob } from '../../main/label/jobs.js';
import { runTraining } from '../../main/train/run.js';
import { EngineWorker } from '../../main/worker/client.js';
import { fixture } from '../checkpoint/helpers.js';
import { dataFile } from '../data/helpers.js';
import { HubServer, repoFromFolder } from '../hub/hub-server.js';
import { sprout } from './spawn.js';

/** Every file and folder under `dir`, relative to it. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

describe('names that become paths', () => {
  it('sprout model download refuses traversing model ids and revisions before touching the cache', async () => {
    const base = mkdtempSync(join(tmpdir(), 'sprout-traversal-'));
    const hf = join(base, 'hf');
    const env = { HF_HOME: hf, HF_ENDPOINT: 'http://127.0.0.1:9', HF_HUB_OFFLINE: '1' };
    // Every name through the download the CLI runs (the settings those variables give), one of each through the CLI
    // itself: a process start is most of a spawn's work, and ten of them made this test slow on a busy machine.
    const settings = { endpoint: env.HF_ENDPOINT, cacheDir: join(hf, 'hub'), offline: true };
    for (const repo of ['../../x', 'a/../../x', '..', '/etc/passwd', 'a/b/c', 'a\\..\\x']) {
      await expect(downloadModel(repo, { settings }), repo).rejects.toMatchObject({ code: 'bad-repo-id' });
    }
    for (const revision of ['../../x', 'a/../../x', '..', 'refs/../..']) {
      await expect(downloadModel('acme/tiny', { revision, settings }), revision).rejects.toMatchObject({ code: 'bad-revision' });
    }
    const byId = await sprout(['model', 'download', 'a/../../x'], join(base, 'home'), undefined, env);
    expect(byId.code, byId.stderr).toBe(2);
    expect(byId.stderr).toContain(`is not a Hugging Face model id`);
    const byRevision = await sprout(['model', 'download', 'acme/tiny', '--revision', 'refs/../..'], join(base, 'home'), undefined, env);
    expect(byRevision.code, byRevision.stderr).toBe(2);
    expect(byRevision.stderr).toContain('is not a valid revision');
    expect(existsSync(hf) ? tree(hf).filter((f) => !f.startsWith('hub')) : []).toEqual([]);
    expect(readdirSync(base).filter((f) => f !== 'hf' && f !== 'home')).toEqual([]);
  });

  it('a mirror whose index names a traversing shard is refused before anything is fetched for it', async () => {
    const server = await new HubServer().start();
    try {
      const v11 = fixture('tiny-t5-v1_1');
      const evil = '../../../../evil.safetensors';
      const index = Buffer.from(JSON.stringify({ weight_map: { 'shared.weight': evil } }));
      server.repos.set(
        'acme/evil',
        repoFromFolder(v11, ['config.json', 'spiece.model'], 'evil', {
          'model.safetensors.index.json': index,
          [evil]: readFileSync(join(v11, 'model.safetensors')),
        }),
      );
      const base = mkdtempSync(join(tmpdir(), 'sprout-traversal-'));
      const cacheDir = join(base, 'a', 'b', 'c', 'cache');
      const error = await downloadModel('acme/evil', { settings: { endpoint: server.endpoint, cacheDir, offline: false } }).catch(
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'hub-bad-index' });
      expect(server.fileRequests().filter((r) => r.includes('evil.safetensors'))).toEqual([]);
      expect(tree(base).filter((f) => f.includes('evil.safetensors'))).toEqual([]);
    } finally {
      await server.stop();
    }
  });

  it('run and labelling job ids cannot name a folder outside the data folder', async () => {
    // Two levels below a folder of the test's own, where "../../x" from runs/ would land (not the shared /tmp).
    const base = mkdtempSync(join(tmpdir(), 'sprout-traversal-'));
    const home = join(base, 'home');
    const ids = ['../../x', '..', '/tmp', '1/../2'];
    // Every id through the resume the CLI runs, one through the CLI itself (a process start each).
    for (const id of ids) {
      await expect(runTraining({ resume: id }, inLibrary(home)), id).rejects.toMatchObject({
        code: expect.stringMatching(/^(bad-run-id|unknown-run)$/),
      });
    }
    const train = await sprout(['train', '--resume', ids[0]], home);
    expect(train.code, train.stderr).toBe(2);
    expect(train.stderr).toMatch(/There is no run|is not a run id/);
    const db = openLibrary(libraryPath(home));
    try {
      for (const id of ids) expect(getJob(db, id), id).toBeUndefined();
    } finally {
      db.close();
    }
    const label = await sprout(['label', '--resume', ids[0]], home);
    expect(label.code, label.stderr).toBe(2);
    expect(label.stderr).toContain(`There is no labelling job "${ids[0]}"`);
    expect(readdirSync(base)).toEqual(['home']);
  });

  it('a dataset name is only a name: importing as "../../x" writes nothing outside the library', async () => {
    // The data folder two levels below a folder of the test's own, where "../../x" from it would land.
    const base = mkdtempSync(join(tmpdir(), 'sprout-traversal-'));
    const home = join(base, 'a', 'data');
    const r = await sprout(
      ['data', 'import', dataFile('cb', 'val.jsonl'), '--name', '../../x', '--text-column', 'premise', '--label-column', 'label'],
      home,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!).name).toBe('../../x');
    expect(tree(base).filter((f) => !f.startsWith(join('a', 'data')))).toEqual(['a']);
    expect(tree(home).filter((f) => f.includes('x') && !f.startsWith('library.sqlite'))).toEqual([]);
  });
});

describe('paths the app sends over the contract', () => {
  const home = mkdtempSync(join(tmpdir(), 'sprout-traversal-home-'));
  const scratch = mkdtempSync(join(tmpdir(), 'sprout-traversal-files-'));
  const outside = `${scratch}/../${basename(scratch)}-outside`;
  const context: HandlerContext = {
    dataDir: home,
    emit: () => {},
    worker: new EngineWorker({ script: resolve(import.meta.dirname, '../../out/worker.js') }),
    shell: 'serve',
  };
  const dispatch = createDispatch(handlers, context);
  afterAll(async () => {
    await context.worker.close();
    releaseState(context);
    rmSync(home, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it('exports, label outputs and imports with "..", relative paths or into the data folder are refused; nothing is written', async () => {
    const db = openLibrary(libraryPath(home));
    const id = insertPrompt(db, {
      name: 'p',
      model: { id: 'm', path: null, summary: null },
      length: 2,
      dModel: 4,
      embedding: new Float32Array(8),
      init: 'vocab',
    });
    db.close();
    copyFileSync(dataFile('cb', 'val.jsonl'), join(scratch, 'in.jsonl'));
    writeFileSync(join(scratch, 'a-file'), 'not a folder');
    mkdirSync(join(scratch, 'sub'));
    const code = async (name: string, request: unknown) => {
      const envelope = await dispatch(name, request);
      return envelope.ok ? 'ok' : envelope.error.code;
    };
    for (const dir of [`${outside}-peft`, `${scratch}/sub/../../${basename(scratch)}-outside-peft`, 'relative-peft', join(home, 'peft')]) {
      expect(await code('library.exportPeft', { id, dir }), dir).toMatch(/^(bad-path|output-in-data-dir)$/);
    }
    expect(await code('library.exportPeft', { id, dir: join(scratch, 'a-file') })).toBe('not-a-folder');
    expect(readFileSync(join(scratch, 'a-file'), 'utf8')).toBe('not a folder');
    expect(await code('library.exportPeft', { id, dir: join(scratch, 'sub', 'peft') })).toBe('ok');
    for (const output of [`${outside}.csv`, 'relative.csv', join(home, 'labels.csv'), join(home, 'runs', 'x.csv')]) {
      expect(await code('label.start', { promptId: id, input: join(scratch, 'in.jsonl'), output }), output).toMatch(
        /^(bad-path|output-in-data-dir)$/,
      );
    }
    for (const file of [`${scratch}/sub/../in.jsonl`, 'in.jsonl']) {
      expect(await code('data.import', { file, textColumns: ['premise'], labelColumn: 'label' }), file).toBe('bad-path');
      expect(await code('data.preview', { file }), file).toBe('bad-path');
    }
    expect(readdirSync(tmpdir()).filter((f) => f.startsWith(`${basename(scratch)}-outside`))).toEqual([]);
    expect(tree(scratch)).toEqual([
      'a-file',
      'in.jsonl',
      'sub',
      join('sub', 'peft'),
      join('sub', 'peft', 'adapter_config.json'),
      join('sub', 'peft', 'adapter_model.safetensors'),
    ]);
  });
});
