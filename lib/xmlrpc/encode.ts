// XML-RPC marshalling: JavaScript values to compact XML, written by hand (no
// DOM, no builder) as UTF-8 bytes into one growable buffer (`Sink`, sink.ts): ints
// straight as bytes, other text gathered in short strings and flushed. Dispatch
// is on `typeof`, then on the class for objects; the value table is at the top
// of values.ts. `bufferDumps` gives the bytes (a server's response body),
// `dumps` the same bytes as a string. The codec knows nothing of HTTP.

// Node's global Buffer is a getter on globalThis: each use from compiled code is a global IC miss and a call (about 150 instructions); the module's binding is a constant.
import { Buffer } from 'node:buffer';
import { EncodeError, Fault, encodeErrorMessage } from '../errors.js';
import {
  ARRAY,
  ARRAY_CLOSE,
  DOUBLE,
  INT,
  ITEM_CLOSE,
  ITEM_MID,
  MAX_ITEMS,
  OTHER,
  STRING,
  type Layout,
  closeBefore,
  itemType,
  layoutOf,
  noteStruct,
  typeOf,
} from './encode-layout.js';
import { escapeText, formatDate, formatDouble } from './encode-text.js';
import { memberTags } from './member-tags.js';
import { Sink, beginDocument, endDocument, noteNonAscii } from './sink.js';
import { DateTime, Double, I8, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, describe } from './values.js';

export interface EncodeOptions {
  /** Levels of array/struct nesting allowed (default 64, at most 1000). */
  maxDepth?: number;
  /**
   * Write `null` and `undefined` as `<nil/>` (the nil extension). Default
   * true; false throws EncodeError instead, for a peer that keeps to the
   * spec (Python's `allow_none=False`).
   */
  allowNone?: boolean;
}

export interface DumpsOptions extends EncodeOptions {
  /** Writes a `<methodCall>` for this method. */
  methodName?: string;
  /** Writes a `<methodResponse>`; `params` must then hold exactly one value. */
  methodResponse?: boolean;
}

const DEFAULT_ENCODE_MAX_DEPTH = 64;
/** The encoder is recursive: this bounds its stack whatever the option says. */
const MAX_DEPTH_CEILING = 1000;

const XML_DECLARATION = '<?xml version="1.0"?>';

/**
 * Python's `xmlrpc.client.dumps`: `dumps([40, 2], 'add')` is a methodCall,
 * `dumps([x], { methodResponse: true })` a methodResponse, `dumps(fault)`
 * a fault response. Throws `EncodeError` for what XML-RPC cannot carry.
 */
export function dumps(params: readonly unknown[] | Fault, options?: string | DumpsOptions): string {
  return write(params, options, toText);
}

/**
 * `dumps` as UTF-8 bytes, written straight into one buffer (no string
 * built): what a server sends. The same writer as `dumps`, byte for byte.
 */
export function bufferDumps(params: readonly unknown[] | Fault, options?: string | DumpsOptions): Buffer {
  // An int32 result (`add`'s): the walk, the sink and its buffer cost more than the document.
  const result = soleResult(params, options);
  const doc = result === NOT_ONE ? null : intResponse(result);
  return doc ?? write(params, options, toBytes);
}

/**
 * The document as a server puts it on the wire: an ASCII document short
 * enough to be gathered as text (sink.ts, FLUSH_CHARS), an int32 result's
 * included, is that text, each character one byte of `bufferDumps`'
 * document; any other is `bufferDumps`' Buffer. Such a string goes to the
 * socket as latin1 with no Buffer made for it (lib/server/send.ts).
 */
export function wireDumps(params: readonly unknown[] | Fault, options?: string | DumpsOptions): string | Buffer {
  const result = soleResult(params, options);
  const doc = result === NOT_ONE ? null : intResponseText(result);
  return doc ?? write(params, options, toWire);
}

const NOT_ONE: unique symbol = Symbol('not a methodResponse of one value');

/** The one value of a methodResponse the options allow, or NOT_ONE (then write() decides, and refuses as it does). */
function soleResult(params: readonly unknown[] | Fault, options: string | DumpsOptions | undefined): unknown {
  if (typeof options !== 'object' || options.methodResponse !== true || options.methodName !== undefined || !Array.isArray(params) || params.length !== 1)
    return NOT_ONE;
  maxDepthOf(options); // what the options refuse is refused here too
  return params[0];
}

