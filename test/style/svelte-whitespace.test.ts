/**
 * Svelte drops the whitespace at the start and end of an element's or a block's content, so a separator written as
 * `<span> · {reason}</span>` or `label{#if n}⏎ (lines …){/if}` renders glued to what precedes it ("weights· no GPU",
 * "label(lines 3)"). This finds such text in every component, with the parser Svelte itself uses.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'svelte/compiler';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../train/fixtures.js';

/** Elements that flow inside a line, where a lost leading space shows. */
const INLINE = new Set(['a', 'abbr', 'b', 'code', 'em', 'i', 'kbd', 'label', 'mark', 'output', 'small', 'span', 'strong', 'sub', 'sup']);

interface SvelteNode {
  type: string;
  start: number;
  name?: string;
  data?: string;
  [key: string]: unknown;
}
type Fragment = { nodes: SvelteNode[] };

function components(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? components(path) : e.name.endsWith('.svelte') ? [path] : [];
  });
}

/** The fragments a node holds: an element's content, a block's branches. */
function fragmentsOf(node: SvelteNode): Fragment[] {
  return ['fragment', 'consequent', 'alternate', 'body', 'fallback', 'pending', 'then', 'catch']
    .map((key) => node[key] as Fragment | null | undefined)
    .filter((f): f is Fragment => !!f && Array.isArray(f.nodes));
}

const isBlock = (node: SvelteNode) => node.type.endsWith('Block');

/** Whether text or a value ends right before `node`, with no space between them. */
function gluedBefore(previous: SvelteNode | undefined): boolean {
  return previous?.type === 'ExpressionTag' || (previous?.type === 'Text' && /\S$/.test(previous.data!));
}

/** The offsets of content whose leading space Svelte drops although the text shows one was meant. */
export function lostSpaces(source: string): number[] {
  const found: number[] = [];
  const visit = (node: SvelteNode, previous: SvelteNode | undefined) => {
    for (const fragment of fragmentsOf(node)) {
      const [first] = fragment.nodes;
      if (first?.type === 'Text') {
        const spaceOnLine = /^[ \t]+\S/.test(first.data!) && (isBlock(node) || INLINE.has(node.name ?? ''));
        const onNextLine = isBlock(node) && /^\s*\n/.test(first.data!) && gluedBefore(previous);
        if (spaceOnLine || onNextLine) found.push(first.start);
      }
      fragment.nodes.forEach((child, i) => visit(child, fragment.nodes[i - 1]));
    }
  };
  const root = parse(source, { modern: true }).fragment as unknown as Fragment;
  root.nodes.forEach((node, i) => visit(node, root.nodes[i - 1]));
  return found;
}

describe('Svelte whitespace', () => {
  it('finds the forms that lose their space, and not the ones that keep it', () => {
    expect(lostSpaces('<p>a<span> · b</span></p>')).toHaveLength(1);
    expect(lostSpaces('<p>a{#if x} · b{/if}</p>')).toHaveLength(1);
    expect(lostSpaces('<p>a label{#if x}\n  (lines 3){/if}</p>')).toHaveLength(1);
    expect(lostSpaces('<p>above{#if x}\n  <span class="badge">b</span>{/if}</p>')).toHaveLength(1);
    expect(lostSpaces('<p>a<span>{` · b`}</span> c {#if x}(d){/if} row{#if n}s{/if}</p><td> e</td>')).toEqual([]);
  });

  it('no component writes a separator that Svelte drops', () => {
    const root = join(repoRoot, 'renderer');
    const offenders = components(root).flatMap((file) => {
      const source = readFileSync(file, 'utf8');
      return lostSpaces(source).map((at) => `${relative(repoRoot, file)}:${source.slice(0, at).split('\n').length}`);
    });
    expect(offenders).toEqual([]);
  });
});
