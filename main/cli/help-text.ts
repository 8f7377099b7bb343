/**
 * Usage texts as printed: lines past the width wrapped at word boundaries. The texts are written to 120 columns, but
 * the flag lists in them are generated from the declared choices (main/cli/flags.ts), so a line grows whenever a
 * choice is added; wrapping here keeps every `--help` readable without re-flowing each text by hand.
 */

export const HELP_WIDTH = 120;

/**
 * Each line longer than `width` broken at spaces outside `[…]` groups, continuing at its own indent. What a break
 * pushes out of a line runs on into the next line where that line continues the same paragraph (same indent, not a
 * new `--option`), as a person re-flowing the text would, rather than standing alone as a one-word line.
 */
export function wrapHelp(text: string, width = HELP_WIDTH): string {
  const source = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < source.length; i++) {
    const pieces = wrapLine(source[i], width);
    const rest = pieces[pieces.length - 1];
    const indent = leadingSpaces(rest);
    const next = source[i + 1];
    if (pieces.length > 1 && next !== undefined && continuesParagraph(next, indent)) {
      out.push(...pieces.slice(0, -1));
      source[i + 1] = `${rest} ${next.trimStart()}`;
    } else out.push(...pieces);
  }
  return out.join('\n');
}

const leadingSpaces = (line: string): number => /^ */.exec(line)![0].length;

/** Whether `line` goes on with the text of a paragraph whose lines start at `indent`. */
function continuesParagraph(line: string, indent: number): boolean {
  return line.trim() !== '' && leadingSpaces(line) === indent && !/^\s*--/.test(line);
}

/**
 * A continuation lines up as the hand-wrapped lines do: after `Usage: sprout COMMAND ` on a usage line, under the
 * first `[` of an option's line (`  --data FILE [--format …]`), else after the line's leading spaces.
 */
function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const usage = /^Usage: sprout (?:[a-z][a-z-]* )+/.exec(line);
  const option = /^ *--[a-z-]+ [A-Z]+ (?=\[)/.exec(line);
  const indent = (usage ?? option)?.[0].length ?? leadingSpaces(line);
  const lines: string[] = [];
  let rest = line;
  while (rest.length > width) {
    const at = breakAt(rest, width, indent);
    if (at < 0) break;
    lines.push(rest.slice(0, at).trimEnd());
    rest = ' '.repeat(indent) + rest.slice(at).trimStart();
  }
  return [...lines, rest];
}

/**
 * Where to break `line`: after its last space outside brackets within `width`, so that `[--encoding auto|…]` stays
 * whole; where the group after that space, or one alone, is longer than the room, after its last `|` that fits; else
 * the last space that fits; -1 for none.
 */
function breakAt(line: string, width: number, indent: number): number {
  let depth = 0;
  let within = -1;
  for (let i = indent; i < line.length; i++) {
    const c = line[i];
    if (c === '[') depth++;
    else if (c === ']' && depth > 0) depth--;
    else if (c === ' ' && depth === 0 && i > indent && line[i - 1] !== ' ' && !joinsFlagToValue(line, i)) {
      if (i > width) break;
      within = i + 1;
    }
  }
  const bar = line.lastIndexOf('|', width - 1);
  // A group that no line could hold is broken anyway: better after a `|` of it here than on a line of its own.
  if (within >= 0 && !(bar > within && groupLength(line, within) > width - indent)) return within;
  if (bar > indent) return bar + 1;
  const space = line.lastIndexOf(' ', width);
  return space > indent ? space + 1 : -1;
}

/** The length of the `[…]` group starting at `at`, or 0 where none starts there. */
function groupLength(line: string, at: number): number {
  if (line[at] !== '[') return 0;
  let depth = 0;
  for (let i = at; i < line.length; i++) {
    if (line[i] === '[') depth++;
    else if (line[i] === ']' && --depth === 0) return i + 1 - at;
  }
  return line.length - at;
}

/** Whether the space at `at` stands between an option and its value's name (`--threads N`), which stay on one line. */
function joinsFlagToValue(line: string, at: number): boolean {
  return /(?:^|\s)--[a-z-]+$/.test(line.slice(0, at)) && /^[A-Z][A-Z_]*\b/.test(line.slice(at + 1));
}
