import fc from 'fast-check';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openCheckpoint } from '../../main/checkpoint/checkpoint.js';
import { restrictedUnpickle } from '../../main/checkpoint/pickle.js';
import { convertPytorchBin } from '../../main/checkpoint/pytorch-bin.js';
import { readSafetensorsHeader, readTensorF32, type TensorEntry } from '../../main/checkpoint/safetensors.js';
import { writeTorchSave } from '../../main/checkpoint/torch-save.js';
import { SproutError } from '../../main/errors.js';
import { convertedFolderFor } from '../../main/hub/inspect.js';
import { fixture, tempDir } from './helpers.js';
import { fixtureAsPytorchBin, statePickle, torchSave, zipStored, type SavedTensor } from './torch-save.js';

const source = readSafetensorsHeader(join(fixture('tiny-t5-v1_0'), 'model.safetensors'));
const bytes = (t: TensorEntry): Buffer => Buffer.from(readTensorF32(t).buffer);

describe('pytorch_model.bin conversion', () => {
  const bin = fixtureAsPytorchBin();

  it('converts to the same tensors, dropping tied duplicates', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pytorch_model.bin'), bin);
    const ignorable = new Set(['encoder.embed_tokens.weight', 'decoder.embed_tokens.weight', 'lm_head.weight']);
    expect(convertPytorchBin(join(dir, 'pytorch_model.bin'), join(dir, 'model.safetensors'), (n) => !ignorable.has(n))).toHaveLength(47);
    const converted = readSafetensorsHeader(join(dir, 'model.safetensors'));
    expect([...converted.keys()].sort()).toEqual([...source.keys()].sort());
    for (const [name, entry] of converted) {
      expect(entry.shape).toEqual(source.get(name)!.shape);
      expect(bytes(entry).equals(bytes(source.get(name)!)), name).toBe(true);
    }
  });

  it("zip64 records (as in archives over 4 GiB) are read by Python's zipfile and by Sprout alike", () => {
    const dir = tempDir();
    const file = join(dir, 'pytorch_model.bin');
    const values = new Float32Array([1.5, -2, 3.25, 0, 7, -0.125]);
    writeTorchSave(
      file,
      [
        { name: 'a', storage: '0', shape: [2, 3] },
        { name: 'b', storage: '0', offset: 3, shape: [3] },
      ],
      [{ key: '0', dtype: 'F32', numel: 6, elementBytes: 4, write: (sink) => sink(new Uint8Array(values.buffer)) }],
      { zip64: 'always' },
    );
    const python = `import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(" ".join(f"{i.filename}:{i.file_size}:{i.header_offset}" for i in z.infolist()))`;
    const listing = execFileSync('python3', ['-c', python, file], { encoding: 'utf8' }).trim().split(' ');
    expect(listing.map((l) => l.split(':').slice(0, 2).join(':'))).toEqual([
      'archive/data.pkl:' + listing[0].split(':')[1],
      'archive/byteorder:6',
      'archive/data/0:24',
      'archive/version:2',
    ]);
    expect(readFileSync(file).includes(Buffer.from([0x50, 0x4b, 0x06, 0x06]))).toBe(true);
    const out = join(dir, 'model.safetensors');
    expect(convertPytorchBin(file, out)).toEqual(['a', 'b']);
    const converted = readSafetensorsHeader(out);
    expect([...readTensorF32(converted.get('a')!)]).toEqual([...values]);
    expect([...readTensorF32(converted.get('b')!)]).toEqual([0, 7, -0.125]);
  });

  it('a folder with only pytorch_model.bin is converted once into the data folder and opens', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'pytorch_model.bin'), bin);
    for (const f of ['config.json', 'spiece.model', 'tokenizer.json']) copyFileSync(join(fixture('tiny-t5-v1_0'), f), join(dir, f));
    const root = tempDir();
    const out = convertedFolderFor(dir, root);
    expect(out.startsWith(root)).toBe(true);
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(false);
    expect(lstatSync(join(out, 'config.json')).isSymbolicLink()).toBe(true);
    const mtime = lstatSync(join(out, 'model.safetensors')).mtimeMs;
    expect(convertedFolderFor(dir, root)).toBe(out);
    expect(lstatSync(join(out, 'model.safetensors')).mtimeMs).toBe(mtime);
    const ckpt = await openCheckpoint(out, { castCacheDir: tempDir() });
    expect(ckpt.tensors.size).toBe(47);
    expect(bytes(ckpt.tensors.get('shared.weight')!).equals(bytes(source.get('shared.weight')!))).toBe(true);
  });

  it('refuses pickles that call anything else, naming it', () => {
    const cases: [Buffer, RegExp][] = [
      // GLOBAL os.system, then REDUCE with ('echo pwned',)
      [
        Buffer.concat([
          Buffer.from([0x80, 2, 0x63]),
          Buffer.from('os\nsystem\n'),
          Buffer.from([0x58, 10, 0, 0, 0]),
          Buffer.from('echo pwned'),
          Buffer.from([0x85, 0x52, 0x2e]),
        ]),
        /os\.system/,
      ],
      [Buffer.concat([Buffer.from([0x80, 2, 0x63]), Buffer.from('builtins\neval\n'), Buffer.from([0x2e])]), /builtins\.eval/],
      [
        Buffer.concat([Buffer.from([0x80, 2, 0x63]), Buffer.from('torch._utils\n_rebuild_parameter\n'), Buffer.from([0x2e])]),
        /torch\._utils\._rebuild_parameter/,
      ],
      // INST and NEWOBJ build arbitrary objects
      [Buffer.concat([Buffer.from([0x80, 2, 0x28, 0x69]), Buffer.from('subprocess\nPopen\n'), Buffer.from([0x2e])]), /opcode 0x69/],
      [Buffer.from([0x80, 2, 0x29, 0x29, 0x81, 0x2e]), /opcode 0x81/],
      // STACK_GLOBAL goes through the same allow-list
      [
        Buffer.concat([
          Buffer.from([0x80, 4, 0x8c, 2]),
          Buffer.from('os'),
          Buffer.from([0x8c, 6]),
          Buffer.from('system'),
          Buffer.from([0x93, 0x2e]),
        ]),
        /os\.system/,
      ],
      // OrderedDict called with arguments, BUILD on a tensor-less object
      [
        Buffer.concat([Buffer.from([0x80, 2, 0x63]), Buffer.from('collections\nOrderedDict\n'), Buffer.from([0x5d, 0x85, 0x52, 0x2e])]),
        /in a way a state dict never does/,
      ],
    ];
    for (const [pickle, message] of cases) {
      let error: unknown;
      try {
        restrictedUnpickle(pickle, 'data.pkl');
      } catch (e) {
        error = e;
      }
      expect(error, String(message)).toBeInstanceOf(SproutError);
      expect((error as SproutError).code).toBe('unsafe-pickle');
      expect((error as Error).message).toMatch(message);
    }
    const dir = tempDir();
    writeFileSync(
      join(dir, 'evil.bin'),
      zipStored([
        ['archive/data.pkl', cases[0][0]],
        ['archive/version', Buffer.from('3\n')],
      ]),
    );
    expect(() => convertPytorchBin(join(dir, 'evil.bin'), join(dir, 'out.safetensors'))).toThrow(/refusing to load it/);
    expect(existsSync(join(dir, 'out.safetensors'))).toBe(false);
  });

  it('rejects storages that are missing or too short, and tensors reaching past them', () => {
    const dir = tempDir();
    const storages = new Map([['0', Buffer.alloc(16)]]);
    const write = (tensors: SavedTensor[], s = storages): string => {
      const file = join(dir, 'x.bin');
      writeFileSync(file, torchSave(tensors, s));
      return file;
    };
    expect(() => convertPytorchBin(write([{ name: 'a', storage: '0', offset: 2, shape: [3] }]), join(dir, 'o'))).toThrow(
      /reaches past the end of its storage/,
    );
    const lying = torchSave([{ name: 'a', storage: '0', shape: [4] }], storages)
      .toString('latin1')
      .replaceAll('archive/data/0', 'archive/data/9');
    writeFileSync(join(dir, 'y.bin'), Buffer.from(lying, 'latin1'));
    expect(() => convertPytorchBin(join(dir, 'y.bin'), join(dir, 'o'))).toThrow(/storage of tensor "a" is missing/);
    writeFileSync(join(dir, 'legacy.bin'), Buffer.from([0x80, 2, 0x8a, 0x0a]));
    expect(() => convertPytorchBin(join(dir, 'legacy.bin'), join(dir, 'o'))).toThrow(/legacy \(pre-1\.6\) PyTorch format/);
  });

  it.each([
    ['a storage one tensor covers', 'archive/data/3'],
    ['a storage the layer norms share, at different offsets', 'archive/data/norms'],
  ])("a flipped byte in %s is refused by its checksum, naming the member Python's zipfile finds bad", (_, member) => {
    const dir = tempDir();
    const damaged = Buffer.from(bin);
    damaged[damaged.indexOf(Buffer.from(member)) + member.length + 100] ^= 0x10;
    writeFileSync(join(dir, 'pytorch_model.bin'), damaged);
    const python = 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).testzip())';
    expect(execFileSync('python3', ['-c', python, join(dir, 'pytorch_model.bin')], { encoding: 'utf8' }).trim()).toBe(member);
    expect(() => convertPytorchBin(join(dir, 'pytorch_model.bin'), join(dir, 'model.safetensors'))).toThrow(
      `Zip member "${member}" is damaged: its checksum does not match.`,
    );
    expect(existsSync(join(dir, 'model.safetensors'))).toBe(false);
  });

  it('fuzzed pickles (seeded byte mutations of a real state-dict pickle) end in a result or a SproutError', () => {
    const pickle = statePickle(
      [
        { name: 'a.weight', storage: '0', shape: [2, 3] },
        { name: 'b', storage: '1', offset: 1, shape: [2], stride: [2] },
      ],
      new Map([
        ['0', 6],
        ['1', 5],
      ]),
    );
    expect(restrictedUnpickle(pickle, 'p')).toBeInstanceOf(Map);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.nat(), { nil: undefined }),
        (flips, cut) => {
          const mutated = Buffer.from(pickle);
          for (const [at, value] of flips) mutated[at % mutated.length] = value;
          try {
            restrictedUnpickle(cut === undefined ? mutated : mutated.subarray(0, cut % mutated.length), 'p');
          } catch (error) {
            expect(error).toBeInstanceOf(SproutError);
          }
        },
      ),
      { seed: 1234, numRuns: 3000 },
    );
  });

  describe('hostile shapes and leftovers', () => {
    const config = join(fixture('tiny-t5-v1_0'), 'config.json');
    /** The v1_0 fixture as a torch.save, each tensor in its own storage named after it; `change` edits one tensor's entry. */
    function folderWith(change: (t: SavedTensor) => SavedTensor = (t) => t): string {
      const tensors: SavedTensor[] = [];
      const storages = new Map<string, Buffer>();
      for (const t of source.values()) {
        const key = t.name.replace(/\W/g, '_');
        storages.set(key, bytes(t));
        tensors.push(change({ name: t.name, storage: key, shape: t.shape }));
      }
      const dir = tempDir();
      writeFileSync(join(dir, 'pytorch_model.bin'), torchSave(tensors, storages));
      copyFileSync(config, join(dir, 'config.json'));
      return dir;
    }
    const refusal = (run: () => unknown): SproutError => {
      try {
        run();
      } catch (error) {
        if (error instanceof SproutError) return error;
        throw error;
      }
      throw new Error('no error');
    };

    it('a stride-0 tensor of shape [1e6, 1e5] over a one-value storage is refused by name before anything is allocated', () => {
      const dir = tempDir();
      const file = join(dir, 'pytorch_model.bin');
      writeFileSync(
        file,
        torchSave(
          [{ name: 'shared.weight', storage: '0', shape: [1_000_000, 100_000], stride: [0, 0] }],
          new Map([['0', Buffer.alloc(4)]]),
        ),
      );
      const error = refusal(() => convertPytorchBin(file, join(dir, 'out.safetensors')));
      expect(error.code).toBe('bad-pytorch-checkpoint');
      expect(error.message).toContain(
        'Tensor "shared.weight" has shape [1000000, 100000], 100000000000 values, but its storage holds only 1',
      );
      expect(readdirSync(dir)).toEqual(['pytorch_model.bin']);
    });

    it('a tensor whose shape config.json does not imply is refused before a byte is converted, and leaves nothing behind', () => {
      // Same values, another shape: [vocab, d] stored as [d, vocab] fits its storage but not the model.
      const dir = folderWith((t) => (t.name === 'shared.weight' ? { ...t, shape: [t.shape[1], t.shape[0]] } : t));
      const root = tempDir();
      const error = refusal(() => convertedFolderFor(dir, root));
      expect(error.code).toBe('checkpoint-mismatch');
      expect(error.message).toContain('shared.weight is [64, 32128] but config.json implies [32128, 64]');
      expect(readdirSync(root)).toEqual([]);
    });

    it('a conversion that fails halfway removes its staging files and the folder it created', () => {
      // shared.weight (written last, in name order) claims deflate compression its bytes are not.
      const dir = folderWith();
      const file = join(dir, 'pytorch_model.bin');
      const zip = readFileSync(file);
      const member = Buffer.from('archive/data/shared_weight');
      for (let at = zip.indexOf(member); at >= 0; at = zip.indexOf(member, at + 1)) {
        if (zip.readUInt32LE(at - 30) === 0x04034b50) zip.writeUInt16LE(8, at - 30 + 8);
        if (zip.readUInt32LE(at - 46) === 0x02014b50) zip.writeUInt16LE(8, at - 46 + 10);
      }
      writeFileSync(file, zip);
      const root = tempDir();
      expect(refusal(() => convertedFolderFor(dir, root)).message).toMatch(/Zip member "archive\/data\/shared_weight"/);
      expect(readdirSync(root)).toEqual([]);
    });

    it('the staging folder a killed conversion left behind is removed by the next one', () => {
      const dir = folderWith();
      const root = tempDir();
      const out = convertedFolderFor(dir, root);
      rmSync(join(out, 'model.safetensors'));
      const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
      const abandoned = join(out, `.partial-${dead}-abc123`);
      mkdirSync(abandoned);
      writeFileSync(join(abandoned, '.model.safetensors.123.456.tmp'), 'half a file');
      expect(convertedFolderFor(dir, root)).toBe(out);
      expect(readdirSync(out).sort()).toEqual(['config.json', 'model.safetensors']);
    });
  });
});
