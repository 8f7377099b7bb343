/**
 * Dates and times in a workbook. A sheet stores them as numbers (days since an epoch, the time as the fraction of a
 * day); only the cell's number format says a number is a date. Read as numbers, a column of dates would be copied
 * into a labelled file as 45231.5, so a cell whose format shows a date or a time reads as ISO 8601 text instead:
 * 2023-11-01, 12:00:00 or 2023-11-01 12:00:00, which no locale misreads.
 */
export type DateKind = 'date' | 'time' | 'datetime';

/** Built-in number formats (ECMA-376 Part 1, 18.8.30) that show dates or times; 27–36 and 50–58 are East Asian dates. */
const BUILT_IN: Record<number, DateKind> = {
  14: 'date',
  15: 'date',
  16: 'date',
  17: 'date',
  18: 'time',
  19: 'time',
  20: 'time',
  21: 'time',
  22: 'datetime',
  45: 'time',
  47: 'time',
  ...Object.fromEntries([...range(27, 36), ...range(50, 58)].map((id) => [id, 'date' as const])),
};

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/** What a number format shows: a date, a time, both, or (undefined) a plain number. */
export function dateKind(id: number, customCode: string | undefined): DateKind | undefined {
  if (customCode === undefined) return BUILT_IN[id];
  const section = customCode.split(';')[0];
  // An elapsed time ([h]:mm) is a duration, not a time of day: it stays a number.
  if (/\[(h+|m+|s+)\]/i.test(section)) return undefined;
  // Literal text ("at "), escaped characters, spacing and fill, colours and locales ([Red], [$-409]) and AM/PM say
  // nothing of the kind.
  const tokens = section
    .replace(/"[^"]*"|\\.|_.|\*.|\[[^\]]*\]/g, '')
    .replace(/AM\/PM|A\/P/gi, '')
    .replace(/general/gi, '');
  const date = /[yd]/i.test(tokens) || (/m/i.test(tokens) && !/[hs]/i.test(tokens));
  const time = /[hs]/i.test(tokens);
  return date && time ? 'datetime' : date ? 'date' : time ? 'time' : undefined;
}

/** The last day a workbook can hold, 9999-12-31, as a 1900-system serial. */
const LAST_SERIAL = 2_958_465;

/**
 * A serial as ISO 8601 text, to the second. In the 1900 system (Excel's default) day 1 is 1900-01-01, and Excel
 * counts a 29 February 1900 that never was (day 60), as Lotus 1-2-3 did: from day 61 on, days count from 1899-12-30.
 * In the 1904 system (old Mac workbooks), day 0 is 1904-01-01. A serial no date can be stays a number.
 */
export function dateText(serial: number, kind: DateKind, date1904: boolean): string | undefined {
  if (!(serial >= 0 && serial <= LAST_SERIAL)) return undefined;
  const epoch = date1904 ? Date.UTC(1904, 0, 1) : Date.UTC(1899, 11, serial < 61 ? 31 : 30);
  const iso = new Date(epoch + Math.round(serial * 86_400) * 1000).toISOString();
  const day = iso.slice(0, 10);
  const time = iso.slice(11, 19);
  return kind === 'date' ? day : kind === 'time' ? time : `${day} ${time}`;
}
