import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportLibraryArchive, importLibraryArchive } from '../../main/export/library-archive.js';
import { insertDataset, rowInserter } from '../../main/library/datasets.js';
import { saveModel } from '../../main/library/models.js';
import { listPrompts, promptLineage, requirePrompt } from '../../main/library/prompts.js';
import { createRun, recordRunMetric, runMetrics } from '../../main/library/runs.js';
import { findOrInsertTask, getTask } from '../../main/library/tasks.js';
import { extractTar } from '../../main/library/tar.js';
import { tempDir } from '../checkpoint/helpers.js';
import { addPrompt, freshLibrary, TINY_SUMMARY } from './helpers.js';
import { openLibrary } from '../../main/library/db.js';

/** One ustar header block written by hand, so that hostile archives can be built without Sprout's writer. */
function tarEntry(name: string, content: string, type = '0', linkname = ''): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write(`${Buffer.byteLength(content).toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write(type, 156);
  h.write(linkname, 157, 100);
  h.write('ustar\0' + '00', 257);
  const sum = h.reduce((s, b) => s + b, 0);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(content) / 512) * 512);
  data.write(content);
  return Buffer.concat([h, data]);
}

describe('library archive', () => {
  it('exports a tar any tar tool reads and imports it into another library, remapping ids; importing twice adds nothing', async () => {
    const { db: a, dir } = freshLibrary();
    saveModel(a, {
      id: 'google/tiny-t5',
      repo: 'google/tiny-t5',
      revision: 'main',
      sha: null,
      path: '/models/tiny',
      summary: TINY_SUMMARY,
    });
    const datasetId = insertDataset(a, {
      name: 'cola',
      source: { name: 'cola.tsv', size: 10, sha256: 'ab'.repeat(32) },
      validation: null,
      format: 'tsv',
      options: {},
      columnMapping: { columns: ['sentence', 'label'], textColumns: ['sentence'], labelColumn: 'label' },
      labelColumn: 'label',
      textColumns: ['sentence'],
      template: '{sentence}',
    });
    rowInserter(a, datasetId)('train', 0, 2, JSON.stringify({ sentence: 'It works.' }), '1');
    const task = findOrInsertTask(a, {
      name: 'cola',
      datasetId,
      template: '{sentence}',
      verbalizer: { '1': 'acceptable' },
      labelSet: ['1'],
    });
    const run = createRun(a, { taskId: task.id, config: { steps: 5 } });
    recordRunMetric(a, run.id, { step: 5, loss: 0.5, eval: { accuracy: 1 } });
    const root = addPrompt(a, 1, { taskId: task.id, runId: run.id, tags: ['glue'], name: 'root / “quoted”' });
    const child = addPrompt(a, 2, { parentId: root, init: `prompt:${root}` });
    const mix = addPrompt(a, 3, { parentId: child, init: `mix:${child}=0.5,${root}=0.5` });

    const file = join(dir, 'all.tar');
    const manifest = await exportLibraryArchive(a, file);
    expect(manifest.prompts.map((p) => p.id)).toEqual([root, child, mix]);
    const listed = execFileSync('tar', ['tf', file], { encoding: 'utf8' }).trim().split('\n');
    expect(listed).toEqual([
      'sprout-library.json',
      'library.sqlite',
      ...manifest.prompts.flatMap((p) => [`${p.folder}/adapter_config.json`, `${p.folder}/adapter_model.safetensors`]),
    ]);
    const unpacked = tempDir();
    execFileSync('tar', ['xf', file, '-C', unpacked]);
    const weights = readFileSync(join(unpacked, manifest.prompts[0].folder, 'adapter_model.safetensors'));
    expect(weights.subarray(weights.length - 48).equals(Buffer.from(requirePrompt(a, root).embedding.buffer))).toBe(true);
    await expect(exportLibraryArchive(a, file)).rejects.toThrow('The archive file already exists');

    const { db: b } = freshLibrary();
    const existing = addPrompt(b, 9);
    expect(importLibraryArchive(b, file)).toEqual({ models: 1, datasets: 1, tasks: 1, runs: 1, prompts: 3, promptsPresent: 0 });
    const imported = listPrompts(b).filter((p) => p.id !== existing);
    expect(imported.map((p) => p.name)).toEqual(['root / “quoted”', 'prompt 2', 'prompt 3']);
    const [r, c, m] = imported.map((p) => p.id);
    expect(promptLineage(b, m).map((p) => p.id)).toEqual([m, c, r]);
    expect(requirePrompt(b, c).init).toBe(`prompt:${r}`);
    expect(requirePrompt(b, m).init).toBe(`mix:${c}=0.5,${r}=0.5`);
    expect(requirePrompt(b, r).tags).toEqual(['glue']);
    expect([...requirePrompt(b, m).embedding]).toEqual([...requirePrompt(a, mix).embedding]);
    const importedTask = getTask(b, requirePrompt(b, r).taskId!)!;
    expect(importedTask.uid).toBe(task.uid);
    expect(b.prepare('SELECT texts, label FROM dataset_rows WHERE dataset_id = ?').all(importedTask.datasetId)).toEqual([
      { texts: JSON.stringify({ sentence: 'It works.' }), label: '1' },
    ]);
    expect(runMetrics(b, requirePrompt(b, r).runId!)).toEqual([{ step: 5, loss: 0.5, eval: { accuracy: 1 } }]);

    expect(importLibraryArchive(b, file)).toEqual({ models: 0, datasets: 0, tasks: 0, runs: 0, prompts: 0, promptsPresent: 3 });
    expect(listPrompts(b)).toHaveLength(4);
  });

  it("refuses an entry whose bytes differ from the manifest's sha256 (Python's hashlib agrees with it), importing nothing", async () => {
    const { db: a, dir } = freshLibrary();
    addPrompt(a, 1, { name: 'kept' });
    const file = join(dir, 'all.tar');
    const manifest = await exportLibraryArchive(a, file);
    const python = (script: string, ...args: string[]) => execFileSync('python3', ['-c', script, file, ...args], { encoding: 'utf8' });
    const hashed = JSON.parse(
      python(`import hashlib, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    print(json.dumps({m.name: hashlib.sha256(t.extractfile(m).read()).hexdigest() for m in t if m.name != 'sprout-library.json'}))`),
    ) as Record<string, string>;
    expect(manifest.sha256).toEqual(hashed);
    const weights = `${manifest.prompts[0].folder}/adapter_model.safetensors`;
    const at = Number(python('import sys, tarfile\nprint(tarfile.open(sys.argv[1]).getmember(sys.argv[2]).offset_data)', weights));
    const damaged = readFileSync(file);
    damaged[at + 100] ^= 0x01;
    writeFileSync(join(dir, 'damaged.tar'), damaged);
    const { db: b } = freshLibrary();
    expect(() => importLibraryArchive(b, join(dir, 'damaged.tar'))).toThrow(
      `The archive is damaged: its ${weights} does not match the checksum its manifest recorded. Nothing was imported.`,
    );
    expect(listPrompts(b)).toEqual([]);
    // An archive from before the checksums (its manifest rewritten without them, by Python's tarfile) imports as before.
    const older = join(dir, 'older.tar');
    python(
      `import io, json, sys, tarfile
with tarfile.open(sys.argv[1]) as t, tarfile.open(sys.argv[2], 'w', format=tarfile.USTAR_FORMAT) as out:
    for m in t:
        data = t.extractfile(m).read()
        if m.name == 'sprout-library.json':
            manifest = json.loads(data)
            del manifest['sha256']
            data = json.dumps(manifest).encode()
            m.size = len(data)
        out.addfile(m, io.BytesIO(data))`,
      older,
    );
    expect(importLibraryArchive(b, older)).toMatchObject({ prompts: 1 });
  });

  it('never writes an entry outside the folder it unpacks into', () => {
    const hostile: [string, Buffer][] = [
      ['parent', tarEntry('../evil.txt', 'x')],
      ['nested parent', tarEntry('ok/../../evil.txt', 'x')],
      ['absolute', tarEntry('/tmp/sprout-evil.txt', 'x')],
      ['backslash', tarEntry('..\\evil.txt', 'x')],
      ['symlink', tarEntry('link', '', '2', '/etc')],
      ['hard link', tarEntry('link', '', '1', '../evil.txt')],
    ];
    for (const [what, entry] of hostile) {
      const parent = tempDir();
      const target = join(parent, 'unpack');
      mkdirSync(target);
      const file = join(parent, `${what}.tar`);
      writeFileSync(file, Buffer.concat([tarEntry('fine.txt', 'fine'), entry, Buffer.alloc(1024)]));
      expect(() => extractTar(file, target), what).toThrow(/would be written outside|link or special file/);
      expect(readdirSync(parent).sort(), what).toEqual([`${what}.tar`, 'unpack']);
      expect(existsSync('/tmp/sprout-evil.txt')).toBe(false);
    }
    const parent = tempDir();
    const file = join(parent, 'damaged.tar');
    const good = tarEntry('fine.txt', 'fine');
    good[0] = 'g'.charCodeAt(0);
    writeFileSync(file, Buffer.concat([good, Buffer.alloc(1024)]));
    expect(() => extractTar(file, parent)).toThrow('wrong checksum');
  });

  it('calls a file that is no tar at all (a CSV chosen by mistake, a short file) just that, not a damaged header', () => {
    // AG News' CSV as published: read as a tar header, its text was "a header field holds "firm Fe", not an octal number".
    for (const file of [
      resolve(__dirname, '../../../shared/data/ag_news/test.csv'),
      resolve(__dirname, '../../../shared/data/ag_news/classes.txt'),
    ]) {
      const b = openLibrary(join(tempDir(), 'library.sqlite'));
      try {
        expect(() => importLibraryArchive(b, file)).toThrow('This file is not a Sprout library archive: it is not even a tar file.');
      } finally {
        b.close();
      }
    }
  });
});
