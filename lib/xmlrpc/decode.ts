// XML-RPC unmarshalling: bytes to values in one pass, with no tree.
//   1. xml-text.ts: bytes -> text (BOM, declared encoding); xml-lexer.ts: a lexer
//      that enforces well-formedness token by token.
//   2. Here, a recursive-descent reader of the XML-RPC grammar over that
//      lexer: each value is built as its element is read. Recursion follows
//      only the nesting of arrays and structs, bounded by `maxDepth` (<= 1000).
//   3. The characters XML forbids are looked for once the document is read,
//      in one regexp pass that skips the long base64 contents the reader has
//      already verified; on any error, in the whole text first.
//
// Errors are reported as the reference decoder (test/reference-decode.ts: a
// well-formedness scan, then fast-xml-parser, then a walk) reports them,
// which is the order a client can rely on:
//   - a character XML forbids, anywhere;
//   - else the first well-formedness error in document order (including a
//     DOCTYPE and elements nested past 3 * maxDepth + 5);
//   - else an element that is not XML-RPC, anywhere;
//   - else the first XML-RPC error in the order of a walk that checks a
//     node's list of children before descending into them.
// So an XML-RPC error does not stop the reading: it is recorded, and the
// rest of the document is scanned for a well-formedness error that would
// take precedence (`settle`). Nesting past maxDepth is the one XML-RPC error
// whose rank depends on what follows: a list check of an enclosing element
// (text, a second child...) comes before it in the walk, so those checks go
// on for the open ancestors while the rest is scanned (`onStart`...).

import { DecodeError, Fault } from '../errors.js';
import { XmlLexer } from './xml-lexer.js';
import { El, ELEMENT_NAMES, XMLRPC_ELEMENTS, elementOf } from './elements.js';
import { holds, isAllWs, trimWs } from './xml-chars.js';
import { checkCharacters, documentText, fail, quote } from './xml-text.js';
import {
  Double,
  INT32_MAX,
  INT32_MIN,
  INT64_MAX,
  INT64_MIN,
  parseDateTime,
  type XmlRpcStruct,
  type XmlRpcValue,
} from './values.js';

export interface DecodeOptions {
  /** Levels of array/struct nesting allowed (default 64, at most 1000). */
  maxDepth?: number;
  /**
   * Largest document accepted, in bytes (a string counts its UTF-8 length);
   * default: no limit here, the HTTP layer's body limit applies first.
   */
  maxBytes?: number;
  /**
   * Decode every `<double>` as a `Double` (which acts as its number in
   * arithmetic), so that a value sent back, as by an echo or a relay, keeps
   * its wire type: a plain `2.0` would go back as `<int>2</int>`. Default false.
   */
  wrapDoubles?: boolean;
}

export const DEFAULT_DECODE_MAX_DEPTH = 64;
/** The reader recurses once per array/struct level: this bounds its stack whatever the option says. */
const MAX_DEPTH_CEILING = 1000;

export interface LoadsResult {
  /** The method of a methodCall; `null` for a methodResponse. */
  methodName: string | null;
  params: XmlRpcValue[];
}

/**
 * Python's `xmlrpc.client.loads`: a methodCall gives `{ methodName, params }`,
 * a methodResponse `{ methodName: null, params: [value] }`, and a fault
 * response is thrown as a `Fault`. Anything malformed throws a `DecodeError`.
 */
export function loads(data: Buffer | Uint8Array | string, options?: DecodeOptions): LoadsResult {
  const doc = decodeDocument(data, options);
  if (doc instanceof Fault) throw doc;
  return doc;
}

/** A server's entry point: the document must be a methodCall. */
export function parseMethodCall(
  data: Buffer | Uint8Array | string,
  options?: DecodeOptions,
): { methodName: string; params: XmlRpcValue[] } {
  const doc = decodeDocument(data, options);
  if (doc instanceof Fault || doc.methodName === null) {
    throw new DecodeError('ERR_XMLRPC_INVALID', 'expected a <methodCall>, got a <methodResponse>');
  }
  return doc as { methodName: string; params: XmlRpcValue[] };
}

/** A client's entry point: the result value, or the server's `Fault` thrown. */
export function parseMethodResponse(data: Buffer | Uint8Array | string, options?: DecodeOptions): XmlRpcValue {
  const doc = decodeDocument(data, options);
  if (doc instanceof Fault) throw doc;
  if (doc.methodName !== null) throw new DecodeError('ERR_XMLRPC_INVALID', 'expected a <methodResponse>, got a <methodCall>');
  return doc.params[0] as XmlRpcValue;
}

