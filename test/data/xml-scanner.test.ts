/**
 * The workbook's XML scanner: events do not depend on where chunks split the text, and markup reads as XML has it.
 * Python's xml.dom.minidom reads the same well-formed document for comparison.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { XmlScanner } from '../../main/data/xml-scanner.js';
import { python } from './helpers.js';

type Event = ['open', string, Record<string, string>] | ['close', string] | ['text', string];

/** The scanner's events for `chunks`, adjacent texts joined (a chunk boundary may not split what it reports). */
function events(chunks: string[], maxPending = 1 << 20): Event[] {
  const out: Event[] = [];
  const scanner = new XmlScanner(
    {
      open: (name, attributes) => out.push(['open', name, { ...attributes }]),
      close: (name) => out.push(['close', name]),
      text: (text) => {
        const last = out.at(-1);
        if (last?.[0] === 'text') last[1] += text;
        else out.push(['text', text]);
      },
    },
    maxPending,
    () => new Error('too long'),
  );
  for (const chunk of chunks) scanner.push(chunk);
  expect(scanner.end()).toBe(true);
  return out;
}

const PIECES = [
  '<row r="1">',
  '</row>',
  '<x:c r="A1" t="s">',
  '</x:c>',
  '<v>',
  '</v>',
  '<t xml:space="preserve">',
  '</t>',
  '<empty/>',
  "<q a='1 > 0' b=\"it's\"/>",
  '<!-- a <comment> -->',
  '<![CDATA[<not markup> & raw]]>',
  '<?pi data?>',
  '&amp;',
  '&lt;&gt;&quot;&apos;',
  '&#233;&#x1F600;',
  '&unknown;',
  'plain text',
  ' ',
  '\n',
  'é😀',
];

describe('XmlScanner', () => {
  it('reports the same events however the document is cut into chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }), fc.array(fc.nat(), { maxLength: 8 }), (pieces, cuts) => {
        const doc = `<doc>${pieces.join('')}</doc>`;
        const at = [...new Set(cuts.map((c) => c % (doc.length + 1)))].sort((a, b) => a - b);
        const chunks = [0, ...at].map((start, i) => doc.slice(start, [...at, doc.length][i]));
        expect(events(chunks)).toEqual(events([doc]));
      }),
      { seed: 0x3a1, numRuns: 500 },
    );
  });

  it('reads names without their prefix, attributes, entities, CDATA and a ">" inside a quoted value as minidom does', () => {
    const doc =
      '<?xml version="1.0"?><x:sst xmlns:x="urn:x" count="2"><!-- c --><x:si><x:t xml:space="preserve"> a &amp; b &#233;</x:t></x:si>' +
      "<x:si><x:t><![CDATA[<raw>]]></x:t><x:e k='1 > 0'/></x:si></x:sst>";
    const ours = events([doc]);
    const theirs = JSON.parse(
      python(
        `import json, sys
from xml.dom import minidom
out = []
def walk(n):
    for c in n.childNodes:
        if c.nodeType == c.ELEMENT_NODE:
            out.append(['open', c.localName, {a.localName: a.value for a in c.attributes.values() if a.prefix != 'xmlns' and a.name != 'xmlns'}])
            walk(c)
            out.append(['close', c.localName])
        elif c.nodeType in (c.TEXT_NODE, c.CDATA_SECTION_NODE):
            if out and out[-1][0] == 'text': out[-1][1] += c.data
            else: out.append(['text', c.data])
walk(minidom.parseString(sys.argv[1]))
print(json.dumps(out))`,
        doc,
      ),
    ) as Event[];
    // minidom drops the namespace declaration; the scanner keeps every attribute, xmlns:x among them.
    const withoutDeclarations = ours.map((e) =>
      e[0] === 'open' ? (['open', e[1], Object.fromEntries(Object.entries(e[2]).filter(([k]) => k !== 'x'))] as Event) : e,
    );
    expect(withoutDeclarations).toEqual(theirs);
    expect(ours).toContainEqual(['text', ' a & b é']);
  });

  it('refuses a run of text longer than it may hold rather than growing without bound', () => {
    expect(() => events(['<t>', 'x'.repeat(100), 'y'.repeat(100)], 150)).toThrow('too long');
  });
});
