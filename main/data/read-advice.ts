/**
 * Reading choices a hint can point to, in the command line's words and in the app's (the Data step's "Quotes in
 * CSV/TSV", "Separator in CSV", "Encoding" and "First row" selects), so that each error says what to do wherever it is
 * shown.
 */
export interface Choice {
  cli: string;
  app: string;
}

export const QUOTES_ARE_TEXT: Choice = { cli: 'import with --quoting none', app: 'set "Quotes in CSV/TSV" to "Quotes are text"' };
export const QUOTED_FIELDS: Choice = { cli: 'import with --quoting rfc4180', app: 'set "Quotes in CSV/TSV" to "Quoted fields"' };
export const JSON_LINES: Choice = { cli: 'use --format jsonl', app: 'give the file the .jsonl extension' };
export const NO_HEADER: Choice = { cli: 'import with --header no', app: 'set "First row" to "An example (no header)"' };
export const SEMICOLONS: Choice = { cli: 'import with --separator semicolon', app: 'set "Separator in CSV" to "Semicolon"' };
export const CODE_PAGE: Choice = {
  cli: 'import with --encoding windows-1252 (or the code page of its language: see --help)',
  app: 'set "Encoding" to Windows-1252 (or the code page of its language)',
};
export const MAC_ROMAN: Choice = { cli: 'import with --encoding macintosh', app: 'set "Encoding" to Mac OS Roman' };
/** The app reads text strictly (the CLI can replace bad bytes), so there the file itself must be fixed. */
export const SAVE_AS_UTF8 = 'Save the file again as UTF-8 (a text editor\'s "Save as" offers it), then preview it again.';

/** A SproutError's hint and uiHint from one sentence around the choice. */
export function advise(sentence: (how: string) => string, choice: Choice): { hint: string; uiHint: string } {
  return { hint: sentence(choice.cli), uiHint: sentence(choice.app) };
}