/** A call or a response as `loads` returns it, or a fault response (not thrown yet). */
type Document = LoadsResult | Fault;

/**
 * Checks the options and the document's size against `maxBytes` (shared
 * with the reference decoder); returns the depth limit.
 */
export function checkDecodeOptions(data: Buffer | Uint8Array | string, options: DecodeOptions | undefined): number {
  const maxDepth = options?.maxDepth ?? DEFAULT_DECODE_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > MAX_DEPTH_CEILING) {
    throw new RangeError(`maxDepth must be an integer in [0, ${MAX_DEPTH_CEILING}], got ${maxDepth}`);
  }
  const maxBytes = options?.maxBytes ?? Infinity;
  if (!(maxBytes >= 0)) throw new RangeError(`maxBytes must be a non-negative number, got ${maxBytes}`);
  if (maxBytes !== Infinity) {
    const size = typeof data === 'string' ? Buffer.byteLength(data, 'utf8') : data.byteLength;
    if (size > maxBytes) fail('ERR_XML_TOO_LARGE', `the document is ${size} bytes, more than maxBytes (${maxBytes})`);
  }
  return maxDepth;
}

function decodeDocument(data: Buffer | Uint8Array | string, options: DecodeOptions | undefined): Document {
  const maxDepth = checkDecodeOptions(data, options);
  const { text, ascii } = documentText(data);
  const reader = new Reader(text, ascii, maxDepth, options?.wrapDoubles === true);
  let doc: Document;
  try {
    doc = reader.document();
  } catch (err) {
    checkCharacters(text, 0, text.length); // a character XML forbids ranks first
    if (err !== DEFERRED) throw err;
    throw reader.settle();
  }
  reader.checkCharacters();
  return doc;
}

// ---------------------------------------------------------------------------
// The grammar

const LT = 0x3c, GT = 0x3e, SLASH = 0x2f, BANG = 0x21, QUESTION = 0x3f;
const SP = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;
const ZERO = 0x30, NINE = 0x39, PLUS = 0x2b, MINUS = 0x2d, DOT = 0x2e, EQUALS = 0x3d;

const INTEGER = /^[+-]?[0-9]+$/;
const DOUBLE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Base64 contents from this length are checked by re-encoding them (see `base64`). */
const LONG_BASE64 = 256;
const XML_WS_RUNS = /[ \t\r\n]+/g;

/** 1 for the characters of the base64 alphabet (not `=`). */
const BASE64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_ALPHABET[c.charCodeAt(0)] = 1;

/** ASCII characters as little-endian words, for `plainIntBytes`. */
function word(s: string): number {
  let w = 0;
  for (let k = s.length - 1; k >= 0; k--) w = w * 256 + s.charCodeAt(k);
  return w;
}
const W_VAL = word('<val'), W_UE = word('ue><'), W_NT = word('nt'), W_4 = word('4>');
const W_CLOSE_IN = word('</in'), W_T_CLOSE = word('t></'), W_VALU = word('valu'), W_E_GT = word('e>');
const W_CLOSE_I4 = word('</i4'), W_CLOSE_V = word('></v'), W_ALUE = word('alue');

/** The ints of a run of plain ones (see `array`), shared: a run holds no other value. */
let run = new Int32Array(1024);
/** Past this many entries, `run` is dropped after use. */
const KEEP_RUN = 1 << 16;

function growRun(): void {
  const next = new Int32Array(run.length * 2);
  next.set(run);
  run = next;
}

/** `out` followed by the first `k` ints of `run`. */
function appendRun(out: XmlRpcValue[], k: number): XmlRpcValue[] {
  let i = out.length;
  if (i === 0) out = new Array<XmlRpcValue>(k);
  for (let j = 0; j < k; j++) out[i++] = run[j] as number;
  if (run.length > KEEP_RUN) run = new Int32Array(1024);
  return out;
}

const MEMBER_PARTS = 'a <member> holds exactly one <name> and one <value>';

/** Thrown (not an Error: no stack captured) when an XML-RPC error is found; see `Reader.invalid`. */
const DEFERRED: unique symbol = Symbol('deferred XML-RPC error');

