/**
 * Minimal .xlsx files for the fuzz tests, built in memory: a ZIP (stored or deflated entries) of the parts a workbook
 * needs, around a sheet's XML. Correctness is checked elsewhere against openpyxl (test/data/xlsx.test.ts); these only
 * need to be workbooks a mutation can then break.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateRawSync } from 'node:zlib';
import { writeZipStored } from '../../main/checkpoint/torch-save.js';

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A sheet of inline-string cells, or numbers where a value is a number. */
export function sheetXml(rows: readonly (readonly string[])[]): string {
  const cell = (v: string) =>
    /^-?\d+(\.\d+)?$/.test(v) ? `<c><v>${v}</v></c>` : `<c t="inlineStr"><is><t xml:space="preserve">${escapeXml(v)}</t></is></c>`;
  const body = rows.map((r, i) => `<row r="${i + 1}">${r.map(cell).join('')}</row>`).join('');
  return `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${MAIN}"><sheetData>${body}</sheetData></worksheet>`;
}

/**
 * A workbook whose one sheet is `sheet` (XML text, well-formed or not); `zip64`: stored, its sizes and offsets in
 * ZIP64 records, as any writer may write them whatever the size.
 */
export function xlsxBytes(sheet: string, deflate: boolean, zip64 = false): Uint8Array {
  return zip(
    [
      [
        '[Content_Types].xml',
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
          '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
          '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>' +
          '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>' +
          '</Types>',
      ],
      ['_rels/.rels', `<Relationships><Relationship Id="rId1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`],
      [
        'xl/workbook.xml',
        `<workbook xmlns="${MAIN}" xmlns:r="${REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>`,
      ],
      [
        'xl/_rels/workbook.xml.rels',
        `<Relationships><Relationship Id="rId1" Type="${REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
      ],
      ['xl/worksheets/sheet1.xml', sheet],
    ],
    deflate,
    zip64,
  );
}

function zip(files: [string, string][], deflate: boolean, zip64: boolean): Uint8Array {
  if (zip64) return zip64Stored(files);
  const locals: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of files) {
    const raw = Buffer.from(text, 'utf8');
    const data = deflate ? deflateRawSync(raw) : raw;
    const nameBytes = Buffer.from(name, 'utf8');
    const fields = (size: number) => {
      const b = Buffer.alloc(size);
      b.writeUInt16LE(20, size === 30 ? 4 : 6);
      return b;
    };
    const local = fields(30);
    local.writeUInt32LE(0x04034b50, 0);
    const central = fields(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    for (const [b, at] of [
      [local, 8],
      [central, 10],
    ] as const) {
      b.writeUInt16LE(deflate ? 8 : 0, at);
      b.writeUInt32LE(crc32(raw), at + 6);
      b.writeUInt32LE(data.length, at + 10);
      b.writeUInt32LE(raw.length, at + 14);
      b.writeUInt16LE(nameBytes.length, at + 18);
    }
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    directory.push(central, nameBytes);
    offset += local.length + nameBytes.length + data.length;
  }
  const size = directory.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(offset, 16);
  return new Uint8Array(Buffer.concat([...locals, ...directory, end]));
}

/** The parts, stored with ZIP64 records throughout, by the checkpoint writer that can force them. */
function zip64Stored(files: [string, string][]): Uint8Array {
  const file = join(mkdtempSync(join(tmpdir(), 'sprout-zip64-')), 'book.xlsx');
  const members = files.map(([name, text]) => {
    const bytes = Buffer.from(text, 'utf8');
    return { name, size: bytes.length, write: (sink: (chunk: Uint8Array) => void) => sink(bytes) };
  });
  writeZipStored(file, members, { zip64: 'always' });
  return new Uint8Array(readFileSync(file));
}
