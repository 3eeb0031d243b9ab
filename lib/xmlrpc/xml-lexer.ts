// XmlLexer: the tokens of XML 1.0 as a pull API over a document's text
// (start and end tags, text with references and CDATA, comments and
// processing instructions skipped), with every well-formedness rule enforced
// where the token is read: no DOCTYPE, only the five predefined entities and
// character references, `]]>` never in text, attributes checked then
// ignored, end tags matching, nothing after the root, a bounded element
// depth. It knows no XML-RPC: element names are identified through the
// grammar's ElementTable (elements.ts), by local name, without slicing.
// `scanRest` finishes a document with no values built, after an error of
// the grammar, so that a well-formedness error later on still wins.

import { fail, plainDeclaration } from './xml-text.js';
import { NAME_ASCII, holds, isAllWsIn, isNameCharWide, isNameStartWide, isWs, isXmlChar, nameEnd, normaliseLineEnds, skipWs } from './xml-chars.js';

// prettier-ignore
const LT = 0x3c, GT = 0x3e, AMP = 0x26, SLASH = 0x2f, QUESTION = 0x3f, BANG = 0x21, EQUALS = 0x3d;
// prettier-ignore
const QUOT = 0x22, APOS = 0x27, RSQB = 0x5d, HASH = 0x23, SEMI = 0x3b, COLON = 0x3a;
// prettier-ignore
const SP = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;

const XML_DECLARATION =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>/y;

/**
 * The elements a grammar knows, so that the lexer can name a start tag's
 * element as it reads it, without slicing: ids from 1, 0 for any other.
 * `Id` is the grammar's type for them (the XML-RPC reader's `El`), so that
 * its comparisons are typed; a type only, nothing at run time.
 */
export interface ElementTable<Id extends number = number> {
  /** The local name of each id. */
  readonly names: readonly string[];
  /** The plain start tag of each id, `<name>`, for `take`. */
  readonly startTags: readonly string[];
  /** The id of the local name `s[at, at + len)`, 0 if the table lacks it. */
  idOf(s: string, at: number, len: number): Id;
}

/**
 * A cursor over a document's text. The grammar above it (the XML-RPC
 * reader) calls `startTag`, `endTag`, `readText` and `skipSpace`; each
 * enforces the well-formedness rules of what it reads and throws a
 * DecodeError at once on a breach. A content error (text where the grammar
 * wants elements, an element inside text) goes to the grammar's `invalid`,
 * with the cursor on a token boundary: the grammar records it and `scanRest`
 * can go on from there, because the document's first well-formedness error,
 * wherever it is, takes precedence over any error of the grammar.
 */
export abstract class XmlLexer<Id extends number = number> {
  protected readonly s: string;
  protected readonly n: number;
  /** The cursor: the next character to read. */
  protected i = 0;
  /** Raw names of the open elements, outermost first; `depth` of them are in use. */
  protected readonly open: string[] = [];
  protected depth = 0;
  protected seenRoot = false;
  protected rootClosed = false;
  /** Set by `startTag`: whether the tag was an empty-element tag `<x/>`. */
  protected tagEmpty = false;
  /** Set by `startTag`: where the tag and its name begin and end (for messages). */
  protected tagStart = 0;
  protected tagNameEnd = 0;
  /** The first element met whose local name is not in the table. */
  protected unknownElement: string | null = null;

  constructor(
    text: string,
    protected readonly maxElementDepth: number,
    private readonly elements: ElementTable<Id>,
  ) {
    this.s = text;
    this.n = text.length;
  }

  /**
   * A content error of the grammar (`message` says what): recorded by the
   * subclass, which throws; the cursor is on a token boundary.
   */
  protected abstract invalid(message: string): never;

  /**
   * Elements nest past `maxElementDepth`: a well-formedness error, at once.
   * A grammar whose element limit derives from a limit of its own overrides
   * this to speak of that one.
   */
  protected elementsTooDeep(): never {
    return fail('ERR_XML_TOO_DEEP', `elements nest deeper than ${this.maxElementDepth} levels`);
  }

  /** A well-formedness error, at once. */
  protected wf(message: string, at: number): never {
    return fail('ERR_XML_NOT_WELL_FORMED', message, this.s, at);
  }

  /** The name of the last start tag, for messages. */
  protected tagName(): string {
    return this.s.slice(this.tagStart + 1, this.tagNameEnd);
  }

