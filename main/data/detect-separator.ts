/**
 * Whether a CSV separates its fields with commas or with semicolons, judged from its first rows read both ways, as a
 * spreadsheet's import does (and Python's csv.Sniffer): Excel saves "CSV" with semicolons where the comma is the
 * decimal mark. A separator that splits every sampled row into the same number of fields, two or more, wins, the
 * comma first; with neither, the comma, as RFC 4180 has it.
 */
import type { CsvSeparator } from '../choices.js';

export interface SeparatorChoice {
  separator: CsvSeparator;
  /** Why, when the semicolon was taken over the usual comma. */
  reason?: string;
}

/** The first rows as a separator reads them; undefined where reading so fails (a quote followed by the other). */
export type SeparatorSample = readonly (readonly string[])[] | undefined;

/** The field count every row has, or undefined when the rows differ, fail to parse or are missing. */
function evenWidth(rows: SeparatorSample): number | undefined {
  if (!rows?.length) return undefined;
  const width = rows[0].length;
  return rows.every((r) => r.length === width) ? width : undefined;
}

/** `sample` reads the first rows with a separator; the semicolon's are read only when the commas do not settle it. */
export async function detectSeparator(sample: (separator: CsvSeparator) => Promise<SeparatorSample>): Promise<SeparatorChoice> {
  const commaRows = await sample('comma');
  const comma = evenWidth(commaRows);
  if (comma !== undefined && comma > 1) return { separator: 'comma' };
  const semicolonRows = await sample('semicolon');
  const semicolon = evenWidth(semicolonRows);
  if (semicolon === undefined || semicolon < 2) return { separator: 'comma' };
  const rows = semicolonRows!.length;
  const commas =
    commaRows === undefined
      ? 'read with commas they do not parse'
      : comma === 1
        ? 'commas split none of them'
        : 'commas split them unevenly';
  return {
    separator: 'semicolon',
    reason: `${rows === 1 ? 'the first row has' : `each of the first ${rows} rows has`} ${semicolon} fields between semicolons; ${commas}`,
  };
}

/**
 * Why a .txt file is a table, when it is one: every one of its first lines (two or more, blank ones aside) holds the
 * same number of tabs, one or more, as Excel's "Text (Tab delimited)" and "Unicode Text" save a sheet. Undefined
 * for text, which is read a line an example.
 */
export function tabTableReason(lines: readonly string[]): string | undefined {
  const filled = lines.filter((l) => l.trim() !== '');
  if (filled.length < 2) return undefined;
  const tabs = filled[0].split('\t').length - 1;
  if (tabs === 0 || !filled.every((l) => l.split('\t').length - 1 === tabs)) return undefined;
  const each = `each of the first ${filled.length} lines has ${tabs === 1 ? 'a tab' : `${tabs} tabs`}`;
  return `${each}, as Excel saves a sheet as "Text (Tab delimited)" or "Unicode Text"`;
}
