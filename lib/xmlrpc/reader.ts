// The XML-RPC reader: a recursive-descent reader of the grammar over the
// XML lexer (xml-lexer.ts, through the element table and error ranking of
// ranking.ts), each value built as its element is read, with no tree.
// Recursion follows only the nesting of arrays and structs, bounded by
// `maxDepth` (<= 1000). Scalars take their fast paths (scalars.ts, and
// int-run.ts for arrays of ints) when written plainly, else the general
// path: the text with its references, CDATA, comments and line ends,
// checked as the reference decoder checks it.

import { Buffer } from 'node:buffer';
import { Fault } from '../errors.js';
import { El } from './elements.js';
import { appendRun, intRun, readIntRun } from './int-run.js';
import { MEMBER_PARTS, RankedLexer } from './ranking.js';
import { base64, numeral, scanBase64, scanNumeral } from './scalars.js';
import { isAllWs, trimWs } from './xml-chars.js';
import { checkCharacters, quote } from './xml-text.js';
import { Double, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, parseDateTime, type XmlRpcStruct, type XmlRpcValue } from './values.js';

/** A call (`methodName` set) or a response as `loads` returns it, or a fault response (not thrown yet). */
export type Document = { methodName: string | null; params: XmlRpcValue[] } | Fault;

// prettier-ignore
const LT = 0x3c, SLASH = 0x2f, BANG = 0x21, QUESTION = 0x3f, MINUS = 0x2d;

const INTEGER = /^[+-]?[0-9]+$/;
const DOUBLE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const XML_WS_RUNS = /[ \t\r\n]+/g;

/** The reader over one document; `document()` reads it. */
export class Reader extends RankedLexer {
  /** The element of the last value read (`String` for an untyped one): a fault's code must be an int. */
  private lastType = El.Unknown;
  /** Inside the struct of a fault: the type of its last `faultCode` member. */
  private inFault = false;
  private faultCodeType = El.Unknown;
  /** [start, end) spans of the text known to hold only base64 and white space: no character check needed. */
  private verified: number[] | null = null;

  /** The document's bytes when pure ASCII (byte i is character i), for the fast path of int arrays. */
  private readonly ascii: Uint8Array | null;
  /** A view of `ascii`, made at the first array: a small call never pays for it. */
  private view: DataView | null = null;

  constructor(
    text: string,
    ascii: Uint8Array | null,
    maxDepth: number,
    private readonly wrapDoubles: boolean,
    private readonly allowNone: boolean,
  ) {
    super(text, maxDepth);
    this.ascii = ascii;
  }

  document(): Document {
    this.i = this.xmlDeclaration();
    this.misc();
    if (this.i >= this.n) this.wf(this.n === 0 ? 'the document is empty' : 'no root element', this.n);
    let root: El;
    if (this.take(El.MethodCall)) root = El.MethodCall;
    else if (this.take(El.MethodResponse)) root = El.MethodResponse;
    else root = this.startTag();
    this.seenRoot = true;
    let doc: Document;
    if (root === El.MethodCall) doc = this.methodCall();
    else if (root === El.MethodResponse) doc = this.methodResponse();
    else return this.invalid(`the root element is <${this.tagName()}>, not <methodCall> or <methodResponse>`);
    this.misc();
    if (this.i < this.n) this.startTag(); // a second root element: throws
    return doc;
  }

  /** After a document is read: checks the characters of the text not verified while reading it. */
  checkCharacters(): void {
    let from = 0;
    const spans = this.verified;
    if (spans !== null) {
      for (let k = 0; k < spans.length; k += 2) {
        checkCharacters(this.s, from, spans[k] as number);
        from = spans[k + 1] as number;
      }
    }
    checkCharacters(this.s, from, this.n);
  }

  /** Is the cursor on an end tag (after `skipSpace`)? */
  private atEnd(): boolean {
    return this.s.charCodeAt(this.i + 1) === SLASH;
  }

  private methodCall(): Document {
    let methodName: string | null = null;
    let params: XmlRpcValue[] | null = null;
    if (!this.tagEmpty) {
      for (;;) {
        this.skipSpace();
        if (this.atEnd()) break;
        const id = this.take(El.MethodName) ? El.MethodName : this.take(El.Params) ? El.Params : this.startTag();
        if (id === El.MethodName && methodName === null) {
          methodName = trimWs(this.scalarText());
          if (methodName === '') this.invalid('empty <methodName>');
          this.closeScalar();
        } else if (id === El.Params && params === null) {
          params = this.params();
        } else {
          this.invalid(`unexpected <${this.tagName()}> in <methodCall>`);
        }
      }
      this.endTag();
    }
    if (methodName === null) return this.invalid('<methodCall> without <methodName>');
    return { methodName, params: params ?? [] };
  }

