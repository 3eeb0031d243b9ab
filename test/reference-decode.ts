// The reference decoder: the fast-xml-parser pipeline the framework shipped
// before the pull decoder (lib/xmlrpc/decode.ts), kept as the oracle of the
// differential test (test/codec-differential.test.ts). It is on no hot path.
// It shares no checking code with the decoder it checks: it has its own
// option checks, bytes -> text, XML character check, well-formedness scan,
// dateTime reader and error helpers, so that a change to any of lib/xmlrpc's
// checks (xml-text.ts, the lexer, decode.ts, values.ts' parseDateTime) makes
// the two disagree. From lib it takes only data: the error and value classes
// and the option and result types.
//   1. Options, then bytes -> text: BOM, then the `encoding` of the XML
//      declaration (UTF-8 by default), decoded strictly; then every
//      character checked against XML 1.0's Char production.
//   2. A linear, non-recursive well-formedness scan of our own: fast-xml-parser
//      is lenient (mismatched tags, junk after the root, undefined entities and
//      `<![CDATX[` all pass), and its XMLValidator lets most of that through
//      too. The scan also refuses any DOCTYPE, stops at the element-depth
//      limit before anything recursive runs, checks every reference, and
//      refuses element names that are not XML-RPC, so the parser never meets
//      `__proto__` or `constructor` tags.
//   3. fast-xml-parser builds an ordered tree, with entity processing off
//      (we decode the five predefined entities and character references
//      ourselves) and with processing instructions cut out first (its PI
//      reader skips quoted strings, so `<?pi don't?>` swallows what follows).
//   4. A walk keyed by tag turns the tree into values, or throws a
//      DecodeError with the interop fault code.

import { XMLParser } from 'fast-xml-parser';
import { DecodeError, Fault, type DecodeErrorCode } from '../lib/errors.js';
import type { DecodeOptions, LoadsResult } from '../lib/xmlrpc/decode.js';
import { Double, type XmlRpcStruct, type XmlRpcValue } from '../lib/xmlrpc/values.js';

/** `loads` as it was: `{ methodName, params }`, a fault response thrown as a `Fault`. */
export function referenceLoads(data: Buffer | Uint8Array | string, options?: DecodeOptions): LoadsResult {
  const doc = decodeDocument(data, options);
  switch (doc.kind) {
    case 'call':
      return { methodName: doc.methodName, params: doc.params };
    case 'response':
      return { methodName: null, params: [doc.value] };
    case 'fault':
      throw new Fault(doc.faultCode, doc.faultString);
  }
}

type Document =
  | { kind: 'call'; methodName: string; params: XmlRpcValue[] }
  | { kind: 'response'; value: XmlRpcValue }
  | { kind: 'fault'; faultCode: number; faultString: string };

function decodeDocument(data: Buffer | Uint8Array | string, options: DecodeOptions | undefined): Document {
  const maxDepth = checkOptions(data, options);
  const text = checkedText(data);
  // Element depth of a scalar inside `maxDepth` nested containers:
  // methodCall/params/param/value, then array/data/value per level, then the type.
  const maxElementDepth = 3 * maxDepth + 5;
  const tree = parse(wellFormed(text, maxElementDepth), maxElementDepth);
  return new Walker(maxDepth, options?.wrapDoubles === true).document(tree);
}

// ---------------------------------------------------------------------------
// 3. fast-xml-parser

type RawNode = Record<string, unknown>;

const TEXT = '#text';
const CDATA = '#cdata';
const parsers = new Map<number, XMLParser>();