  /** The local name of the innermost open element, for messages. */
  protected current(): string {
    const raw = this.open[this.depth - 1] as string;
    return raw.slice(raw.indexOf(':') + 1);
  }

  /** The XML declaration, only at the very start. Returns where to go on. */
  protected xmlDeclaration(): number {
    const s = this.s;
    const plain = plainDeclaration(s);
    if (plain !== 0) return plain;
    if (!s.startsWith('<?xml')) return 0;
    const after = s.charCodeAt(5);
    if (!isWs(after) && after !== QUESTION) return 0; // `<?xml-stylesheet`: a PI
    XML_DECLARATION.lastIndex = 0;
    if (!XML_DECLARATION.test(s)) this.wf('malformed XML declaration', 0);
    return XML_DECLARATION.lastIndex;
  }

  /**
   * Outside the root: white space, comments and processing instructions.
   * Stops at EOF or at a `<` that starts a tag (for `startTag`).
   */
  protected misc(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (isWs(c)) {
        i++;
      } else if (c === LT) {
        const c1 = s.charCodeAt(i + 1);
        if (c1 === QUESTION) i = this.pi(i);
        else if (c1 === BANG) i = s.startsWith('<!--', i) ? this.comment(i) : s.startsWith('<![CDATA[', i) ? this.cdataEnd(i) : this.markupError(i);
        else if (c1 === SLASH) {
          this.i = i;
          this.endTagSlow(); // closes nothing: throws
        } else break;
      } else if (c !== c) {
        break; // EOF
      } else {
        this.wf(this.rootClosed ? 'content after the root element' : 'text before the root element', i);
      }
    }
    this.i = i;
  }

  /**
   * The start tag at the cursor (`<` then not `/`, `!` or `?`): checks it,
   * pushes it unless empty, and returns its element's id in the table (0 if
   * none). Sets `tagEmpty`.
   */
  protected startTag(): Id {
    const s = this.s;
    const lt = this.i;
    let j = lt + 1;
    let c = s.charCodeAt(j);
    let colon = -1;
    if (c < 128 ? NAME_ASCII[c] !== 2 : !isNameStartWide(c)) this.wf("'<' is not followed by an element name", lt);
    for (;;) {
      if (c === COLON && colon < 0) colon = j;
      j += c >= 0xd800 && c <= 0xdbff ? 2 : 1;
      c = s.charCodeAt(j);
      if (c < 128 ? NAME_ASCII[c] === 0 : !isNameCharWide(c)) break;
    }
    const end = j;
    if (this.rootClosed) this.wf('a second root element', lt);
    let empty = false;
    if (c === GT) j++;
    else if (c === SLASH && s.charCodeAt(j + 1) === GT) {
      empty = true;
      j += 2;
    } else {
      j = this.attributes(lt, end);
      empty = this.tagEmpty;
    }
    if (this.depth >= this.maxElementDepth) this.elementsTooDeep();
    this.seenRoot = true;
    const local = colon < 0 ? lt + 1 : colon + 1;
    const id = this.elements.idOf(s, local, end - local);
    if (id === 0 && this.unknownElement === null) this.unknownElement = s.slice(lt + 1, end);
    // A known name without a prefix is the table's string: no slice kept per element.
    if (!empty) this.open[this.depth++] = colon < 0 && id !== 0 ? (this.elements.names[id] as string) : s.slice(lt + 1, end);
    else if (this.depth === 0) this.rootClosed = true;
    this.tagStart = lt;
    this.tagNameEnd = end;
    this.tagEmpty = empty;
    this.i = j;
    return id;
  }

  /**
   * The start tag of `id` in its plain form (`<value>`: no prefix, no
   * attribute, no white space), if the cursor is on one: consumed and pushed,
   * as `startTag` would. Otherwise false, nothing read.
   */
  protected take(id: Id): boolean {
    const tag = this.elements.startTags[id] as string;
    const i = this.i;
    if (!holds(this.s, i, tag)) return false;
    if (this.depth >= this.maxElementDepth) this.elementsTooDeep();
    this.open[this.depth++] = this.elements.names[id] as string;
    this.tagStart = i;
    this.tagNameEnd = i + tag.length - 1;
    this.tagEmpty = false;
    this.i = i + tag.length;
    return true;
  }

  /** The attributes of a start tag: checked (syntax, references, no repeats), then forgotten. */
  private attributes(lt: number, end: number): number {
    const s = this.s;
    let j = end;
    // The names seen, to refuse a repeat: the first alone, the others in a
    // Set (a list would make a tag of n attributes cost n^2).
    let first: string | null = null;
    let names: Set<string> | null = null;
    for (;;) {
      const k = skipWs(s, j);
      const c = s.charCodeAt(k);
      if (c === GT) {
        this.tagEmpty = false;
        return k + 1;
      }
      if (c === SLASH && s.charCodeAt(k + 1) === GT) {
        this.tagEmpty = true;
        return k + 2;
      }
      const tag = s.slice(lt + 1, end);
      if (k === j) this.wf(c !== c ? 'the document ends inside a tag' : `unexpected character in <${tag}>`, k);
      const e = nameEnd(s, k);
      if (e < 0) this.wf(`bad attribute name in <${tag}>`, k);
      const attr = s.slice(k, e);
      j = skipWs(s, e);
      if (s.charCodeAt(j) !== EQUALS) this.wf(`attribute ${attr} has no value`, j);
      j = skipWs(s, j + 1);
      const q = s.charCodeAt(j);
      if (q !== QUOT && q !== APOS) this.wf(`the value of attribute ${attr} is not quoted`, j);
      for (j++; ;) {
        const d = s.charCodeAt(j);
        if (d === q) break;
        if (d !== d) this.wf('the document ends inside an attribute value', j);
        if (d === LT) this.wf(`'<' in the value of attribute ${attr}`, j);
        if (d === AMP) {
          this.reference(j);
          j = this.i;
        } else {
          j++;
        }
      }
      j++;
      if (first === null) {
        first = attr;
      } else {
        if (attr === first || names?.has(attr) === true) this.wf(`attribute ${attr} is repeated`, k);
        (names ??= new Set()).add(attr);
      }
    }
  }

  /** The end tag at the cursor (`</`): it must close the innermost open element. */
  protected endTag(): void {
    const d = this.depth;
    if (d > 0) {
      const s = this.s;
      const raw = this.open[d - 1] as string;
      const e = this.i + 2 + raw.length;
      if (s.charCodeAt(e) === GT && holds(s, this.i + 2, raw)) {
        this.i = e + 1;
        this.depth = d - 1;
        if (d === 1) this.rootClosed = true;
        return;
      }
    }
    this.endTagSlow();
  }

  private endTagSlow(): void {
    const s = this.s;
    const i = this.i;
    const e = nameEnd(s, i + 2);
    if (e < 0) this.wf("'</' is not followed by an element name", i);
    const name = s.slice(i + 2, e);
    const j = skipWs(s, e);
    if (s.charCodeAt(j) !== GT) this.wf(`malformed end tag </${name}>`, j);
    if (this.depth === 0) this.wf(`</${name}> closes nothing`, i);
    const open = this.open[this.depth - 1] as string;
    if (open !== name) this.wf(`</${name}> closes <${open}>`, i);
    if (--this.depth === 0) this.rootClosed = true;
    this.i = j + 1;
  }

  /** `&…;` at `at`: returns the code point it stands for and moves the cursor past it. */
  protected reference(at: number): number {
    const s = this.s;
    let j = at + 1;
    let c = s.charCodeAt(j);
    if (c === HASH) {
      let cp = 0;
      let digits = 0;
      c = s.charCodeAt(++j);
      if (c === 0x78) {
        // x: hexadecimal
        for (c = s.charCodeAt(++j); ; c = s.charCodeAt(++j)) {
          const l = c | 0x20;
          const h = c >= 0x30 && c <= 0x39 ? c - 0x30 : l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
          if (h < 0) break;
          if (cp <= 0x10ffff) cp = cp * 16 + h;
          digits++;
        }
      } else {
        for (; c >= 0x30 && c <= 0x39; c = s.charCodeAt(++j)) {
          if (cp <= 0x10ffff) cp = cp * 10 + (c - 0x30);
          digits++;
        }
      }
      if (digits === 0 || c !== SEMI) this.badReference(at);
      if (!isXmlChar(cp)) this.wf(`${s.slice(at, j + 1)} refers to a character XML 1.0 does not allow`, at);
      this.i = j + 1;
      return cp;
    }
    switch (c) {
      case 0x6c: // lt;
        if (s.charCodeAt(j + 1) === 0x74 && s.charCodeAt(j + 2) === SEMI) return this.predefined(j + 3, LT);
        break;
      case 0x67: // gt;
        if (s.charCodeAt(j + 1) === 0x74 && s.charCodeAt(j + 2) === SEMI) return this.predefined(j + 3, GT);
        break;
      case 0x61: // amp; apos;
        if (s.startsWith('mp;', j + 1)) return this.predefined(j + 4, AMP);
        if (s.startsWith('pos;', j + 1)) return this.predefined(j + 5, APOS);
        break;
      case 0x71: // quot;
        if (s.startsWith('uot;', j + 1)) return this.predefined(j + 5, QUOT);
        break;
    }
    return this.badReference(at);
  }

  private predefined(next: number, c: number): number {
    this.i = next;
    return c;
  }

  private badReference(at: number): never {
    const s = this.s;
    const e = nameEnd(s, at + 1);
    if (e > 0 && s.charCodeAt(e) === SEMI) this.wf(`undefined entity ${s.slice(at, e + 1)}`, at);
    return this.wf("'&' does not start a reference", at);
  }

  /** `<!--…-->` at `at`; returns where it ends. */
  protected comment(at: number): number {
    const end = this.s.indexOf('--', at + 4);
    if (end === -1) this.wf('unterminated comment', at);
    if (this.s.charCodeAt(end + 2) !== GT) this.wf("'--' inside a comment", end);
    return end + 3;
  }

  /** `<?target …?>` at `at`; returns where it ends. */
  protected pi(at: number): number {
    const s = this.s;
    const e = nameEnd(s, at + 2);
    if (e < 0) this.wf("'<?' is not followed by a target name", at);
    if (e - at === 5 && s.slice(at + 2, e).toLowerCase() === 'xml') {
      this.wf('the XML declaration is only allowed at the very start', at);
    }
    let j = e;
    if (!s.startsWith('?>', j)) {
      if (!isWs(s.charCodeAt(j))) this.wf(`malformed processing instruction <?${s.slice(at + 2, e)}`, j);
      j = s.indexOf('?>', j);
      if (j === -1) this.wf('unterminated processing instruction', at);
    }
    return j + 2;
  }

  /** `<![CDATA[` at `at`: returns where its `]]>` is. */
  protected cdataEnd(at: number): number {
    if (this.depth === 0) this.wf('CDATA outside the root element', at);
    const end = this.s.indexOf(']]>', at + 9);
    if (end === -1) this.wf('unterminated CDATA section', at);
    return end;
  }

  /** `<!` that is neither a comment nor CDATA. */
  protected markupError(at: number): never {
    if (this.s.startsWith('<!DOCTYPE', at) && !this.seenRoot) {
      fail('ERR_XML_DOCTYPE', 'a DOCTYPE is not accepted (no entity declarations, no external subsets)');
    }
    return this.wf("'<!' starts neither a comment nor a CDATA section", at);
  }

  private notClosed(at: number): never {
    return this.wf(`<${this.open[this.depth - 1]}> is not closed`, at);
  }

  /**
   * Character data at the cursor, up to the next end tag (or start tag when
   * `stopAtStartTag`): references decoded, CDATA verbatim, comments and
   * processing instructions skipped, line ends normalised. Leaves the
   * cursor on the `<` it stopped at; a start tag otherwise is an XML-RPC error.
   */
  protected readText(stopAtStartTag: boolean): string {
    const s = this.s;
    const start = this.i;
    let i = start;
    // The common case: one run of plain text up to an end tag.
    for (;;) {
      const c = s.charCodeAt(i);
      if (c > GT) {
        i++;
      } else if (c === LT) {
        if (s.charCodeAt(i + 1) !== SLASH) break;
        this.i = i;
        return s.slice(start, i);
      } else if (c === AMP || c === CR || c !== c) {
        break;
      } else {
        if (c === GT && s.charCodeAt(i - 1) === RSQB && s.charCodeAt(i - 2) === RSQB) this.wf("']]>' is not allowed in text", i - 2);
        i++;
      }
    }
    return this.readTextSlow(start, i, stopAtStartTag);
  }

  private readTextSlow(start: number, at: number, stopAtStartTag: boolean): string {
    const s = this.s;
    let out = '';
    let run = start; // start of the raw text not yet in `out`
    let i = at;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === LT) {
        const c1 = s.charCodeAt(i + 1);
        if (c1 === SLASH) break;
        if (c1 === BANG) {
          out += s.slice(run, i);
          if (s.startsWith('<![CDATA[', i)) {
            const end = this.cdataEnd(i);
            out += normaliseLineEnds(s.slice(i + 9, end));
            i = end + 3;
          } else {
            i = s.startsWith('<!--', i) ? this.comment(i) : this.markupError(i);
          }
          run = i;
        } else if (c1 === QUESTION) {
          out += s.slice(run, i);
          i = run = this.pi(i);
        } else {
          if (stopAtStartTag) break;
          this.i = i;
          this.invalid(`<${s.slice(i + 1, Math.max(i + 1, nameEnd(s, i + 1)))}> inside <${this.current()}>`);
        }
      } else if (c === AMP) {
        out += s.slice(run, i);
        const cp = this.reference(i);
        out += cp < 0x10000 ? String.fromCharCode(cp) : String.fromCodePoint(cp);
        i = run = this.i;
      } else if (c === CR) {
        out += s.slice(run, i) + '\n';
        i = run = s.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
      } else if (c !== c) {
        this.notClosed(i);
      } else {
        if (c === GT && s.charCodeAt(i - 1) === RSQB && s.charCodeAt(i - 2) === RSQB) this.wf("']]>' is not allowed in text", i - 2);
        i++;
      }
    }
    this.i = i;
    return out + s.slice(run, i);
  }

  /**
   * Content where only white space may sit between elements (comments and
   * processing instructions aside): stops on the `<` of the next tag. Any
   * other character data is an XML-RPC error.
   */
  protected skipSpace(): void {
    const s = this.s;
    let i = this.i;
    for (;;) {
      const c = s.charCodeAt(i);
      if (c === LT) {
        const c1 = s.charCodeAt(i + 1);
        if (c1 === BANG) {
          if (s.startsWith('<!--', i)) {
            i = this.comment(i);
            continue;
          }
          if (!s.startsWith('<![CDATA[', i)) this.markupError(i);
          const end = this.cdataEnd(i);
          if (!isAllWsIn(s, i + 9, end)) break;
          i = end + 3;
        } else if (c1 === QUESTION) {
          i = this.pi(i);
        } else {
          this.i = i;
          return;
        }
      } else if (c === SP || c === LF || c === TAB || c === CR) {
        i++;
      } else if (c === AMP) {
        if (!isWs(this.reference(i))) break;
        i = this.i;
      } else if (c !== c) {
        this.notClosed(i);
      } else {
        break;
      }
    }
    this.i = i;
    return this.invalid(`text inside <${this.current()}>`);
  }

  // Hooks for `scanRest`, called on the elements and text it meets.
  protected onStart(_parent: number, _id: Id): void {}
  protected onEnd(_index: number): void {}
  protected onText(): void {}

  /**
   * The rest of the document from the cursor, with no values built: every
   * well-formedness rule, and the local names (`unknownElement`). Throws the
   * first well-formedness error.
   */
  protected scanRest(): void {
    const s = this.s;
    const n = this.n;
    let i = this.i;
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === LT) {
        this.i = i;
        const c1 = s.charCodeAt(i + 1);
        if (c1 === SLASH) {
          const index = this.depth - 1;
          this.endTag();
          this.onEnd(index);
        } else if (c1 === QUESTION) {
          this.i = this.pi(i);
        } else if (c1 === BANG) {
          if (s.startsWith('<!--', i)) {
            this.i = this.comment(i);
          } else if (s.startsWith('<![CDATA[', i)) {
            const end = this.cdataEnd(i);
            if (!isAllWsIn(s, i + 9, end)) this.onText();
            this.i = end + 3;
          } else {
            this.markupError(i);
          }
        } else {
          const parent = this.depth - 1;
          this.onStart(parent, this.startTag());
        }
        i = this.i;
      } else if (this.depth === 0) {
        if (!isWs(c)) this.wf(this.rootClosed ? 'content after the root element' : 'text before the root element', i);
        i++;
      } else if (c === AMP) {
        if (!isWs(this.reference(i))) this.onText();
        i = this.i;
      } else {
        for (; i < n; i++) {
          const d = s.charCodeAt(i);
          if (d === LT || d === AMP) break;
          if (d === GT && s.charCodeAt(i - 1) === RSQB && s.charCodeAt(i - 2) === RSQB) this.wf("']]>' is not allowed in text", i - 2);
          if (!isWs(d)) this.onText();
        }
      }
    }
    this.i = n;
    if (!this.seenRoot) this.wf(n === 0 ? 'the document is empty' : 'no root element', n);
    if (this.depth > 0) this.notClosed(n);
  }
}
