/**
 * bench-results/learning.{json,md} are shared by the benchmarks of the `learning` group: each one owns a key of the
 * JSON (`tasks`, `transfer`) and a section of the markdown, and replaces only its own, so running one of them keeps
 * what the other wrote.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LEARNING_JSON = 'learning.json';
export const LEARNING_MD = 'learning.md';

function writeAtomic(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

/** The shared JSON as written so far; an unreadable file counts as empty rather than failing a long benchmark. */
export function readLearningResults(outDir: string): Record<string, unknown> {
  const file = join(outDir, LEARNING_JSON);
  if (!existsSync(file)) return {};
  try {
    const value = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Sets `key` of bench-results/learning.json (with the date it was measured) and keeps the other keys. */
export function mergeLearningResults(outDir: string, key: string, value: unknown): void {
  const all = readLearningResults(outDir);
  all[key] = value;
  all[`${key}_date`] = new Date().toISOString();
  writeAtomic(join(outDir, LEARNING_JSON), `${JSON.stringify(all, null, 2)}\n`);
}

const start = (key: string) => `<!-- ${key}: begin -->`;
const end = (key: string) => `<!-- ${key}: end -->`;

/** Replaces `key`'s section of bench-results/learning.md (between its markers), or appends it; other sections stay. */
export function mergeLearningMarkdown(outDir: string, key: string, markdown: string): void {
  const file = join(outDir, LEARNING_MD);
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '# Learning on mini-t5-instruct, measured\n';
  const section = `${start(key)}\n${markdown.trim()}\n${end(key)}`;
  const from = text.indexOf(start(key));
  const to = text.indexOf(end(key));
  const next =
    from >= 0 && to > from ? text.slice(0, from) + section + text.slice(to + end(key).length) : `${text.trimEnd()}\n\n${section}\n`;
  writeAtomic(file, next.endsWith('\n') ? next : `${next}\n`);
}