  private methodResponse(): Document {
    if (this.tagEmpty) return this.invalid('<methodResponse> must hold one <params> or one <fault>');
    this.skipSpace();
    if (this.atEnd()) this.invalid('<methodResponse> must hold one <params> or one <fault>');
    const id = this.take(El.Params) ? El.Params : this.take(El.Fault) ? El.Fault : this.startTag();
    let doc: Document;
    if (id === El.Params) {
      const params = this.params();
      doc = { methodName: null, params };
    } else if (id === El.Fault) {
      doc = this.fault();
    } else {
      return this.invalid(`unexpected <${this.tagName()}> in <methodResponse>`);
    }
    this.skipSpace();
    if (!this.atEnd()) this.invalid('<methodResponse> must hold one <params> or one <fault>');
    this.endTag();
    if (!(doc instanceof Fault) && doc.params.length !== 1) {
      this.invalid(`a <methodResponse> holds exactly one <param>, got ${doc.params.length}`);
    }
    return doc;
  }

  private params(): XmlRpcValue[] {
    const out: XmlRpcValue[] = [];
    if (this.tagEmpty) return out;
    for (;;) {
      this.skipSpace();
      if (this.atEnd()) break;
      if (!this.take(El.Param) && this.startTag() !== El.Param) this.invalid(`unexpected <${this.tagName()}> in <params>`);
      if (this.tagEmpty) this.invalid('a <param> holds exactly one <value>');
      this.skipSpace();
      if (this.atEnd() || (!this.take(El.Value) && this.startTag() !== El.Value)) this.invalid('a <param> holds exactly one <value>');
      out.push(this.tagEmpty ? '' : this.value(0));
      this.skipSpace();
      if (!this.atEnd()) this.invalid('a <param> holds exactly one <value>');
      this.endTag();
    }
    this.endTag();
    return out;
  }

  private fault(): Fault {
    const oneValue = '<fault> must hold exactly one <value>';
    const onlyValue = 'a <fault> holds a <value><struct>';
    if (this.tagEmpty) return this.invalid(oneValue);
    this.skipSpace();
    if (this.atEnd() || (!this.take(El.Value) && this.startTag() !== El.Value)) this.invalid(oneValue);
    if (this.tagEmpty) this.invalid(onlyValue);
    const c1 = this.s.charCodeAt(this.i + 1);
    if (this.s.charCodeAt(this.i) !== LT || c1 === BANG || c1 === QUESTION) {
      if (!isAllWs(this.readText(true))) this.invalid(onlyValue);
    }
    if (this.atEnd() || (!this.take(El.Struct) && this.startTag() !== El.Struct)) this.invalid(onlyValue);
    this.inFault = true;
    const members = this.struct(0);
    this.inFault = false;
    this.skipSpace();
    if (!this.atEnd()) this.invalid(onlyValue);
    this.endTag();
    this.skipSpace();
    if (!this.atEnd()) this.invalid(oneValue);
    this.endTag();
    const faultCode = members['faultCode'];
    const faultString = members['faultString'];
    if (typeof faultCode !== 'number' || (this.faultCodeType !== El.Int && this.faultCodeType !== El.I4)) {
      this.invalid('a fault needs an int faultCode');
    }
    if (typeof faultString !== 'string') this.invalid('a fault needs a string faultString');
    return new Fault(faultCode, faultString);
  }

  /** The content of a non-empty `<value>`; `level` counts the arrays/structs around it. */
  private value(level: number): XmlRpcValue {
    const s = this.s;
    const c1 = s.charCodeAt(this.i + 1);
    if (s.charCodeAt(this.i) !== LT || c1 === BANG || c1 === QUESTION) {
      const text = this.readText(true);
      if (this.atEnd()) {
        this.endTag();
        this.lastType = El.String;
        return text;
      }
      if (!isAllWs(text)) this.invalid('text mixed with a typed child in <value>');
    } else if (c1 === SLASH) {
      this.endTag();
      this.lastType = El.String;
      return '';
    }
    const id = this.typeTag();
    let v: XmlRpcValue;
    switch (id) {
      case El.Int:
      case El.I4:
        v = this.int();
        break;
      case El.String:
        v = this.tagEmpty ? '' : this.string();
        break;
      case El.Struct:
        v = this.struct(level);
        break;
      case El.Array:
        v = this.array(level);
        break;
      case El.Double:
        v = this.double();
        break;
      case El.Boolean:
        v = this.boolean();
        break;
      case El.I8:
        v = this.i8();
        break;
      case El.DateTime:
        v = this.dateTime();
        break;
      case El.Base64:
        v = this.base64();
        break;
      case El.Nil:
        v = this.nil();
        break;
      default:
        return this.invalid(`<${this.tagName()}> is not an XML-RPC type`);
    }
    if (s.charCodeAt(this.i) !== LT || s.charCodeAt(this.i + 1) !== SLASH) {
      this.skipSpace();
      if (!this.atEnd()) this.invalid('a <value> holds one type element');
    }
    this.endTag();
    this.lastType = id;
    return v;
  }