function parse(text: string, maxElementDepth: number): RawNode[] {
  let parser = parsers.get(maxElementDepth);
  if (parser === undefined) {
    parser = new XMLParser({
      preserveOrder: true, // mixed content keeps its order: text, CDATA and elements
      ignoreAttributes: true,
      removeNSPrefix: true, // <ex:nil/> is <nil/>
      parseTagValue: false, // text stays text: we type it by tag
      trimValues: false, // string content is kept exactly
      processEntities: false, // only ours: the five predefined ones and character references
      htmlEntities: false,
      cdataPropName: CDATA, // CDATA stays apart: it is not entity-decoded
      commentPropName: false,
      ignoreDeclaration: true,
      ignorePiTags: true,
      jPath: false, // no path strings built per node
      maxNestedTags: maxElementDepth + 8, // the scan already enforced the real limit
    });
    if (parsers.size < 16) parsers.set(maxElementDepth, parser);
  }
  try {
    return parser.parse(text) as RawNode[];
  } catch (err) {
    // Unreachable for a document the scan accepted; kept so that no parser error escapes.
    return fail('ERR_XML_NOT_WELL_FORMED', `XML parser: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------
// 4. Tree to values

interface Element {
  name: string;
  children: RawNode[];
}

interface Content {
  elements: Element[];
  /** Character data, references decoded, CDATA verbatim, in document order. */
  text: string;
}

const CHARACTER_REFERENCE = /&(?:#x([0-9a-fA-F]+)|#([0-9]+)|(lt|gt|amp|quot|apos));/g;
const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const INTEGER = /^[+-]?[0-9]+$/;
const DOUBLE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const XML_WS_RUNS = /[ \t\r\n]+/g;

function decodeReferences(raw: string): string {
  if (!raw.includes('&')) return raw;
  return raw.replace(CHARACTER_REFERENCE, (_, hexDigits: string | undefined, dec: string | undefined, named: string | undefined) =>
    named !== undefined ? (NAMED[named] as string) : String.fromCodePoint(hexDigits !== undefined ? parseInt(hexDigits, 16) : Number(dec)),
  );
}

/** Trims XML white space only (String#trim also eats U+00A0, U+FEFF...). */
function trimWs(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && isWs(text.charCodeAt(start))) start++;
  while (end > start && isWs(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}

function isAllWs(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (!isWs(text.charCodeAt(i))) return false;
  return true;
}

function contentOf(children: RawNode[]): Content {
  const elements: Element[] = [];
  let text = '';
  for (const node of children) {
    const key = Object.keys(node)[0] as string;
    const val = node[key];
    if (key === TEXT) text += decodeReferences(String(val));
    else if (key === CDATA)
      for (const part of val as RawNode[]) text += (part[TEXT] as string | undefined) ?? ''; // text is a string (parseTagValue: false)
    else elements.push({ name: key, children: val as RawNode[] });
  }
  return { elements, text };
}

/** The element children of a container; only white space may sit between them. */
function elementsOf(el: Element): Element[] {
  const { elements, text } = contentOf(el.children);
  if (!isAllWs(text)) invalid(`text inside <${el.name}>`);
  return elements;
}

/** The text of a scalar element, which may hold no element. */
function textOf(el: Element): string {
  const { elements, text } = contentOf(el.children);
  if (elements.length > 0) invalid(`<${(elements[0] as Element).name}> inside <${el.name}>`);
  return text;
}

function only(el: Element, name: string): Element {
  const elements = elementsOf(el);
  if (elements.length !== 1 || (elements[0] as Element).name !== name) {
    invalid(`<${el.name}> must hold exactly one <${name}>`);
  }
  return elements[0] as Element;
}

class Walker {
  constructor(
    private readonly maxDepth: number,
    private readonly wrapDoubles: boolean,
  ) {}

  document(nodes: RawNode[]): Document {
    const root = contentOf(nodes).elements[0];
    if (root === undefined) return fail('ERR_XML_NOT_WELL_FORMED', 'no root element');
    if (root.name === 'methodCall') return this.methodCall(root);
    if (root.name === 'methodResponse') return this.methodResponse(root);
    return invalid(`the root element is <${root.name}>, not <methodCall> or <methodResponse>`);
  }

  private methodCall(root: Element): Document {
    let methodName: string | null = null;
    let params: XmlRpcValue[] | null = null;
    for (const el of elementsOf(root)) {
      if (el.name === 'methodName' && methodName === null) {
        methodName = trimWs(textOf(el));
        if (methodName === '') invalid('empty <methodName>');
      } else if (el.name === 'params' && params === null) {
        params = this.params(el);
      } else {
        invalid(`unexpected <${el.name}> in <methodCall>`);
      }
    }
    if (methodName === null) return invalid('<methodCall> without <methodName>');
    return { kind: 'call', methodName, params: params ?? [] };
  }

  private methodResponse(root: Element): Document {
    const elements = elementsOf(root);
    const el = elements[0];
    if (elements.length !== 1 || el === undefined) return invalid('<methodResponse> must hold one <params> or one <fault>');
    if (el.name === 'params') {
      const params = this.params(el);
      if (params.length !== 1) invalid(`a <methodResponse> holds exactly one <param>, got ${params.length}`);
      return { kind: 'response', value: params[0] as XmlRpcValue };
    }
    if (el.name === 'fault') return this.fault(only(el, 'value'));
    return invalid(`unexpected <${el.name}> in <methodResponse>`);
  }

  private params(el: Element): XmlRpcValue[] {
    return elementsOf(el).map((param) => {
      if (param.name !== 'param') invalid(`unexpected <${param.name}> in <params>`);
      const elements = elementsOf(param);
      if (elements.length !== 1 || (elements[0] as Element).name !== 'value') invalid('a <param> holds exactly one <value>');
      return this.value(elements[0] as Element, 0);
    });
  }

  private fault(value: Element): Document {
    const { elements, text } = contentOf(value.children);
    const struct = elements[0];
    if (elements.length !== 1 || struct === undefined || struct.name !== 'struct' || !isAllWs(text)) {
      return invalid('a <fault> holds a <value><struct>');
    }
    const types = new Map<string, string>();
    const members = this.struct(struct, 0, types);
    const faultCode = members['faultCode'];
    const faultString = members['faultString'];
    const codeType = types.get('faultCode');
    if (typeof faultCode !== 'number' || (codeType !== 'int' && codeType !== 'i4')) {
      return invalid('a fault needs an int faultCode');
    }
    if (typeof faultString !== 'string') return invalid('a fault needs a string faultString');
    return { kind: 'fault', faultCode, faultString };
  }

  /** A `<value>`; `level` counts the arrays/structs around it. */
  private value(el: Element, level: number, types?: Map<string, string>, member?: string): XmlRpcValue {
    const { elements, text } = contentOf(el.children);
    if (elements.length === 0) {
      if (types !== undefined) types.set(member as string, 'string');
      return text;
    }
    if (elements.length > 1) invalid('a <value> holds one type element');
    if (!isAllWs(text)) invalid('text mixed with a typed child in <value>');
    const typed = elements[0] as Element;
    if (types !== undefined) types.set(member as string, typed.name);
    switch (typed.name) {
      case 'int':
      case 'i4': {
        const t = trimWs(textOf(typed));
        if (!INTEGER.test(t)) invalid(`<${typed.name}> holds ${quote(t)}, not an integer`);
        const n = Number(t);
        if (n < -2147483648 || n > 2147483647) invalid(`<${typed.name}>${t} is out of the int32 range`);
        return n === 0 ? 0 : n; // "-0" is the integer 0
      }
      case 'i8': {
        const t = trimWs(textOf(typed));
        if (!INTEGER.test(t)) invalid(`<i8> holds ${quote(t)}, not an integer`);
        const n = BigInt(t);
        if (n < -(2n ** 63n) || n >= 2n ** 63n) invalid(`<i8>${t} is out of the int64 range`);
        return n;
      }
      case 'boolean': {
        const t = trimWs(textOf(typed));
        if (t === '1') return true;
        if (t === '0') return false;
        return invalid(`<boolean> holds ${quote(t)}, not 0 or 1`);
      }
      case 'double': {
        const t = trimWs(textOf(typed));
        const n = DOUBLE.test(t) ? Number(t) : NaN;
        if (!Number.isFinite(n)) invalid(`<double> holds ${quote(t)}, not a finite decimal number`);
        return this.wrapDoubles ? new Double(n) : n;
      }
      case 'string':
        return textOf(typed);
      case 'dateTime.iso8601': {
        const t = trimWs(textOf(typed));
        return dateTimeOf(t) ?? invalid(`<dateTime.iso8601> holds ${quote(t)}, not an ISO 8601 date and time`);
      }
      case 'base64':
        return decodeBase64(textOf(typed));
      case 'nil':
        if (!isAllWs(textOf(typed))) invalid('<nil/> must be empty');
        return null;
      case 'array': {
        this.enter(level);
        const values = elementsOf(only(typed, 'data'));
        const out = new Array<XmlRpcValue>(values.length);
        for (let k = 0; k < values.length; k++) {
          const v = values[k] as Element;
          if (v.name !== 'value') invalid(`unexpected <${v.name}> in <data>`);
          out[k] = this.value(v, level + 1);
        }
        return out;
      }
      case 'struct':
        return this.struct(typed, level);
      default:
        return invalid(`<${typed.name}> is not an XML-RPC type`);
    }
  }

  private struct(el: Element, level: number, types?: Map<string, string>): XmlRpcStruct {
    this.enter(level);
    const out = Object.create(null) as XmlRpcStruct;
    for (const member of elementsOf(el)) {
      if (member.name !== 'member') invalid(`unexpected <${member.name}> in <struct>`);
      let name: Element | null = null;
      let value: Element | null = null;
      for (const part of elementsOf(member)) {
        if (part.name === 'name' && name === null) name = part;
        else if (part.name === 'value' && value === null) value = part;
        else invalid(`a <member> holds exactly one <name> and one <value>, got another <${part.name}>`);
      }
      if (name === null || value === null) return invalid('a <member> holds exactly one <name> and one <value>');
      const key = textOf(name);
      // A null-prototype object: `__proto__` is an own key like any other.
      out[key] = this.value(value, level + 1, types, key);
    }
    return out;
  }

  private enter(level: number): void {
    if (level + 1 > this.maxDepth) fail('ERR_XML_TOO_DEEP', `arrays/structs nest deeper than ${this.maxDepth} levels`);
  }
}

function decodeBase64(text: string): Buffer {
  const compact = text.replace(XML_WS_RUNS, '');
  const padded = compact.endsWith('=');
  if (!BASE64.test(compact) || (padded ? compact.length % 4 !== 0 : compact.length % 4 === 1)) {
    return invalid('<base64> holds characters or padding that are not base64');
  }
  return Buffer.from(compact, 'base64');
}

// ---------------------------------------------------------------------------
// 1. Options, bytes to text, characters

/** The decode options checked, the document's size against `maxBytes`; returns maxDepth. */
function checkOptions(data: Buffer | Uint8Array | string, options: DecodeOptions | undefined): number {
  const maxDepth = options?.maxDepth ?? 64;
  if (!Number.isInteger(maxDepth) || maxDepth < 0 || maxDepth > 1000) throw new RangeError(`maxDepth out of [0, 1000]: ${maxDepth}`);
  const maxBytes = options?.maxBytes ?? Infinity;
  if (Number.isNaN(Number(maxBytes)) || maxBytes < 0) throw new RangeError(`maxBytes must be a non-negative number: ${maxBytes}`);
  const size = typeof data === 'string' ? new TextEncoder().encode(data).length : (data as { byteLength?: number }).byteLength;
  if (size !== undefined && size > maxBytes) fail('ERR_XML_TOO_LARGE', `${size} bytes, more than maxBytes (${maxBytes})`);
  return maxDepth;
}

/** The document as text, every character one XML 1.0 allows. */
function checkedText(data: Buffer | Uint8Array | string): string {
  const text = bytesToText(data);
  const bad = NOT_CHAR.exec(text);
  if (bad !== null) fail('ERR_XML_NOT_WELL_FORMED', `U+${(bad[0].codePointAt(0) as number).toString(16)} is not an XML 1.0 Char`, text, bad.index);
  return text;
}

/** XML 1.0 section 2.2, Char; with `u`, a lone surrogate is a code point of its own, outside every range. */
const NOT_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** `version` then `encoding` (XML 1.0 section 4.3.3, the rule that names an encoding); the name captured. */
const ENCODING_DECL =
  /^<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"[^"]*"|'[^']*')[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["'])([A-Za-z][A-Za-z0-9._-]*)\1/;

function encodingLabel(head: string): string | null {
  return ENCODING_DECL.exec(head)?.[2] ?? null;
}

/**
 * Bytes to text, by the BOM or UTF-16 signature, else by the declared
 * encoding (found in the first 512 bytes), else UTF-8. Labels are read as
 * TextDecoder reads them, except the ISO-8859-1 and US-ASCII ones, which it
 * takes for windows-1252.
 */
function bytesToText(data: Buffer | Uint8Array | string): string {
  if (typeof data === 'string') return data.startsWith('\ufeff') ? data.slice(1) : data;
  if (!(data instanceof Uint8Array)) throw new TypeError('not a string, Buffer or Uint8Array');
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (bytes.length === 0) fail('ERR_XML_NOT_WELL_FORMED', 'no bytes');
  // prettier-ignore
  const signatures: Array<[signature: number[], skip: number, decoder: string, family: string]> = [
    [[0xef, 0xbb, 0xbf], 3, 'utf-8', 'UTF-8'],
    [[0xfe, 0xff], 2, 'utf-16be', 'UTF-16'],
    [[0xff, 0xfe], 2, 'utf-16le', 'UTF-16'],
    [[0x00, 0x3c, 0x00, 0x3f], 0, 'utf-16be', 'UTF-16'],
    [[0x3c, 0x00, 0x3f, 0x00], 0, 'utf-16le', 'UTF-16'],
  ];
  for (const [signature, skip, decoder, family] of signatures) {
    if (signature.every((b, k) => bytes[k] === b)) {
      const text = strictly(decoder, bytes.subarray(skip));
      const label = encodingLabel(text);
      if (label !== null && encodingFamily(label) !== family) fail('ERR_XML_INVALID_CHARACTER', `${label} declared in ${family}`);
      return text;
    }
  }
  const label = encodingLabel(bytes.subarray(0, 512).toString('latin1'));
  const family = label === null ? 'UTF-8' : encodingFamily(label);
  if (family === 'UTF-16') fail('ERR_XML_INVALID_CHARACTER', `${label} declared over bytes that are not UTF-16`);
  return strictly(family === 'UTF-8' ? 'utf-8' : family, bytes);
}

const LATIN1 = ['iso-8859-1', 'iso8859-1', 'iso_8859-1', 'latin1', 'l1', 'cp819', 'ibm819', 'iso-ir-100', 'csisolatin1'];
const US_ASCII = ['us-ascii', 'ascii', 'ansi_x3.4-1968', 'iso646-us', 'csascii', 'us', 'iso-ir-6'];

/** 'UTF-8', 'UTF-16', 'latin1', 'us-ascii' or the name TextDecoder gives the label. */
function encodingFamily(label: string): string {
  const lower = label.toLowerCase();
  if (LATIN1.includes(lower)) return 'latin1';
  if (US_ASCII.includes(lower)) return 'us-ascii';
  let name: string;
  try {
    name = new TextDecoder(lower).encoding;
  } catch {
    return fail('ERR_XML_UNSUPPORTED_ENCODING', `no decoder for ${label}`);
  }
  return name === 'utf-8' ? 'UTF-8' : name.startsWith('utf-16') ? 'UTF-16' : name;
}

// windows-1252's 0x80-0x9F (the WHATWG index): Node's TextDecoder reads
// them as ISO-8859-1 since 20.18.3 (nodejs/node#60888).
const CP1252_C1 = [
  0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d, 0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d,
  0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a, 0x153, 0x9d, 0x17e, 0x178,
];

/** Every byte read by `encoding`, or ERR_XML_INVALID_CHARACTER. */
function strictly(encoding: string, bytes: Buffer): string {
  switch (encoding) {
    case 'latin1':
      return bytes.toString('latin1');
    case 'us-ascii': {
      const at = bytes.findIndex((b) => b >= 0x80);
      if (at >= 0) fail('ERR_XML_INVALID_CHARACTER', `byte ${bytes[at]} at ${at} in US-ASCII`);
      return bytes.toString('latin1');
    }
    case 'windows-1252':
      return Array.from(bytes, (b) => String.fromCharCode(b >= 0x80 && b <= 0x9f ? (CP1252_C1[b - 0x80] as number) : b)).join('');
    default:
      try {
        return new TextDecoder(encoding, { fatal: true, ignoreBOM: true }).decode(bytes);
      } catch {
        return fail('ERR_XML_INVALID_CHARACTER', `bytes that are not ${encoding}`);
      }
  }
}

/**
 * Checks that `text` is a well-formed XML-RPC document no deeper than
 * `maxElementDepth` elements, and returns it without its XML declaration and
 * processing instructions, line ends normalised: ready for fast-xml-parser.
 */
function wellFormed(text: string, maxElementDepth: number): string {
  return cut(text, new Scanner(text, maxElementDepth).scan());
}

// ---------------------------------------------------------------------------
// 2. The well-formedness scan

// XML 1.0's NameStartChar and NameChar, as the spec writes them. ZWNJ and ZWJ
// are the range \u200C-\u200D, and the combining marks \u0300-\u036F come
// first in NAME_CHAR: next to other characters, no-misleading-character-class
// would read them as joined or combined sequences. The sets are the spec's.
const NAME_START =
  ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C-\\u200D' +
  '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}';
const NAME_CHAR = '\\u0300-\\u036F' + NAME_START + '\\-.0-9\\u00B7\\u203F\\u2040';
const NAME = new RegExp(`[${NAME_START}][${NAME_CHAR}]*`, 'uy');
const IS_NAME = new RegExp(`^[${NAME_START}][${NAME_CHAR}]*$`, 'u');
const REFERENCE = /&(?:#([0-9]+)|#x([0-9a-fA-F]+)|([^\t\n\r ;&<]*));/y;
const PREDEFINED = new Set(['lt', 'gt', 'amp', 'quot', 'apos']);
const XML_DECLARATION =
  /<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(?:"1\.[0-9]+"|'1\.[0-9]+')(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(?:"[A-Za-z][A-Za-z0-9._-]*"|'[A-Za-z][A-Za-z0-9._-]*'))?(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(?:"(?:yes|no)"|'(?:yes|no)'))?[ \t\r\n]*\?>/y;
// prettier-ignore
const XMLRPC_ELEMENTS = new Set([
  'methodCall', 'methodResponse', 'methodName', 'params', 'param', 'fault', 'value',
  'i4', 'int', 'i8', 'boolean', 'string', 'double', 'dateTime.iso8601', 'base64', 'nil',
  'struct', 'member', 'name', 'array', 'data',
]);

// prettier-ignore
const LT = 0x3c, GT = 0x3e, AMP = 0x26, SLASH = 0x2f, QUESTION = 0x3f, BANG = 0x21, EQUALS = 0x3d;
// prettier-ignore
const QUOT = 0x22, APOS = 0x27, RSQB = 0x5d;

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
}

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

/**
 * One pass over the document, no recursion: the open elements are a stack
 * bounded by `maxElementDepth`. Returns the [start, end) spans of the
 * processing instructions (and the XML declaration) to cut before parsing.
 */
class Scanner {
  private readonly stack: string[] = [];
  private readonly cuts: number[] = [];
  private seenRoot = false;
  private rootClosed = false;
  private unknown: string | null = null;

  constructor(
    private readonly s: string,
    private readonly maxElementDepth: number,
  ) {}

  scan(): number[] {
    const s = this.s;
    const n = s.length;
    let i = this.declaration();
    while (i < n) {
      const c = s.charCodeAt(i);
      if (c === LT) {
        const c1 = s.charCodeAt(i + 1);
        if (c1 === SLASH) i = this.endTag(i);
        else if (c1 === QUESTION) i = this.processingInstruction(i);
        else if (c1 === BANG) i = this.markupDeclaration(i);
        else i = this.startTag(i);
      } else if (this.stack.length === 0) {
        if (!isWs(c)) this.fail(this.rootClosed ? 'content after the root element' : 'text before the root element', i);
        i++;
      } else if (c === AMP) {
        i = this.reference(i);
      } else {
        const start = i;
        for (; i < n; i++) {
          const d = s.charCodeAt(i);
          if (d === LT || d === AMP) break;
          if (d === GT && i - start >= 2 && s.charCodeAt(i - 1) === RSQB && s.charCodeAt(i - 2) === RSQB) {
            this.fail("']]>' is not allowed in text", i - 2);
          }
        }
      }
    }
    if (!this.seenRoot) this.fail(n === 0 ? 'the document is empty' : 'no root element', n);
    if (this.stack.length > 0) this.fail(`<${this.stack[this.stack.length - 1]}> is not closed`, n);
    if (this.unknown !== null) invalid(`<${this.unknown}> is not an XML-RPC element`);
    return this.cuts;
  }

  /** The XML declaration, only at the very start. Returns where to go on. */
  private declaration(): number {
    if (!this.s.startsWith('<?xml')) return 0;
    const after = this.s.charCodeAt(5);
    if (!isWs(after) && after !== QUESTION) return 0; // `<?xml-stylesheet`: a PI
    XML_DECLARATION.lastIndex = 0;
    if (!XML_DECLARATION.test(this.s)) this.fail('malformed XML declaration', 0);
    this.cuts.push(0, XML_DECLARATION.lastIndex);
    return XML_DECLARATION.lastIndex;
  }

  private name(at: number): string | null {
    NAME.lastIndex = at;
    const m = NAME.exec(this.s);
    return m === null ? null : m[0];
  }

  private skipWs(at: number): number {
    while (isWs(this.s.charCodeAt(at))) at++;
    return at;
  }

  private startTag(i: number): number {
    const s = this.s;
    const name = this.name(i + 1) ?? this.fail("'<' is not followed by an element name", i);
    if (this.rootClosed) this.fail('a second root element', i);
    let j = i + 1 + name.length;
    let attributes: string[] | null = null;
    let empty: boolean;
    for (;;) {
      const k = this.skipWs(j);
      const c = s.charCodeAt(k);
      if (c === GT) {
        j = k + 1;
        empty = false;
        break;
      }
      if (c === SLASH && s.charCodeAt(k + 1) === GT) {
        j = k + 2;
        empty = true;
        break;
      }
      if (k === j) this.fail(Number.isNaN(c) ? 'the document ends inside a tag' : `unexpected character in <${name}>`, k);
      const attr = this.name(k) ?? this.fail(`bad attribute name in <${name}>`, k);
      j = this.skipWs(k + attr.length);
      if (s.charCodeAt(j) !== EQUALS) this.fail(`attribute ${attr} has no value`, j);
      j = this.skipWs(j + 1);
      const quote = s.charCodeAt(j);
      if (quote !== QUOT && quote !== APOS) this.fail(`the value of attribute ${attr} is not quoted`, j);
      for (j++; ;) {
        const d = s.charCodeAt(j);
        if (d === quote) break;
        if (Number.isNaN(d)) this.fail('the document ends inside an attribute value', j);
        if (d === LT) this.fail(`'<' in the value of attribute ${attr}`, j);
        j = d === AMP ? this.reference(j) : j + 1;
      }
      j++;
      if (attributes === null) attributes = [];
      if (attributes.includes(attr)) this.fail(`attribute ${attr} is repeated`, k);
      attributes.push(attr);
    }
    const depth = this.stack.length + 1;
    if (depth > this.maxElementDepth) {
      fail('ERR_XML_TOO_DEEP', `elements nest deeper than ${this.maxElementDepth} levels`);
    }
    this.seenRoot = true;
    if (this.unknown === null && !XMLRPC_ELEMENTS.has(localName(name))) this.unknown = name;
    if (empty) {
      if (depth === 1) this.rootClosed = true;
    } else {
      this.stack.push(name);
    }
    return j;
  }

  private endTag(i: number): number {
    const name = this.name(i + 2) ?? this.fail("'</' is not followed by an element name", i);
    const j = this.skipWs(i + 2 + name.length);
    if (this.s.charCodeAt(j) !== GT) this.fail(`malformed end tag </${name}>`, j);
    const open = this.stack.pop();
    if (open === undefined) this.fail(`</${name}> closes nothing`, i);
    if (open !== name) this.fail(`</${name}> closes <${open}>`, i);
    if (this.stack.length === 0) this.rootClosed = true;
    return j + 1;
  }

  private processingInstruction(i: number): number {
    const target = this.name(i + 2) ?? this.fail("'<?' is not followed by a target name", i);
    if (target.toLowerCase() === 'xml') this.fail('the XML declaration is only allowed at the very start', i);
    let j = i + 2 + target.length;
    if (!this.s.startsWith('?>', j)) {
      if (!isWs(this.s.charCodeAt(j))) this.fail(`malformed processing instruction <?${target}`, j);
      j = this.s.indexOf('?>', j);
      if (j === -1) this.fail('unterminated processing instruction', i);
    }
    this.cuts.push(i, j + 2);
    return j + 2;
  }

  /** `<!--`, `<![CDATA[` or `<!DOCTYPE`. */
  private markupDeclaration(i: number): number {
    const s = this.s;
    if (s.startsWith('<!--', i)) {
      const end = s.indexOf('--', i + 4);
      if (end === -1) this.fail('unterminated comment', i);
      if (s.charCodeAt(end + 2) !== GT) this.fail("'--' inside a comment", end);
      return end + 3;
    }
    if (s.startsWith('<![CDATA[', i)) {
      if (this.stack.length === 0) this.fail('CDATA outside the root element', i);
      const end = s.indexOf(']]>', i + 9);
      if (end === -1) this.fail('unterminated CDATA section', i);
      return end + 3;
    }
    if (s.startsWith('<!DOCTYPE', i) && !this.seenRoot) {
      fail('ERR_XML_DOCTYPE', 'a DOCTYPE is not accepted (no entity declarations, no external subsets)');
    }
    return this.fail("'<!' starts neither a comment nor a CDATA section", i);
  }

  /** `&…;` in text or an attribute value. */
  private reference(i: number): number {
    REFERENCE.lastIndex = i;
    const m = REFERENCE.exec(this.s);
    if (m === null) return this.fail("'&' does not start a reference", i);
    const [, dec, hexDigits, named] = m;
    if (named !== undefined) {
      if (PREDEFINED.has(named)) return REFERENCE.lastIndex;
      if (IS_NAME.test(named)) this.fail(`undefined entity &${named};`, i);
      this.fail("'&' does not start a reference", i);
    }
    const cp = dec !== undefined ? Number(dec) : parseInt(hexDigits as string, 16);
    if (!isXmlChar(cp)) {
      fail('ERR_XML_NOT_WELL_FORMED', `${m[0]} refers to a character XML 1.0 does not allow`, this.s, i);
    }
    return REFERENCE.lastIndex;
  }

  private fail(message: string, at: number): never {
    return fail('ERR_XML_NOT_WELL_FORMED', message, this.s, at);
  }
}

/** The name without its prefix, as fast-xml-parser's removeNSPrefix has it. */
function localName(name: string): string {
  return name.slice(name.indexOf(':') + 1);
}

const LINE_END = /\r\n?/g;

/**
 * The text without the given [start, end) spans, line ends normalised
 * (XML 1.0 section 2.11) piece by piece: a CR before a cut PI and an LF after
 * it are two line ends, not one CRLF.
 */
function cut(text: string, spans: number[]): string {
  const lf = text.includes('\r') ? (piece: string) => piece.replace(LINE_END, '\n') : (piece: string) => piece;
  if (spans.length === 0) return lf(text);
  let out = '';
  let from = 0;
  for (let k = 0; k < spans.length; k += 2) {
    out += lf(text.slice(from, spans[k]));
    from = spans[k + 1] as number;
  }
  return out + lf(text.slice(from));
}

// ---------------------------------------------------------------------------
// dateTime.iso8601

// The date and the time each in its basic (19980717, 140855) or extended
// (1998-07-17, 14:08:55) form; then a fraction and a zone, both optional.
const DATE_TIME_FORM = /^([0-9]{8}|[0-9]{4}-[0-9]{2}-[0-9]{2})T([0-9]{6}|[0-9]{2}:[0-9]{2}:[0-9]{2})(?:\.([0-9]+))?(Z|[+-][0-9]{2}:?[0-9]{2})?$/;

/** The instant a dateTime names (UTC without a zone; milliseconds truncated), or null. */
function dateTimeOf(text: string): Date | null {
  const m = DATE_TIME_FORM.exec(text);
  if (m === null) return null;
  const date = (m[1] as string).replaceAll('-', '');
  const time = (m[2] as string).replaceAll(':', '');
  const [year, month, day] = [date.slice(0, 4), date.slice(4, 6), date.slice(6)].map(Number) as [number, number, number];
  const [hour, minute, second] = [time.slice(0, 2), time.slice(2, 4), time.slice(4)].map(Number) as [number, number, number];
  if (hour >= 24 || minute >= 60 || second >= 60) return null;
  let offset = 0;
  const zone = m[4];
  if (zone !== undefined && zone !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    const zh = Number(digits.slice(0, 2));
    const zm = Number(digits.slice(2));
    if (zh >= 24 || zm >= 60) return null;
    offset = (zone.startsWith('-') ? -1 : 1) * (zh * 60 + zm);
  }
  // The calendar check: a day the month does not have rolls over.
  const midnight = new Date(0);
  midnight.setUTCFullYear(year, month - 1, day);
  if (midnight.getUTCFullYear() !== year || midnight.getUTCMonth() !== month - 1 || midnight.getUTCDate() !== day) return null;
  const ms = m[3] === undefined ? 0 : Number((m[3] + '00').slice(0, 3));
  return new Date(midnight.getTime() + ((hour * 60 + minute - offset) * 60 + second) * 1000 + ms);
}

// ---------------------------------------------------------------------------
// Errors

function invalid(message: string): never {
  throw new DecodeError('ERR_XMLRPC_INVALID', message);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}...` : text);
}

/** A DecodeError; with the text and an offset, the line where it happened. */
function fail(code: DecodeErrorCode, message: string, text?: string, at?: number): never {
  if (text !== undefined && at !== undefined) message += ` (line ${text.slice(0, at).split('\n').length})`;
  throw new DecodeError(code, message);
}
