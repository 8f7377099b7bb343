import { writeZipStored, type ZipMember } from '../checkpoint/torch-save.js';
import { RELATIONSHIPS_NS as REL, SPREADSHEET_NS as MAIN, xmlText } from '../label/workbook-output.js';
import { generatedRows, timeImport } from './import.js';

/** A part whose text comes in pieces from `pieces` (called twice: once to size the part, once to write it). */
function part(name: string, pieces: () => Iterable<string>): ZipMember {
  let size = 0;
  for (const piece of pieces()) size += Buffer.byteLength(piece);
  return {
    name,
    size,
    write: (sink) => {
      for (const chunk of batched(pieces())) sink(Buffer.from(chunk));
    },
  };
}

/** Pieces joined into chunks of about 1 MiB. */
function* batched(pieces: Iterable<string>): Generator<string> {
  let batch = '';
  for (const piece of pieces) {
    batch += piece;
    if (batch.length > 1 << 20) {
      yield batch;
      batch = '';
    }
  }
  yield batch;
}

/**
 * The import benchmark's rows as Excel saves them: every text once in the shared strings, the sheet's cells
 * referring to them by index. Stored, not deflated (the inflater is zlib's; the XML and the strings are Sprout's).
 */
function writeWorkbook(file: string, rows: number): void {
  const fixed = ['text', 'label', 'world', 'sports', 'business', 'science'];
  const strings = function* () {
    yield `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="${MAIN}">`;
    for (const s of fixed) yield `<si><t>${s}</t></si>`;
    for (const [text] of generatedRows(rows)) yield `<si><t>${xmlText(text)}</t></si>`;
    yield '</sst>';
  };
  const sheet = function* () {
    yield `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${MAIN}"><sheetData>`;
    yield '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>';
    let i = 0;
    for (const [, label] of generatedRows(rows)) {
      const r = i + 2;
      yield `<row r="${r}"><c r="A${r}" t="s"><v>${fixed.length + i}</v></c><c r="B${r}" t="s"><v>${fixed.indexOf(label)}</v></c></row>`;
      i++;
    }
    yield '</sheetData></worksheet>';
  };
  writeZipStored(file, [
    part('_rels/.rels', () => [
      `<Relationships><Relationship Id="r1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    ]),
    part('xl/workbook.xml', () => [
      `<workbook xmlns="${MAIN}" xmlns:r="${REL}"><sheets><sheet name="rows" sheetId="1" r:id="r1"/></sheets></workbook>`,
    ]),
    part('xl/_rels/workbook.xml.rels', () => [
      `<Relationships><Relationship Id="r1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/>` +
        `<Relationship Id="r2" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
    ]),
    part('xl/sharedStrings.xml', strings),
    part('xl/worksheets/sheet1.xml', sheet),
  ]);
}

/**
 * `npm run bench -- import-xlsx`: the import benchmark's 1,000,000 rows (Excel's limit is 1,048,576) as a workbook,
 * imported into a fresh library: rows per second of the import alone and the process's peak RSS, which holds the
 * shared strings (every cell of a workbook names its text by index into them).
 */
export function benchImportWorkbook(rows = 1_000_000): Promise<Record<string, unknown>> {
  return timeImport('import-xlsx', 'generated.xlsx', (book) => writeWorkbook(book, rows));
}
