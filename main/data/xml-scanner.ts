/**
 * A streaming XML scanner for the parts of a workbook: elements (by local name, the namespace prefix dropped, as
 * writers differ in prefixes: Excel writes `<c>`, some .NET libraries `<x:c>`), their attributes and their text, with
 * the five named entities and character references resolved. No DTDs and no entity definitions: a workbook has none,
 * and expanding them is how XML bombs work.
 */
export interface XmlHandler {
  /** An element starts; a self-closing one is closed right after. */
  open(name: string, attributes: Readonly<Record<string, string>>): void;
  close(name: string): void;
  text(text: string): void;
}

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const ATTRIBUTE = /([^\s=/]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;

export class XmlScanner {
  private pending = '';

  /** `maxPendingChars`: the longest stretch of text or markup kept between chunks; longer is an error (`tooLong`). */
  constructor(
    private readonly handler: XmlHandler,
    private readonly maxPendingChars: number,
    private readonly tooLong: () => Error,
  ) {}

  push(chunk: string): void {
    const s = this.pending + chunk;
    let at = 0;
    for (;;) {
      const lt = s.indexOf('<', at);
      if (lt < 0) break;
      const end = this.markupEnd(s, lt);
      if (end < 0) break;
      if (lt > at) this.handler.text(decodeText(s.slice(at, lt)));
      this.markup(s, lt, end);
      at = end;
    }
    this.pending = s.slice(at);
    if (this.pending.length > this.maxPendingChars) throw this.tooLong();
  }

  /** Whether the document ended outside any markup (trailing whitespace aside). */
  end(): boolean {
    return this.pending.trim() === '';
  }

  /** Where the markup starting at `lt` ends (just past it), or -1 when the chunk ends first. */
  private markupEnd(s: string, lt: number): number {
    const closer = (token: string) => {
      const i = s.indexOf(token, lt + 2);
      return i < 0 ? -1 : i + token.length;
    };
    if (s.startsWith('<!--', lt)) return closer('-->');
    if (s.startsWith('<![CDATA[', lt)) return closer(']]>');
    if (s.startsWith('<?', lt)) return closer('?>');
    // A tag: `>` may appear inside a quoted attribute value.
    let quote = '';
    for (let i = lt + 1; i < s.length; i++) {
      const c = s[i];
      if (quote) {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') return i + 1;
    }
    return -1;
  }

  private markup(s: string, lt: number, end: number): void {
    if (s.startsWith('<![CDATA[', lt)) {
      this.handler.text(s.slice(lt + 9, end - 3));
      return;
    }
    if (s[lt + 1] === '!' || s[lt + 1] === '?') return;
    if (s[lt + 1] === '/') {
      this.handler.close(localName(s.slice(lt + 2, end - 1).trim()));
      return;
    }
    const selfClosing = s[end - 2] === '/';
    const body = s.slice(lt + 1, selfClosing ? end - 2 : end - 1);
    const space = body.search(/\s/);
    const name = localName(space < 0 ? body : body.slice(0, space));
    const attributes: Record<string, string> = Object.create(null);
    if (space >= 0) {
      for (const m of body.slice(space).matchAll(ATTRIBUTE)) attributes[localName(m[1])] = decodeText(m[2] ?? m[3]);
    }
    this.handler.open(name, attributes);
    if (selfClosing) this.handler.close(name);
  }
}

function localName(qualified: string): string {
  return qualified.slice(qualified.indexOf(':') + 1);
}

/** Text with its entity and character references resolved; an unknown reference stays as written. */
export function decodeText(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref[0] !== '#') return NAMED[ref] ?? whole;
    const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
  });
}