/** One `<value>…</value>` element. */
export function encodeValue(value: unknown, options?: EncodeOptions): string {
  const sink = new Sink(false);
  try {
    try {
      new Encoder(maxDepthOf(options ?? {}), sink, options?.allowNone !== false).value(value, 0);
    } catch (err) {
      throw located(err, 'value', undefined);
    }
    return toText(sink);
  } finally {
    sink.close();
  }
}

function toText(sink: Sink): string {
  return sink.asString();
}

function toBytes(sink: Sink): Buffer {
  return sink.asBuffer();
}

function toWire(sink: Sink): string | Buffer {
  return sink.asAsciiOrBuffer();
}

function write<T>(params: readonly unknown[] | Fault, options: string | DumpsOptions | undefined, finish: (sink: Sink) => T): T {
  const opts: DumpsOptions = typeof options === 'string' ? { methodName: options } : (options ?? {});
  const maxDepth = maxDepthOf(opts);
  if (params instanceof Fault) {
    if (opts.methodName !== undefined) throw new EncodeError('a fault is a response: it takes no methodName');
  } else if (!Array.isArray(params)) {
    throw new EncodeError(`params must be an array or a Fault, got ${describe(params)}`);
  } else if (opts.methodResponse === true) {
    if (opts.methodName !== undefined) throw new EncodeError('a methodResponse takes no methodName');
    if (params.length !== 1) throw new EncodeError(`a methodResponse holds exactly one param, got ${params.length}`);
  } else if (typeof opts.methodName !== 'string' || opts.methodName.length === 0) {
    throw new EncodeError('dumps needs a methodName (a methodCall) or methodResponse: true');
  }
  const sink = new Sink(finish !== toText);
  const outerNonAscii = beginDocument();
  try {
    const encoder = new Encoder(maxDepth, sink, opts.allowNone !== false);
    if (params instanceof Fault) {
      sink.add(XML_DECLARATION + '<methodResponse><fault>');
      encoder.fault(params);
      sink.add('</fault></methodResponse>');
    } else if (opts.methodResponse === true) {
      sink.add(XML_DECLARATION + '<methodResponse><params><param>');
      try {
        encoder.value(params[0], 0);
      } catch (err) {
        throw located(err, 'result', undefined);
      }
      sink.add('</param></params></methodResponse>');
    } else {
      sink.add(XML_DECLARATION + '<methodCall><methodName>' + escapeText(opts.methodName as string, 'methodName') + '</methodName><params>');
      let i = 0;
      try {
        for (; i < params.length; i++) {
          sink.add('<param>');
          encoder.value(params[i], 0);
          sink.add('</param>');
        }
      } catch (err) {
        throw located(err, `params[${i}]`, opts.methodName);
      }
      sink.add('</params></methodCall>');
    }
    return finish(sink);
  } finally {
    endDocument(outerNonAscii);
    sink.close();
  }
}

/**
 * An EncodeError on its way out of a container: `segment` goes in front of
 * its path (`[3]`, `.items`), the message is rebuilt. Anything else passes
 * as it is. The encoder pays for this only when something fails.
 */