class Reader extends XmlLexer {
  /** The first XML-RPC error, raised once the document is known to be well formed. */
  private deferred: DecodeError | null = null;
  /** The element of the last value read (`String` for an untyped one): a fault's code must be an int. */
  private lastType = El.Unknown;
  /** The int `plainInt` read. */
  private intValue = 0;
  /** Inside the struct of a fault: the type of its last `faultCode` member. */
  private inFault = false;
  private faultCodeType = El.Unknown;
  /** Open members whose <value> came before their <name> (indexes into `open`), when any. */
  private nameless: number[] | null = null;
  // After nesting past maxDepth: the open ancestors whose checks still rank
  // before it, and their state.
  private ancestors = 0;
  private children: number[] | null = null;
  private named: boolean[] | null = null;
  /** The index of a <name> of an ancestor member being read, or -1. */
  private probe = -1;
  private listError: DecodeError | null = null;
  /** [start, end) spans of the text known to hold only base64 and white space: no character check needed. */
  private verified: number[] | null = null;

  /** The document's bytes when pure ASCII (byte i is character i), for the fast path of int arrays. */
  private readonly ascii: Uint8Array | null;
  /** A view of `ascii`, made at the first array: a small call never pays for it. */
  private view: DataView | null = null;

  constructor(
    text: string,
    ascii: Uint8Array | null,
    private readonly maxDepth: number,
    private readonly wrapDoubles: boolean,
  ) {
    // Element depth of a scalar inside `maxDepth` nested containers:
    // methodCall/params/param/value, then array/data/value per level, then the type.
    super(text, 3 * maxDepth + 5, XMLRPC_ELEMENTS);
    this.ascii = ascii;
  }

