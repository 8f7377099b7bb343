/**
 * Files that hold a table without being one: compressed files, ZIP archives (an Excel .xlsx is one), old Office
 * workbooks, PDFs. Read as text they fail at their second byte as "not valid UTF-8", with the advice to re-save as
 * UTF-8 or to replace the bad bytes, and with --format csv or --invalid-utf8 replace they import garbage. Their first
 * bytes say what they are, whatever their name.
 */
import { basename, extname } from 'node:path';
import { DATA_FORMAT_LABELS, type DataFormat } from '../choices.js';
import { SproutError } from '../errors.js';
import { alternatives } from '../wording.js';

interface Container {
  /** Matches the file's first bytes. */
  magic: (head: Buffer) => boolean;
  /** Where the file is read as a format: whether this container is refused then (default: always). */
  refused?: (format: DataFormat | undefined) => boolean;
  /** "is …", completing a sentence that starts with the file's name. */
  is: string;
  hint: (name: string) => string;
  uiHint: string;
}

const startsWith = (bytes: number[]) => (head: Buffer) => bytes.every((b, i) => head[i] === b);

/** What to do with a compressed file, given the command line tool and its suffix (gzip: .gz). */
function decompress(tool: string, suffix: string) {
  const command = (name: string) => {
    if (name.endsWith(suffix)) return `${tool} -dk ${name}`;
    const ext = extname(name);
    return `${tool} -dc ${name} > ${basename(name, ext)}.unpacked${ext}`;
  };
  return {
    hint: (name: string) => `Decompress it first (for example \`${command(name)}\`) and import the file that makes.`,
    uiHint: 'Decompress it first (with your archive tool) and import the file that makes.',
  };
}

const SAVE_AS_XLSX = {
  hint: () => 'Save it as an Excel Workbook (.xlsx) or as CSV UTF-8 (in Excel: File > Save As) and import that file.',
  uiHint: 'Save it as an Excel Workbook (.xlsx) or as CSV UTF-8 (in Excel: File > Save As) and import that file.',
};

/** UTF-16's byte order marks: text in UTF-16 holds NUL bytes. */
const BOMS = [
  [0xff, 0xfe],
  [0xfe, 0xff],
];

const OLE_MAGIC = startsWith([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);

/** Whether the file's first bytes are a ZIP archive's (as an Excel workbook's are). */
export const isZipArchive = (head: Buffer) => startsWith([0x50, 0x4b])(head) && [0x0304, 0x0506, 0x0708].includes(head.readUInt16BE(2));

const CONTAINERS: Container[] = [
  { magic: startsWith([0x1f, 0x8b]), is: 'gzip-compressed', ...decompress('gzip', '.gz') },
  {
    // Reached only when the archive holds no workbook (main/data/read.ts reads the ones that do).
    magic: isZipArchive,
    is: 'a ZIP archive that holds no Excel workbook (an OpenDocument spreadsheet is one such)',
    hint: (name) =>
      `If it is a spreadsheet, save the sheet as CSV (in Excel: File > Save As > CSV UTF-8); else unzip ${name} and import the file inside.`,
    uiHint:
      'If it is a spreadsheet, save the sheet as CSV (in Excel: File > Save As > CSV UTF-8); else unzip it and import the file inside.',
  },
  {
    // Excel encrypts a workbook with a password into an Office file of the older kind, keeping its name.
    magic: OLE_MAGIC,
    refused: (format) => format === 'xlsx',
    is: 'a password-protected (encrypted) Excel workbook',
    hint: () =>
      'Open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, clear it) and save it; or save the sheet as CSV UTF-8.',
    uiHint:
      'Open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, clear it) and save it; or save the sheet as CSV UTF-8.',
  },
  {
    magic: OLE_MAGIC,
    is: 'an older Excel workbook (.xls) or another Office file',
    ...SAVE_AS_XLSX,
  },
  { magic: (h) => /^BZh[1-9]1AY&SY/.test(h.toString('latin1', 0, 10)), is: 'bzip2-compressed', ...decompress('bzip2', '.bz2') },
  { magic: startsWith([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), is: 'xz-compressed', ...decompress('xz', '.xz') },
  { magic: startsWith([0x28, 0xb5, 0x2f, 0xfd]), is: 'zstd-compressed', ...decompress('zstd', '.zst') },
  {
    magic: startsWith([0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]),
    is: 'a 7-Zip archive',
    hint: (name) => `Unpack it first (for example \`7z x ${name}\`) and import the data file inside.`,
    uiHint: 'Unpack it first (with your archive tool) and import the data file inside.',
  },
  {
    magic: (h) => h.toString('latin1', 0, 5) === '%PDF-',
    is: 'a PDF document',
    hint: () => 'Export its table as CSV from the program that made it, and import that file.',
    uiHint: 'Export its table as CSV from the program that made it, and import that file.',
  },
  {
    // An 8-byte little-endian header length, then the header's JSON object.
    magic: (h) => h.length >= 10 && h.readUInt32LE(4) === 0 && h.readUInt32LE(0) > 1 && h.toString('latin1', 8, 10) === '{"',
    is: "a safetensors file of a model's weights",
    hint: () =>
      'A model is imported by its folder (`sprout model import DIR`, config.json beside the weights); the data to train on is a table of texts and labels.',
    uiHint: 'A model is chosen on the Model step, by its folder; the data to train on is a table of texts and labels.',
  },
  {
    magic: (h) => h.toString('latin1', 0, 16) === 'SQLite format 3\0',
    is: 'an SQLite database',
    hint: (name) =>
      `Write the table as CSV (for example \`sqlite3 -header -csv ${name} "SELECT * FROM TABLE" > data.csv\`) and import that file.`,
    uiHint: 'Write the table as CSV (the sqlite3 tool or a database browser does) and import that file.',
  },
  {
    magic: (h) => h.toString('latin1', 257, 262) === 'ustar',
    is: 'a tar archive',
    hint: (name) =>
      `Unpack it first (for example \`tar -xf ${name}\`) and import the data file inside; a Sprout library archive is added` +
      ' with `sprout library import-all`.',
    uiHint:
      'Unpack it first (with your archive tool) and import the data file inside; a Sprout library archive is added under Library → Whole library.',
  },
  {
    // Text never holds a NUL byte; UTF-16 does, but only after a byte order mark, which is read as such before this.
    magic: (h) => !h.toString('latin1', 0, 4).startsWith('PAR1') && h.includes(0) && !BOMS.some((bom) => startsWith(bom)(h)),
    refused: (format) => format !== 'parquet' && format !== 'xlsx',
    is: 'binary (it holds NUL bytes, which text never does)',
    hint: () =>
      'If it is text in UTF-16 without a byte order mark, save it again as UTF-8; else export its table as CSV from the program that made it.',
    uiHint:
      'If it is text in UTF-16 without a byte order mark, save it again as UTF-8; else export its table as CSV from the program that made it.',
  },
];

/**
 * Throws when `head` (a file's first bytes, at least 10 where the file has them) is one of CONTAINERS, refused where
 * the file is read as `format` (undefined: not yet known).
 */
export function refuseContainer(file: string, head: Buffer, format: DataFormat | undefined): void {
  const found = CONTAINERS.find((c) => c.magic(head) && (c.refused?.(format) ?? true));
  if (!found) return;
  const name = basename(file);
  throw new SproutError(
    'data-not-a-table',
    `This file is ${found.is}, not a data file Sprout reads (${alternatives(Object.values(DATA_FORMAT_LABELS))}).`,
    {
      file,
      hint: found.hint(name),
      uiHint: found.uiHint,
    },
  );
}