function located(err: unknown, segment: string, method: string | undefined): unknown {
  if (!(err instanceof EncodeError)) return err;
  err.path = segment + (err.path ?? '');
  if (method !== undefined) err.method = method;
  err.message = encodeErrorMessage(err);
  return err;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A struct member as a path segment: `.name`, or `["odd name"]`. */
function memberSegment(name: string): string {
  return IDENTIFIER.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

function maxDepthOf(options: EncodeOptions): number {
  const depth = options.maxDepth ?? DEFAULT_ENCODE_MAX_DEPTH;
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_DEPTH_CEILING) {
    throw new RangeError(`maxDepth must be an integer in [0, ${MAX_DEPTH_CEILING}], got ${depth}`);
  }
  return depth;
}

class Encoder {
  /** The arrays, structs and Maps being written, by level (see `enter`); made at the first one (a scalar result needs none). */
  private open: object[] | null = null;
  /** The last array array() wrote, and its layout type (encode-layout.ts ARRAY), or OTHER: what members() notes for a member that was it. */
  private lastItems: unknown = null;
  private lastArrayType = OTHER;
  constructor(
    private readonly maxDepth: number,
    private readonly out: Sink,
    private readonly allowNone: boolean,
  ) {}

  /** `<value>…</value>`; `level` is the number of enclosing arrays/structs. */
  value(v: unknown, level: number): void {
    const out = this.out;
    switch (typeof v) {
      case 'string':
        out.add('<value><string>' + escapeText(v, 'string') + '</string></value>');
        return;
      case 'number':
        if (Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX && !Object.is(v, -0)) {
          out.int(v);
          return;
        }
        out.add('<value><double>' + formatDouble(v) + '</double></value>');
        return;
      case 'boolean':
        out.add(v ? '<value><boolean>1</boolean></value>' : '<value><boolean>0</boolean></value>');
        return;
      case 'bigint':
        if (v < INT64_MIN || v > INT64_MAX) throw new EncodeError(`bigint ${v} is out of the i8 (int64) range`);
        out.add('<value><i8>' + v + '</i8></value>');
        return;
      case 'undefined':
        return this.nil(v);
      case 'object':
        if (v === null) this.nil(v);
        else this.object(v, level);
        return;
      default:
        throw new EncodeError(`cannot encode ${describe(v)} as XML-RPC`);
    }
  }

  private nil(v: null | undefined): void {
    if (!this.allowNone) throw new EncodeError(`cannot encode ${String(v)}: nil is refused here (allowNone: false)`);
    this.out.add('<value><nil/></value>');
  }

  private object(v: object, level: number): void {
    const out = this.out;
    if (Array.isArray(v)) {
      this.enter(v, level);
      return this.array(v, level + 1);
    }
    if (v instanceof Date) return out.add('<value><dateTime.iso8601>' + formatDate(v) + '</dateTime.iso8601></value>');
    if (ArrayBuffer.isView(v)) {
      out.add('<value><base64>');
      out.base64(Buffer.from(v.buffer, v.byteOffset, v.byteLength));
      return out.add('</base64></value>');
    }
    if (v instanceof ArrayBuffer) {
      out.add('<value><base64>');
      out.base64(Buffer.from(v));
      return out.add('</base64></value>');
    }
    if (v instanceof Double) return out.add('<value><double>' + formatDouble(v.value) + '</double></value>');
    if (v instanceof I8) return out.add('<value><i8>' + v.value + '</i8></value>');
    if (v instanceof DateTime) {
      noteNonAscii(); // checked at construction, but its field is writable: not counted on
      return out.add('<value><dateTime.iso8601>' + v.value + '</dateTime.iso8601></value>');
    }
    if (v instanceof Map) {
      this.enter(v, level);
      return this.map(v, level + 1);
    }
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      this.enter(v, level);
      return this.struct(v as Record<string, unknown>, level + 1);
    }
    throw new EncodeError(`cannot encode ${describe(v)} as XML-RPC`);
  }

  /**
   * A container at `level` is about to be written: it must not be one of
   * the `level` containers it is inside (a cycle), nor nest too deep. Those
   * are `open[0]` to `open[level - 1]`: each container takes its level's
   * place on the way in, and a sibling takes it again after it.
   */
  private enter(v: object, level: number): void {
    const open = (this.open ??= []);
    for (let i = 0; i < level; i++) if (open[i] === v) throw new EncodeError('cannot encode a cyclic structure');
    if (level + 1 > this.maxDepth) {
      throw new EncodeError(`arrays/structs nest deeper than ${this.maxDepth} levels (maxDepth)`);
    }
    open[level] = v;
  }

  private array(items: readonly unknown[], level: number): void {
    this.out.add('<value><array><data>');
    const code = this.items(items, 0, level);
    this.out.add('</data></array></value>');
    this.lastItems = items;
    this.lastArrayType = code >= 0 ? ARRAY + code : OTHER;
  }

  /**
   * The items from `i` on: all of array()'s, or the rest of one that
   * arrayByLayout hands over. From item 0, the array's layout code, made
   * from its items' types as they are read (none read twice); else, or if
   * it has none, -1.
   */
  private items(items: readonly unknown[], i: number, level: number): number {
    let code = i === 0 ? 0 : -1;
    try {
      for (; i < items.length; i++) {
        // A run of int32s goes straight into the buffer, without value()'s dispatch per item.
        const from = i;
        i = this.out.intRun(items, i);
        if (i !== from) code = -1;
        if (i < items.length) {
          const item = items[i];
          if (code >= 0) {
            const type = i < MAX_ITEMS ? typeOf(item) : OTHER;
            code = type < OTHER ? code + ((type + 1) << (3 * i)) : -1;
          }
          this.value(item, level);
        }
      }
    } catch (err) {
      throw located(err, `[${i}]`, undefined);
    }
    return code;
  }

  private struct(obj: Record<string, unknown>, level: number): void {
    const keys = Object.keys(obj);
    const layout = layoutOf(keys);
    if (layout !== null) return this.byLayout(obj, keys, layout, level);
    this.out.add('<value><struct>');
    this.members(obj, keys, [], level);
  }

  /**
   * The members from `types.length` on, one by one, then the struct's end.
   * `types` holds the types of the members written before (by byLayout, up
   * to where its layout stopped serving; none for a whole struct); those of
   * these are added, and the whole is noted for the kind's layout
   * (encode-layout.ts).
   */
  private members(obj: Record<string, unknown>, keys: readonly string[], types: number[], level: number): void {
    for (let k = types.length; k < keys.length; k++) {
      const key = keys[k] as string;
      const member = obj[key];
      const type = typeOf(member);
      if (member !== undefined) this.member(key, member, level);
      // An array is noted with its items' types, as array() found them (not read again).
      types.push(type === OTHER && this.lastItems === member ? this.lastArrayType : type);
    }
    this.out.add('</struct></value>');
    noteStruct(keys, types);
  }

  /**
   * A struct of a kind with a layout: each value's own text between the
   * layout's runs (a boolean has none: its whole member is in its run). At
   * the first value of another type, the member before it is closed and
   * members() writes the rest. Each member is read once, as members() reads
   * it: a getter or a Proxy sees the same reads whichever path writes it.
   */
  private byLayout(obj: Record<string, unknown>, keys: readonly string[], layout: Layout, level: number): void {
    const out = this.out;
    const { types, runs, read } = layout;
    if (layout.nonAscii) noteNonAscii();
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k] as string;
      const v = read !== null ? read(obj, k) : obj[key];
      const type = types[k] as number;
      if (type >= ARRAY && Array.isArray(v) && !out.buffered()) {
        try {
          this.enter(v, level);
          if (this.arrayByLayout(v, type, runs[k] as string, layout.heads[k] as string, level + 1)) continue;
        } catch (err) {
          throw located(err, memberSegment(key), undefined);
        }
        // Written by array()'s loop from the first item that differed, member closed.
        const seen = types.slice(0, k);
        seen.push(OTHER);
        return this.members(obj, keys, seen, level);
      }
      const found = typeOf(v);
      if (found !== type) {
        out.add(closeBefore(types, k));
        const seen = types.slice(0, k);
        seen.push(found);
        if (v !== undefined) this.member(key, v, level);
        return this.members(obj, keys, seen, level);
      }
      out.add(runs[k] as string);
      try {
        if (type === INT) out.add('' + (v as number));
        else if (type === STRING) out.add(escapeText(v as string, 'string'));
        else if (type === DOUBLE) out.add(formatDouble(v as number));
        else if (type === OTHER) this.value(v, level);
      } catch (err) {
        throw located(err, memberSegment(key), undefined);
      }
    }
    out.add(runs[keys.length] as string);
  }

  /**
   * An array member of layout type `type` (encode-layout.ts ARRAY), its
   * items at `level`, while nothing has gone into the sink's buffer:
   * from the member's run on, its items' text between the texts the
   * layout keeps. The items are read as array() reads them there (the
   * length twice before each item and once after, each item once). At an
   * item of another type, or another length, the text gathered is closed
   * and array()'s loop writes the rest from there, the member closed: then
   * false.
   */
  private arrayByLayout(items: readonly unknown[], type: number, run: string, head: string, level: number): boolean {
    const out = this.out;
    let s = head;
    let prev = -1;
    let i = 0;
    for (; i < items.length; i++) {
      if (!(i < items.length)) {
        // Shorter at the second read (a Proxy): array()'s loop goes on after it.
        out.add(i === 0 ? head : s + (ITEM_CLOSE[prev] as string));
        this.items(items, i + 1, level);
        out.add(ARRAY_CLOSE);
        return false;
      }
      const item = items[i];
      const found = typeOf(item);
      if (found !== itemType(type, i)) {
        out.add(i === 0 ? head : s + (ITEM_CLOSE[prev] as string));
        try {
          this.value(item, level);
        } catch (err) {
          throw located(err, `[${i}]`, undefined);
        }
        this.items(items, i + 1, level);
        out.add(ARRAY_CLOSE);
        return false;
      }
      let text = '';
      try {
        if (found === INT) text = '' + (item as number);
        else if (found === STRING) text = escapeText(item as string, 'string');
        else if (found === DOUBLE) text = formatDouble(item as number);
      } catch (err) {
        throw located(err, `[${i}]`, undefined);
      }
      if (i === 0) s = text === '' ? run : run + text;
      else {
        s += ITEM_MID[5 * prev + found] as string;
        if (text !== '') s += text;
      }
      prev = found;
    }
    if (itemType(type, i) !== -1) {
      // Fewer items than the layout's.
      out.add((i === 0 ? head : s + (ITEM_CLOSE[prev] as string)) + ARRAY_CLOSE);
      return false;
    }
    out.add(i === 0 ? run : s);
    return true;
  }

  private map(map: ReadonlyMap<unknown, unknown>, level: number): void {
    this.out.add('<value><struct>');
    for (const [key, member] of map) {
      if (typeof key !== 'string') throw new EncodeError(`struct member names are strings, got a Map key ${describe(key)}`);
      if (member !== undefined) this.member(key, member, level);
    }
    this.out.add('</struct></value>');
  }

  private member(name: string, value: unknown, level: number): void {
    const out = this.out;
    try {
      const tags = memberTags(name);
      // A string, boolean or number goes in with its member's tags as one
      // piece, the name's part of them written once per name (memberTags):
      // fewer pieces for the document's string to gather and flatten. The
      // same text value() writes.
      switch (typeof value) {
        case 'string':
          out.add(tags.string + escapeText(value, 'string') + '</string></value></member>');
          return;
        case 'boolean':
          out.add(value ? tags.yes : tags.no);
          return;
        case 'number':
          if ((value | 0) !== value) {
            // Not an int32: value() writes it as a double too.
            out.add(tags.double + formatDouble(value) + '</double></value></member>');
            return;
          }
          if (!out.buffered() && !Object.is(value, -0)) {
            out.add(tags.int + value + '</int></value></member>');
            return;
          }
          break;
        default: // containers and the rest: value() below
      }
      out.add(tags.open);
      this.value(value, level);
    } catch (err) {
      throw located(err, memberSegment(name), undefined);
    }
    out.add('</member>');
  }

  fault(fault: Fault): void {
    const code = fault.faultCode;
    if (!Number.isInteger(code) || code < INT32_MIN || code > INT32_MAX) {
      throw new EncodeError(`faultCode must be an int32, got ${describe(code)}`);
    }
    if (typeof fault.faultString !== 'string') throw new EncodeError(`faultString must be a string, got ${describe(fault.faultString)}`);
    const out = this.out;
    out.add(
      '<value><struct><member><name>faultCode</name><value><int>' +
        code +
        '</int></value></member>' +
        '<member><name>faultString</name><value><string>' +
        escapeText(fault.faultString, 'faultString') +
        '</string></value></member></struct></value>',
    );
  }
}

