// XML-RPC unmarshalling: bytes to values, in four steps.
//   1-2. xml-source.ts: bytes -> text, and a well-formedness scan of our own
//      (no DOCTYPE, depth bounded, XML-RPC element names only).
//   3. fast-xml-parser builds an ordered tree, with entity processing off
//      (we decode the five predefined entities and character references
//      ourselves) and with processing instructions cut out first (its PI
//      reader skips quoted strings, so `<?pi don't?>` swallows what follows).
//   4. A walk keyed by tag turns the tree into values, or throws a
//      DecodeError with the interop fault code.

import { XMLParser } from 'fast-xml-parser';
import { Fault } from '../errors.js';
import { documentText, fail, invalid, isWs, quote, wellFormed } from './xml-source.js';
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
/** The walk is recursive: this bounds its stack whatever the option says. */
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
  switch (doc.kind) {
    case 'call':
      return { methodName: doc.methodName, params: doc.params };
    case 'response':
      return { methodName: null, params: [doc.value] };
    case 'fault':
      throw new Fault(doc.faultCode, doc.faultString);
  }
}

/** A server's entry point: the document must be a methodCall. */
export function parseMethodCall(
  data: Buffer | Uint8Array | string,
  options?: DecodeOptions,
): { methodName: string; params: XmlRpcValue[] } {
  const doc = decodeDocument(data, options);
  if (doc.kind !== 'call') invalid('expected a <methodCall>, got a <methodResponse>');
  return { methodName: doc.methodName, params: doc.params };
}

/** A client's entry point: the result value, or the server's `Fault` thrown. */
export function parseMethodResponse(data: Buffer | Uint8Array | string, options?: DecodeOptions): XmlRpcValue {
  const doc = decodeDocument(data, options);
  if (doc.kind === 'call') invalid('expected a <methodResponse>, got a <methodCall>');
  if (doc.kind === 'fault') throw new Fault(doc.faultCode, doc.faultString);
  return doc.value;
}

type Document =
  | { kind: 'call'; methodName: string; params: XmlRpcValue[] }
  | { kind: 'response'; value: XmlRpcValue }
  | { kind: 'fault'; faultCode: number; faultString: string };

function decodeDocument(data: Buffer | Uint8Array | string, options: DecodeOptions | undefined): Document {
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
  const text = documentText(data);
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
    else if (key === CDATA) for (const part of val as RawNode[]) text += String(part[TEXT] ?? '');
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
        if (n < INT32_MIN || n > INT32_MAX) invalid(`<${typed.name}>${t} is out of the int32 range`);
        return n === 0 ? 0 : n; // "-0" is the integer 0
      }
      case 'i8': {
        const t = trimWs(textOf(typed));
        if (!INTEGER.test(t)) invalid(`<i8> holds ${quote(t)}, not an integer`);
        const n = BigInt(t);
        if (n < INT64_MIN || n > INT64_MAX) invalid(`<i8>${t} is out of the int64 range`);
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
        return parseDateTime(t) ?? invalid(`<dateTime.iso8601> holds ${quote(t)}, not an ISO 8601 date and time`);
      }
      case 'base64':
        return decodeBase64(textOf(typed));
      case 'nil':
        if (!isAllWs(textOf(typed))) invalid('<nil/> must be empty');
        return null;
      case 'array': {
        this.enter(level);
        const values = elementsOf(only(typed, 'data'));
        const out: XmlRpcValue[] = new Array(values.length);
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
