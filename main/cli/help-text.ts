/**
 * Usage texts as printed: lines past the width wrapped at word boundaries. The texts are written to 120 columns, but
 * the flag lists in them are generated from the declared choices (main/cli/flags.ts), so a line grows whenever a
 * choice is added; wrapping here keeps every `--help` readable without re-flowing each text by hand.
 */

export const HELP_WIDTH = 120;

/** Each line longer than `width` broken at spaces outside `[…]` groups, continuing at its own indent. */
export function wrapHelp(text: string, width = HELP_WIDTH): string {
  return text
    .split('\n')
    .flatMap((line) => wrapLine(line, width))
    .join('\n');
}

/**
 * A continuation lines up as the hand-wrapped lines do: after `Usage: sprout COMMAND ` on a usage line, under the
 * first `[` of an option's line (`  --data FILE [--format …]`), else after the line's leading spaces.
 */
function wrapLine(line: string, width: number): string[] {
  if (line.length <= width) return [line];
  const usage = /^Usage: sprout (?:[a-z-]+ )+/.exec(line);
  const option = /^ *--[a-z-]+ [A-Z]+ (?=\[)/.exec(line);
  const indent = (usage ?? option)?.[0].length ?? /^ */.exec(line)![0].length;
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
 * whole; where a group alone is longer than the room, after its last `|` that fits; else the last space that fits;
 * -1 for none.
 */
function breakAt(line: string, width: number, indent: number): number {
  let depth = 0;
  let within = -1;
  for (let i = indent; i < line.length; i++) {
    const c = line[i];
    if (c === '[') depth++;
    else if (c === ']' && depth > 0) depth--;
    else if (c === ' ' && depth === 0 && i > indent && line[i - 1] !== ' ') {
      if (i > width) break;
      within = i + 1;
    }
  }
  if (within >= 0) return within;
  const bar = line.lastIndexOf('|', width - 1);
  if (bar > indent) return bar + 1;
  const space = line.lastIndexOf(' ', width);
  return space > indent ? space + 1 : -1;
}
