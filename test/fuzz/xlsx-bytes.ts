/**
 * Minimal .xlsx files for the fuzz tests, built in memory: a ZIP (stored or deflated entries) of the parts a workbook
 * needs, around a sheet's XML. Correctness is checked elsewhere against openpyxl (test/data/xlsx.test.ts); these only
 * need to be workbooks a mutation can then break.
 */
import { crc32, deflateRawSync } from 'node:zlib';

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
 * A workbook whose one sheet is `sheet` (XML text, well-formed or not); `zip64`: its sizes and offsets in ZIP64
 * records, as streaming writers may write them whatever the size.
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
  const locals: Buffer[] = [];
  const directory: Buffer[] = [];
  let offset = 0;
  for (const [name, text] of files) {
    const raw = Buffer.from(text, 'utf8');
    const data = deflate ? deflateRawSync(raw) : raw;
    const nameBytes = Buffer.from(name, 'utf8');
    // ZIP64: the directory's sizes and offset say "see the extra field", which holds them as 64-bit values.
    const extra = Buffer.alloc(zip64 ? 28 : 0);
    if (zip64) {
      extra.writeUInt16LE(1, 0);
      extra.writeUInt16LE(24, 2);
      extra.writeBigUInt64LE(BigInt(raw.length), 4);
      extra.writeBigUInt64LE(BigInt(data.length), 12);
      extra.writeBigUInt64LE(BigInt(offset), 20);
    }
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
    if (zip64) {
      central.writeUInt32LE(0xffffffff, 20);
      central.writeUInt32LE(0xffffffff, 24);
      central.writeUInt32LE(0xffffffff, 42);
      central.writeUInt16LE(extra.length, 30);
    }
    locals.push(local, nameBytes, data);
    directory.push(central, nameBytes, extra);
    offset += local.length + nameBytes.length + data.length;
  }
  const size = directory.reduce((n, b) => n + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(zip64 ? 0xffff : files.length, 8);
  end.writeUInt16LE(zip64 ? 0xffff : files.length, 10);
  end.writeUInt32LE(zip64 ? 0xffffffff : size, 12);
  end.writeUInt32LE(zip64 ? 0xffffffff : offset, 16);
  return new Uint8Array(Buffer.concat([...locals, ...directory, ...(zip64 ? zip64End(files.length, size, offset) : []), end]));
}

/** The ZIP64 end record and its locator, for a directory of `count` entries and `size` bytes at `offset`. */
function zip64End(count: number, size: number, offset: number): Buffer[] {
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(count), 24);
  record.writeBigUInt64LE(BigInt(count), 32);
  record.writeBigUInt64LE(BigInt(size), 40);
  record.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + size), 8);
  locator.writeUInt32LE(1, 16);
  return [record, locator];
}
