/**
 * No function over LIMIT lines, so that a newcomer can read each one whole (the style asks for about 80; the
 * longest are listed by `npx vitest run test/style/function-length.test.ts` when this fails). A function's length
 * is its lines from signature to closing brace, nested functions included: a long function that hides a long
 * closure is still long to read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../train/fixtures.js';

const LIMIT = 100;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(path) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

function nameOf(node: ts.Node): string {
  const named = node as ts.Node & { name?: ts.Node };
  if (named.name) return named.name.getText();
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)))
    return parent.name.getText();
  return '(anonymous)';
}

/** Every function in the source, as "lines file:line name", longer than `limit` lines. */
export function longFunctions(file: string, text: string, limit: number): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && (node as ts.FunctionLikeDeclaration).body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const lines = source.getLineAndCharacterOfPosition(node.getEnd()).line - start + 1;
      if (lines > limit) found.push(`${lines} ${file}:${start + 1} ${nameOf(node)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('function length', () => {
  it(`no function in main/, preload/ or renderer/ is over ${LIMIT} lines`, () => {
    const files = ['main', 'preload', 'renderer'].flatMap((f) => sourceFiles(join(repoRoot, f)));
    const long = files.flatMap((f) => longFunctions(relative(repoRoot, f), readFileSync(f, 'utf8'), LIMIT));
    expect(long.sort((a, b) => parseInt(b) - parseInt(a))).toEqual([]);
  });

  it('measures nested functions inside their parent, arrow functions and methods too', () => {
    const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');
    const text = `function outer() {\n  const inner = () => {\n${body(5)}\n  };\n${body(3)}\n}\nclass C {\n  m() {\n${body(6)}\n  }\n}\n`;
    expect(longFunctions('x.ts', text, 7)).toEqual(['12 x.ts:1 outer', '8 x.ts:14 m']);
  });
});