  /** The type element of a value: the plain tags first. */
  private typeTag(): El {
    switch (this.s.charCodeAt(this.i + 1)) {
      case 0x69: // i
        if (this.take(El.Int)) return El.Int;
        if (this.take(El.I4)) return El.I4;
        if (this.take(El.I8)) return El.I8;
        break;
      case 0x73: // s
        if (this.take(El.String)) return El.String;
        if (this.take(El.Struct)) return El.Struct;
        break;
      case 0x61: // a
        if (this.take(El.Array)) return El.Array;
        break;
      case 0x64: // d
        if (this.take(El.Double)) return El.Double;
        if (this.take(El.DateTime)) return El.DateTime;
        break;
      case 0x62: // b
        if (this.take(El.Boolean)) return El.Boolean;
        if (this.take(El.Base64)) return El.Base64;
        break;
    }
    return this.startTag();
  }

  // Scalars. Each has a fast path for the plain form (`<int>42</int>`), and
  // falls back to the general one: the text with its references, CDATA,
  // comments and line ends, checked as the reference decoder checks it.
  // The cursor is left past the end tag; on an error, on the end tag.

  /** The text of a scalar element (the cursor on its end tag), `''` if empty. */
  private scalarText(): string {
    return this.tagEmpty ? '' : this.readText(false);
  }

  private closeScalar(): void {
    if (!this.tagEmpty) this.endTag();
  }

  private int(): number {
    if (!this.tagEmpty) {
      const lt = scanNumeral(this.s, this.i, false);
      const neg = numeral.sign === MINUS;
      const v = numeral.value;
      if (lt >= 0 && v <= (neg ? 2147483648 : 2147483647)) {
        this.i = lt;
        this.endTag();
        return neg && v !== 0 ? -v : v; // "-0" is the integer 0
      }
    }
    const t = trimWs(this.scalarText());
    const name = this.current();
    if (!INTEGER.test(t)) this.invalid(`<${name}> holds ${quote(t)}, not an integer`);
    const n = Number(t);
    if (n < INT32_MIN || n > INT32_MAX) this.invalid(`<${name}>${quote(t)} is out of the int32 range`);
    this.closeScalar();
    return n === 0 ? 0 : n;
  }

  private i8(): bigint {
    if (!this.tagEmpty) {
      const lt = scanNumeral(this.s, this.i, false);
      // Up to 15 digits the value is exact in a double.
      if (lt >= 0 && numeral.digits <= 15) {
        this.i = lt;
        this.endTag();
        return BigInt(numeral.sign === MINUS ? -numeral.value : numeral.value);
      }
    }
    const t = trimWs(this.scalarText());
    if (!INTEGER.test(t)) this.invalid(`<i8> holds ${quote(t)}, not an integer`);
    // Past 19 significant digits, out of range: no BigInt of a megabyte of digits.
    const n = t.length - t.search(/[1-9]|$/) > 19 ? INT64_MAX + 1n : BigInt(t);
    if (n < INT64_MIN || n > INT64_MAX) this.invalid(`<i8>${quote(t)} is out of the int64 range`);
    this.closeScalar();
    return n;
  }

  private boolean(): boolean {
    if (!this.tagEmpty) {
      const lt = scanNumeral(this.s, this.i, false);
      if (lt >= 0 && numeral.sign === 0 && numeral.digits === 1 && numeral.value <= 1) {
        this.i = lt;
        this.endTag();
        return numeral.value === 1;
      }
    }
    const t = trimWs(this.scalarText());
    if (t !== '1' && t !== '0') this.invalid(`<boolean> holds ${quote(t)}, not 0 or 1`);
    this.closeScalar();
    return t === '1';
  }

  private double(): number | Double {
    if (!this.tagEmpty) {
      const lt = scanNumeral(this.s, this.i, true);
      if (lt >= 0) {
        const n = Number(this.s.slice(numeral.start, numeral.end));
        if (n - n === 0) {
          // finite
          this.i = lt;
          this.endTag();
          return this.wrapDoubles ? new Double(n) : n;
        }
      }
    }
    const t = trimWs(this.scalarText());
    const n = DOUBLE.test(t) ? Number(t) : NaN;
    if (!Number.isFinite(n)) this.invalid(`<double> holds ${quote(t)}, not a finite decimal number`);
    this.closeScalar();
    return this.wrapDoubles ? new Double(n) : n;
  }