// The methodResponse of an int32 is the encoder's own document for 0 with the
// digits put in place (test/codec-int-response.test.ts compares it with the
// general walk's bytes). Made on first use: this module's classes must exist first.
let intBefore: Uint8Array | null = null;
let intAfter: Uint8Array = new Uint8Array(0);

let intBeforeText = '';
let intAfterText = '';

/**
 * intResponse as text (wireDumps'): the walk's own text for 0 with the
 * digits in place, as JavaScript writes an int32 (what the walk writes too).
 * No Buffer: the server sends it as a string.
 */
function intResponseText(value: unknown): string | null {
  if (typeof value !== 'number' || (value | 0) !== value || Object.is(value, -0)) return null;
  if (intBeforeText === '') {
    const zero = write([0], { methodResponse: true }, toText);
    const at = zero.indexOf('<int>0</int>') + 5;
    intBeforeText = zero.slice(0, at);
    intAfterText = zero.slice(at + 1);
  }
  return intBeforeText + value + intAfterText;
}

/** The document of `value` when it is an int32 (not -0, which the encoder writes as a double); null otherwise. */
function intResponse(value: unknown): Buffer | null {
  if (typeof value !== 'number' || (value | 0) !== value || Object.is(value, -0)) return null;
  if (intBefore === null) {
    const zero = write([0], { methodResponse: true }, toBytes);
    const at = zero.indexOf('<int>0</int>') + 5;
    intBefore = Uint8Array.prototype.slice.call(zero, 0, at);
    intAfter = Uint8Array.prototype.slice.call(zero, at + 1);
  }
  let a = value < 0 ? -value : value;
  let digits = 1;
  for (let x = a; x >= 10; x = Math.floor(x / 10)) digits++;
  const sign = value < 0 ? 1 : 0;
  const out = Buffer.allocUnsafe(intBefore.length + sign + digits + intAfter.length);
  out.set(intBefore, 0);
  let p = intBefore.length;
  if (sign === 1) out[p++] = 0x2d;
  for (let k = p + digits - 1; k >= p; k--) {
    out[k] = 0x30 + (a % 10);
    a = Math.floor(a / 10);
  }
  out.set(intAfter, p + digits);
  return out;
}