  /** Records an XML-RPC error and throws DEFERRED; the cursor must be on a token boundary. */
  protected invalid(message: string): never {
    if (this.deferred === null) this.deferred = new DecodeError('ERR_XMLRPC_INVALID', message);
    throw DEFERRED;
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

  /** After DEFERRED: the error the document is refused with (thrown if well-formedness fails). */
  settle(): DecodeError {
    this.scanRest();
    if (this.unknownElement !== null) return new DecodeError('ERR_XMLRPC_INVALID', `<${this.unknownElement}> is not an XML-RPC element`);
    return this.listError ?? (this.deferred as DecodeError);
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
      const s = this.s;
      let i = this.i;
      let c = s.charCodeAt(i);
      while (c === SP || c === LF || c === TAB || c === CR) c = s.charCodeAt(++i);
      const neg = c === MINUS;
      if (neg || c === PLUS) c = s.charCodeAt(++i);
      const first = i;
      let v = 0;
      while (c >= ZERO && c <= NINE) {
        v = v * 10 + (c - ZERO);
        c = s.charCodeAt(++i);
      }
      if (i > first) {
        while (c === SP || c === LF || c === TAB || c === CR) c = s.charCodeAt(++i);
        if (c === LT && s.charCodeAt(i + 1) === SLASH && v <= (neg ? 2147483648 : 2147483647)) {
          this.i = i;
          this.endTag();
          return neg && v !== 0 ? -v : v; // "-0" is the integer 0
        }
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
      const s = this.s;
      let i = this.i;
      let c = s.charCodeAt(i);
      while (c === SP || c === LF || c === TAB || c === CR) c = s.charCodeAt(++i);
      const neg = c === MINUS;
      if (neg || c === PLUS) c = s.charCodeAt(++i);
      const first = i;
      let v = 0;
      while (c >= ZERO && c <= NINE) {
        v = v * 10 + (c - ZERO);
        c = s.charCodeAt(++i);
      }
      if (i > first && i - first <= 15) {
        while (c === SP || c === LF || c === TAB || c === CR) c = s.charCodeAt(++i);
        if (c === LT && s.charCodeAt(i + 1) === SLASH) {
          this.i = i;
          this.endTag();
          return BigInt(neg ? -v : v);
        }
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
      const s = this.s;
      let i = this.i;
      let c = s.charCodeAt(i);
      while (c === SP || c === LF || c === TAB || c === CR) c = s.charCodeAt(++i);
      const digit = c;
      c = s.charCodeAt(++i);
      while (c === SP || c === LF || c === TAB || c === CR) c = s.charCodeAt(++i);
      if ((digit === 0x30 || digit === 0x31) && c === LT && s.charCodeAt(i + 1) === SLASH) {
        this.i = i;
        this.endTag();
        return digit === 0x31;
      }
    }
    const t = trimWs(this.scalarText());
    if (t !== '1' && t !== '0') this.invalid(`<boolean> holds ${quote(t)}, not 0 or 1`);
    this.closeScalar();
    return t === '1';
  }

  private double(): number | Double {
    if (!this.tagEmpty) {
      const s = this.s;
      let i = this.i;
      let c = s.charCodeAt(i);
      while (c === SP || c === LF || c === TAB || c === CR) c = s.charCodeAt(++i);
      const start = i;
      if (c === PLUS || c === MINUS) c = s.charCodeAt(++i);
      let digits = 0;
      for (; c >= ZERO && c <= NINE; c = s.charCodeAt(++i)) digits++;
      if (c === DOT) for (c = s.charCodeAt(++i); c >= ZERO && c <= NINE; c = s.charCodeAt(++i)) digits++;
      if ((c | 0x20) === 0x65 && digits > 0) { // e or E
        c = s.charCodeAt(++i);
        if (c === PLUS || c === MINUS) c = s.charCodeAt(++i);
        const first = i;
        for (; c >= ZERO && c <= NINE; c = s.charCodeAt(++i));
        if (i === first) digits = 0;
      }
      const end = i;
      while (c === SP || c === LF || c === TAB || c === CR) c = s.charCodeAt(++i);
      if (digits > 0 && c === LT && s.charCodeAt(i + 1) === SLASH) {
        const n = Number(s.slice(start, end));
        if (n - n === 0) { // finite
          this.i = i;
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
      const s = this.s;
      const start = this.i;
      const end = s.indexOf('<', start);
      if (end - start >= LONG_BASE64 && s.charCodeAt(end + 1) === SLASH) {
        // What encoders write, canonical base64 (padded, zero trailing bits),
        // reads back to itself: decoding, encoding and comparing checks it
        // at native speed. White space (Python's line breaks) aside.
        const text = s.slice(start, end);
        const bytes = Buffer.from(text, 'base64');
        const canonical = bytes.toString('base64');
        if (canonical === text || (canonical.length < text.length && text.replace(XML_WS_RUNS, '') === canonical)) {
          (this.verified ??= []).push(start, end);
          this.i = end;
          this.endTag();
          return bytes;
        }
      }
      let i = start;
      let count = 0; // characters other than white space
      let pad = 0;
      for (;;) {
        const c = s.charCodeAt(i);
        if (c < 128 && BASE64_ALPHABET[c] === 1) {
          if (pad !== 0) break;
          count++;
        } else if (c === EQUALS) {
          if (++pad > 2) break;
          count++;
        } else if (!(c === SP || c === LF || c === TAB || c === CR)) {
          break;
        }
        i++;
      }
      if (s.charCodeAt(i) === LT && s.charCodeAt(i + 1) === SLASH && (pad !== 0 ? count % 4 === 0 : count % 4 !== 1)) {
        this.i = i;
        this.endTag();
        // Buffer.from skips white space inside base64.
        return Buffer.from(s.slice(start, i), 'base64');
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
          // A run of plain ints, gathered in `run` then copied out at once:
          // one allocation for the array, not one per doubling.
          let k = 0;
          for (let next; (next = view !== null ? this.plainIntBytes(view) : this.plainInt()) > 0; this.i = next) {
            if (k === run.length) growRun();
            run[k++] = this.intValue;
          }
          if (k > 0) out = appendRun(out, k);
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

  /**
   * The fast path of an array of ints: `<value><int>N</int></value>` (or
   * `<i4>`) at the cursor exactly, no white space, no sign but `-`/`+`, an
   * int32: pushed onto `out`, returns where it ends. Anything else: 0,
   * nothing read, and the general path takes the element.
   */
  private plainInt(): number {
    const s = this.s;
    let i = this.i;
    if (!holds(s, i, '<value><i')) return 0;
    i += 9;
    let c = s.charCodeAt(i);
    let i4: boolean;
    if (c === 0x6e && s.charCodeAt(i + 1) === 0x74 && s.charCodeAt(i + 2) === GT) { // nt>
      i4 = false;
      i += 3;
    } else if (c === 0x34 && s.charCodeAt(i + 1) === GT) { // 4>
      i4 = true;
      i += 2;
    } else {
      return 0;
    }
    c = s.charCodeAt(i);
    const neg = c === MINUS;
    if (neg || c === PLUS) c = s.charCodeAt(++i);
    const first = i;
    let v = 0;
    while (c >= ZERO && c <= NINE) {
      v = v * 10 + (c - ZERO);
      c = s.charCodeAt(++i);
    }
    if (i === first || i - first > 10 || v > (neg ? 2147483648 : 2147483647)) return 0;
    if (i4) {
      if (!holds(s, i, '</i4></value>')) return 0;
      i += 13;
    } else {
      if (!holds(s, i, '</int></value>')) return 0;
      i += 14;
    }
    this.intValue = neg && v !== 0 ? -v : v; // "-0" is the integer 0
    this.lastType = i4 ? El.I4 : El.Int;
    return i;
  }

  /** `plainInt` over the ASCII bytes of the document, four at a time. */
  private plainIntBytes(view: DataView): number {
    let i = this.i;
    // The longest element read here: <value><int>-2147483648</int></value>.
    if (i + 37 > view.byteLength) return this.plainInt();
    if (view.getUint32(i, true) !== W_VAL || view.getUint32(i + 4, true) !== W_UE || view.getUint8(i + 8) !== 0x69) return 0;
    i += 9;
    let i4: boolean;
    if (view.getUint16(i, true) === W_NT && view.getUint8(i + 2) === GT) { // nt>
      i4 = false;
      i += 3;
    } else if (view.getUint16(i, true) === W_4) { // 4>
      i4 = true;
      i += 2;
    } else {
      return 0;
    }
    let c = view.getUint8(i);
    const neg = c === MINUS;
    if (neg || c === PLUS) c = view.getUint8(++i);
    const first = i;
    let v = 0;
    while (c >= ZERO && c <= NINE && i - first < 11) {
      v = v * 10 + (c - ZERO);
      c = view.getUint8(++i);
    }
    if (i === first || i - first > 10 || v > (neg ? 2147483648 : 2147483647)) return 0;
    if (i4) {
      if (view.getUint32(i, true) !== W_CLOSE_I4 || view.getUint32(i + 4, true) !== W_CLOSE_V || view.getUint32(i + 8, true) !== W_ALUE ||
        view.getUint8(i + 12) !== GT) return 0;
      i += 13;
    } else {
      if (view.getUint32(i, true) !== W_CLOSE_IN || view.getUint32(i + 4, true) !== W_T_CLOSE || view.getUint32(i + 8, true) !== W_VALU ||
        view.getUint16(i + 12, true) !== W_E_GT) return 0;
      i += 14;
    }
    this.intValue = neg && v !== 0 ? -v : v; // "-0" is the integer 0
    this.lastType = i4 ? El.I4 : El.Int;
    return i;
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

  // Nesting past maxDepth

  /**
   * The array/struct just opened nests past maxDepth. Recorded like any
   * XML-RPC error, but the open ancestors keep their list checks, which rank
   * before it, while `scanRest` reads on (the hooks below).
   */
  private tooDeep(): never {
    this.deferred = new DecodeError('ERR_XML_TOO_DEEP', `arrays/structs nest deeper than ${this.maxDepth} levels`);
    const ancestors = this.tagEmpty ? this.depth : this.depth - 1;
    this.ancestors = ancestors;
    // Every ancestor already holds one child element: the one on the path here.
    this.children = new Array<number>(ancestors).fill(1);
    const named = (this.named = new Array<boolean>(ancestors).fill(true));
    for (const member of this.nameless ?? []) named[member] = false;
    throw DEFERRED;
  }

  private listInvalid(message: string): void {
    if (this.listError === null) this.listError = new DecodeError('ERR_XMLRPC_INVALID', message);
  }

  protected override onStart(parent: number, id: number): void {
    if (parent === this.probe) this.listInvalid(`an element inside <name>`);
    if (parent < 0 || parent >= this.ancestors) return;
    const children = this.children as number[];
    const named = this.named as boolean[];
    const kind = elementOf(this.open[parent] as string);
    switch (kind) {
      case El.Value:
      case El.Param:
      case El.Array:
      case El.Fault:
      case El.MethodResponse:
        if (++children[parent]! > 1) this.listInvalid(`a second child element in <${ELEMENT_NAMES[kind]}>`);
        break;
      case El.Member:
        if (id === El.Name && named[parent] === false) {
          named[parent] = true;
          if (!this.tagEmpty) this.probe = parent + 1;
        } else {
          this.listInvalid(MEMBER_PARTS);
        }
        break;
      default: // methodCall, params, data, struct: their children are checked one by one
        break;
    }
  }

  protected override onEnd(index: number): void {
    if (index === this.probe) this.probe = -1;
    if (index < this.ancestors) {
      this.ancestors = index;
      if ((this.named as boolean[])[index] === false) this.listInvalid(MEMBER_PARTS);
    }
  }

  protected override onText(): void {
    if (this.depth - 1 < this.ancestors) this.listInvalid(`text inside <${this.current()}>`);
  }
}