  private string(): string {
    const text = this.readText(false);
    this.endTag();
    return text;
  }

  private dateTime(): Date {
    const t = trimWs(this.scalarText());
    const date = parseDateTime(t);
    if (date === null) return this.invalid(`<dateTime.iso8601> holds ${quote(t)}, not an ISO 8601 date and time`);
    this.closeScalar();
    return date;
  }

  private base64(): Buffer {
    if (!this.tagEmpty) {
      const start = this.i;
      const lt = scanBase64(this.s, start);
      if (lt >= 0) {
        if (base64.canonical) (this.verified ??= []).push(start, lt);
        this.i = lt;
        this.endTag();
        return base64.bytes;
      }
    }
    const compact = this.scalarText().replace(XML_WS_RUNS, '');
    const padded = compact.endsWith('=');
    if (!BASE64.test(compact) || (padded ? compact.length % 4 !== 0 : compact.length % 4 === 1)) {
      this.invalid('<base64> holds characters or padding that are not base64');
    }
    this.closeScalar();
    return Buffer.from(compact, 'base64');
  }

  private nil(): null {
    if (!this.allowNone) this.invalid('<nil/> is refused here (allowNone: false)');
    if (!isAllWs(this.scalarText())) this.invalid('<nil/> must be empty');
    this.closeScalar();
    return null;
  }

  // Containers

  private array(level: number): XmlRpcValue[] {
    if (level + 1 > this.maxDepth) this.tooDeep();
    const onlyData = '<array> must hold exactly one <data>';
    if (this.tagEmpty) return this.invalid(onlyData);
    this.skipSpace();
    if (this.atEnd() || (!this.take(El.Data) && this.startTag() !== El.Data)) this.invalid(onlyData);
    let out: XmlRpcValue[] = [];
    if (!this.tagEmpty) {
      // Room for <value><int> inside <data>: else the general path reports the depth.
      const ints = this.depth + 2 <= this.maxElementDepth;
      const ascii = this.ascii;
      const view = ascii === null ? null : (this.view ??= new DataView(ascii.buffer, ascii.byteOffset, ascii.byteLength));
      for (;;) {
        if (ints) {
          const k = readIntRun(this.s, view, this.i);
          if (k > 0) {
            this.i = intRun.end;
            out = appendRun(out, k);
            this.lastType = intRun.i4 ? El.I4 : El.Int;
          }
        }
        this.skipSpace();
        if (this.atEnd()) break;
        if (!this.take(El.Value) && this.startTag() !== El.Value) this.invalid(`unexpected <${this.tagName()}> in <data>`);
        out.push(this.tagEmpty ? '' : this.value(level + 1));
      }
      this.endTag();
    }
    this.skipSpace();
    if (!this.atEnd()) this.invalid(onlyData);
    this.endTag();
    return out;
  }

  private struct(level: number): XmlRpcStruct {
    if (level + 1 > this.maxDepth) this.tooDeep();
    // A null-prototype object: `__proto__` is an own key like any other.
    const out = Object.create(null) as XmlRpcStruct;
    if (this.tagEmpty) return out;
    for (;;) {
      this.skipSpace();
      if (this.atEnd()) break;
      if (!this.take(El.Member) && this.startTag() !== El.Member) this.invalid(`unexpected <${this.tagName()}> in <struct>`);
      if (this.tagEmpty) this.invalid(MEMBER_PARTS);
      let key: string | null = null;
      let value: XmlRpcValue = null;
      let hasValue = false;
      for (;;) {
        this.skipSpace();
        if (this.atEnd()) break;
        const id = this.take(El.Name) ? El.Name : this.take(El.Value) ? El.Value : this.startTag();
        if (id === El.Name && key === null) {
          key = this.tagEmpty ? '' : this.string();
        } else if (id === El.Value && !hasValue) {
          if (this.tagEmpty) {
            value = '';
            this.lastType = El.String;
          } else if (key !== null) {
            value = this.value(level + 1);
          } else {
            (this.nameless ??= []).push(this.depth - 2); // the member, for tooDeep
            value = this.value(level + 1);
            this.nameless.pop();
          }
          hasValue = true;
        } else {
          this.invalid(`${MEMBER_PARTS}, got another <${this.tagName()}>`);
        }
      }
      if (key === null || !hasValue) return this.invalid(MEMBER_PARTS);
      this.endTag();
      out[key] = value;
      if (this.inFault && level === 0 && key === 'faultCode') this.faultCodeType = this.lastType;
    }
    this.endTag();
    return out;
  }
}
