"""Writes a TSV's rows into an .xlsx the way Excel and the .NET Open XML SDK lay one out, not the way openpyxl does:
a hidden first sheet, the sheet read stored as part sheet3.xml behind a shuffled relationship id, every element of
its XML under an `x:` prefix, strings shared with rich-text runs and a phonetic guide, characters XML cannot hold
(CoLA's backspaces) written _xHHHH_, a literal "_x" escaped as _x005F_x, numbers as numbers, an added boolean
column, empty cells left out, a blank row kept as an empty <row>, and cells without references.

usage: excel_style_workbook.py SOURCE.tsv TARGET.xlsx ROWS
"""
import csv
import re
import sys
import zipfile
from xml.sax.saxutils import escape

source, target, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(source, newline='', encoding='utf-8') as f:
    rows = [r for _, r in zip(range(limit), csv.reader(f, delimiter='\t', quoting=csv.QUOTE_NONE))]

MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'
REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'


def xstring(s):
    """ST_Xstring: a literal _xHHHH_ gets its underscore escaped, then characters XML 1.0 cannot hold are escaped."""
    s = re.sub(r'_(?=x[0-9A-Fa-f]{4}_)', '_x005F_', s)
    s = re.sub(r'[\x00-\x08\x0b\x0c\x0e-\x1f]', lambda m: '_x%04X_' % ord(m.group()), s)
    return escape(s)


strings, index = [], {}


def shared(s):
    if s not in index:
        index[s] = len(strings)
        strings.append(s)
    return index[s]


def si(n, s):
    body = xstring(s)
    if n % 7 == 3 and ' ' in s:  # rich text: the first word bold, as a formatted cell's string is stored
        head, tail = s.split(' ', 1)
        return (f'<si><r><rPr><b/></rPr><t>{xstring(head)}</t></r><r><t xml:space="preserve"> {xstring(tail)}</t></r>'
                f'<rPh sb="0" eb="1"><t>ignored</t></rPh></si>')
    return f'<si><t xml:space="preserve">{body}</t></si>'


sheet_rows = []
for i, (code, label, mark, sentence) in enumerate(rows):
    r = i + 1 if i < 10 else i + 2  # row 11 is left blank
    cells = [f'<x:c r="A{r}" t="s"><x:v>{shared(code)}</x:v></x:c>', f'<x:c r="B{r}"><x:v>{int(label)}</x:v></x:c>']
    if mark:
        cells.append(f'<x:c r="C{r}" t="inlineStr"><x:is><x:t xml:space="preserve">{xstring(mark)}</x:t></x:is></x:c>')
    # No reference: the cell follows the previous one (column C or D).
    cells.append(f'<x:c t="s"><x:v>{shared(sentence)}</x:v></x:c>' if mark else f'<x:c r="D{r}" t="s"><x:v>{shared(sentence)}</x:v></x:c>')
    cells.append(f'<x:c r="E{r}" t="b"><x:v>{1 if label == "1" else 0}</x:v></x:c>')
    sheet_rows.append(f'<x:row r="{r}">{"".join(cells)}</x:row>')
    if i == 9:
        sheet_rows.append('<x:row r="11"/>')

sheet = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<x:worksheet xmlns:x="{MAIN}">'
         f'<x:dimension ref="A1:E{len(rows) + 1}"/><x:sheetData>{"".join(sheet_rows)}</x:sheetData></x:worksheet>')
scratch = f'<worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>notes</t></is></c></row></sheetData></worksheet>'
shared_xml = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="{MAIN}" count="{len(strings)}" '
              f'uniqueCount="{len(strings)}">{"".join(si(n, s) for n, s in enumerate(strings))}</sst>')
workbook = (f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets><sheet name="Scratch" sheetId="1" state="hidden" r:id="rId7"/>'
            f'<sheet name="CoLA train" sheetId="2" r:id="rId2"/></sheets></workbook>')
links = (f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         f'<Relationship Id="rId2" Type="{REL}/worksheet" Target="worksheets/sheet3.xml"/>'
         f'<Relationship Id="rId7" Type="{REL}/worksheet" Target="/xl/worksheets/sheet1.xml"/>'
         f'<Relationship Id="rId9" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
package = ('<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
           f'<Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
types = ('<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         '<Default Extension="xml" ContentType="application/xml"/>'
         '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
         '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
         '<Override PartName="/xl/worksheets/sheet3.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
         '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
         '</Types>')

with zipfile.ZipFile(target, 'w', zipfile.ZIP_DEFLATED) as z:
    z.writestr('[Content_Types].xml', types)
    z.writestr('_rels/.rels', package)
    z.writestr('xl/workbook.xml', workbook)
    z.writestr('xl/_rels/workbook.xml.rels', links)
    z.writestr('xl/sharedStrings.xml', shared_xml)
    z.writestr('xl/worksheets/sheet1.xml', scratch)
    z.writestr('xl/worksheets/sheet3.xml', sheet)
