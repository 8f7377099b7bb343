/**
 * The engine's layers, in the order data flows through them: a module may import from its own layer and the layers
 * before it, never from a later one, and no module may reach itself through its imports. This list is the one
 * place the order is declared (README's "Layers" points here).
 *
 * Where the flow is not a straight line the order says which way the code depends: a checkpoint reader is more basic
 * than the hub that downloads a checkpoint and checks it with that reader, so checkpoint comes before hub; a run is
 * recorded in the library through an interface training owns (main/train/run-ledger.ts); exporting the whole
 * library as an archive is export's. The engine worker and the IPC host are one layer (the host runs jobs on its
 * worker, the worker reports errors in the contract's shape), and the programs built on everything come last.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../train/fixtures.js';

const LAYERS: readonly (readonly string[])[] = [
  [
    'errors',
    'paths',
    'random',
    'choices',
    'run-limits',
    'wording',
    'disk-full',
    'writer-lock',
    'output-path',
    'file-hash',
    'process-alive',
    'temp-path',
    'same-file',
    'file-kind',
  ],
  ['checkpoint'],
  ['tokenizer'],
  ['hub'],
  ['weights'],
  ['graph'],
  ['runtime'],
  ['data'],
  ['train'],
  ['library'],
  ['transfer'],
  ['label'],
  ['export'],
  ['worker', 'ipc', 'preload'],
  ['cli', 'electron', 'bench', 'bin'],
];

type Graph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(path) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every module's relative imports (type-only and re-exports included), as repository paths. */
function importGraph(root: string, folders: string[]): Graph {
  const graph: Graph = new Map();
  for (const file of folders.flatMap((f) => sourceFiles(join(root, f)))) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = importedFiles
      .map((i) => i.fileName)
      .filter((s) => s.startsWith('.'))
      .map((s) => relative(root, resolve(dirname(file), s.replace(/\.js$/, '.ts'))));
    graph.set(relative(root, file), targets);
  }
  return graph;
}

/** main/train/run.ts → train; main/errors.ts → errors; preload/contract.ts → preload. */
function layerName(path: string): string {
  const parts = path.split('/');
  return parts[0] === 'main' ? parts[1].replace(/\.ts$/, '') : parts[0];
}

function layerIndex(path: string): number {
  const name = layerName(path);
  const i = LAYERS.findIndex((l) => l.includes(name));
  if (i < 0) throw new Error(`${path}: "${name}" is in no layer; add it to LAYERS`);
  return i;
}

/** Imports from a later layer, as "importer → imported". */
export function backwardImports(graph: Graph): string[] {
  return [...graph].flatMap(([from, targets]) =>
    targets.filter((to) => graph.has(to) && layerIndex(to) > layerIndex(from)).map((to) => `${from} → ${to}`),
  );
}

/** The import circles: each strongly connected set of two or more modules, or one that imports itself (Tarjan). */
export function importCircles(graph: Graph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string) => {
    index.set(v, index.size);
    low.set(v, index.get(v)!);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const set: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      set.push(w);
    } while (w !== v);
    if (set.length > 1 || graph.get(v)!.includes(v)) circles.push(set.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return circles;
}

describe('the layers', () => {
  const graph = importGraph(repoRoot, ['main', 'preload']);

  it('every import points to the same or an earlier layer', () => {
    expect(backwardImports(graph)).toEqual([]);
  });

  it('no module reaches itself through its imports', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it('the checks catch what they are for', () => {
    // The real graph is read: the trainer's own imports are in it.
    expect(graph.get('main/train/run.ts')).toEqual(
      expect.arrayContaining(['main/train/trainer.ts', 'main/runtime/model.ts', 'main/train/config.ts']),
    );
    const made: Graph = new Map([
      ['main/train/a.ts', ['main/library/b.ts']],
      ['main/library/b.ts', ['main/library/c.ts']],
      ['main/library/c.ts', ['main/library/b.ts']],
    ]);
    expect(backwardImports(made)).toEqual(['main/train/a.ts → main/library/b.ts']);
    expect(importCircles(made)).toEqual([['main/library/b.ts', 'main/library/c.ts']]);
  });
});
