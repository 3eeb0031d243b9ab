// The encoder as it was at 598408d (lib/xmlrpc/encode.ts and sink.ts, joined),
// kept as the oracle of codec-encode-differential.test.ts: every later fast
// path of the encoder must give these bytes, or these errors, for every value.
// Not to be optimised or changed.

import { EncodeError, Fault, encodeErrorMessage } from '../lib/errors.js';
import { DateTime, Double, I8, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, describe } from '../lib/xmlrpc/values.js';

/**
 * In bytes mode, text gathers in a short string, flushed into the buffer
 * once this many characters have gathered: V8 appends short strings
 * quickly, and flattens and copies a few KB at native speed, with no big
 * string ever built. A document shorter than this never reaches the buffer:
 * its string is encoded once, at the end (for `add(40, 2)`'s answer a third
 * of the instructions of writing it into the buffer and copying it out).
 * Past it, ints go in as bytes directly, with no string at all.
 */
const FLUSH_CHARS = 8192;
/** The scratch buffer is kept between documents up to this size. */
const KEEP_SCRATCH = 4 << 20;
let scratch: Buffer | null = null;
/** A view of `scratch`, kept with it: a small document does not pay for a DataView. */
let scratchView: DataView | null = null;
/** The size of the last document given out as a Buffer, plus a margin: the next one is written into a buffer this big. */
let bufferHint = 0;
/**
 * Some text of the document being written may be non-ASCII (set by
 * escapeText, through which all text from outside passes, or by a DateTime
 * wrapper's raw value). While false, the document is ASCII and goes to bytes
 * as latin1: a copy, where UTF-8 took a pass to measure and one to encode.
 * `write` saves and restores it around a document, so a document written
 * meanwhile (by a getter) can only turn its writer's to true.
 */
let nonAscii = false;

/** Some text of the document being written is not ASCII: it goes to bytes as UTF-8. */
function noteNonAscii(): void {
  nonAscii = true;
}

/** A document starts: returns the writer's flag, for `endDocument` to give back. */
function beginDocument(): boolean {
  const outer = nonAscii;
  nonAscii = false;
  return outer;
}

/** A document ends: a document written inside another (by a getter) can only turn its writer's flag to true. */
function endDocument(outer: boolean): void {
  nonAscii ||= outer;
}
/** Buffers from this size are given out as they are written, not copied. */
const OWN_BUFFER = 16384;

/** Four ASCII characters as a little-endian 32-bit word. */
function word(s: string, at: number): number {
  return (s.charCodeAt(at) | (s.charCodeAt(at + 1) << 8) | (s.charCodeAt(at + 2) << 16) | (s.charCodeAt(at + 3) << 24)) >>> 0;
}
const INT_OPEN = '<value><int>';
const INT_CLOSE = '</int></value>';
const OPEN0 = word(INT_OPEN, 0),
  OPEN1 = word(INT_OPEN, 4),
  OPEN2 = word(INT_OPEN, 8);
const CLOSE0 = word(INT_CLOSE, 0),
  CLOSE1 = word(INT_CLOSE, 4),
  CLOSE2 = word(INT_CLOSE, 8);
const CLOSE3 = INT_CLOSE.charCodeAt(12) | (INT_CLOSE.charCodeAt(13) << 8);
const EMPTY = Buffer.alloc(0);
/** Bytes encoded to base64 at a time (a multiple of 3): a 64 KiB string each. */
const BASE64_SLICE = 3 << 14;

/** `<value><int>v</int></value>` at `n` (room for 37 bytes is there); returns the end. */
function writeInt(buf: Buffer, view: DataView, n: number, v: number): number {
  view.setUint32(n, OPEN0, true);
  view.setUint32(n + 4, OPEN1, true);
  view.setUint32(n + 8, OPEN2, true);
  n += 12;
  // Unsigned 32-bit arithmetic (-INT32_MIN included) keeps V8 in integer
  // registers; `%` and `/` on a plain number went through doubles.
  let u: number;
  if (v < 0) {
    buf[n++] = 0x2d; // -
    u = -v >>> 0;
  } else {
    u = v >>> 0;
  }
  n += decimalDigits(u);
  let at = n;
  while (u >= 10) {
    const q = (u / 10) >>> 0;
    buf[--at] = 0x30 + (u - q * 10);
    u = q;
  }
  buf[at - 1] = 0x30 + u;
  view.setUint32(n, CLOSE0, true);
  view.setUint32(n + 4, CLOSE1, true);
  view.setUint32(n + 8, CLOSE2, true);
  view.setUint16(n + 12, CLOSE3, true);
  return n + 14;
}

/** The number of decimal digits of `u`, a uint32. */
function decimalDigits(u: number): number {
  if (u < 100000) return u < 100 ? (u < 10 ? 1 : 2) : u < 1000 ? 3 : u < 10000 ? 4 : 5;
  return u < 10000000 ? (u < 1000000 ? 6 : 7) : u < 100000000 ? 8 : u < 1000000000 ? 9 : 10;
}

class Sink {
  /** Text not yet in `buf`; in string mode, the whole document. */
  private pending = '';
  /** Bytes mode: the buffer, a view of it, and how many bytes it holds. */
  private buf: Buffer = EMPTY;
  private view: DataView | null = null;
  private n = 0;
  /** `buf` is the caller's to keep (not the scratch buffer): it can be given out. */
  private owned = false;
  private givenOut = false;

  /** `bytes`: the document is wanted as a Buffer (`asBuffer`), else as a string (`asString`). */
  constructor(private readonly bytes: boolean) {}

  /** Bytes mode: the buffer, at the first flush (a short document never needs one). */
  private acquire(): void {
    let buf: Buffer;
    let view: DataView | null = null;
    if (bufferHint > OWN_BUFFER) {
      this.owned = true;
      buf = Buffer.allocUnsafeSlow(bufferHint);
    } else if (scratch !== null) {
      buf = scratch;
      view = scratchView;
      scratch = scratchView = null; // in use: an encoding run inside this one (by a getter, say) gets its own
    } else {
      buf = Buffer.allocUnsafeSlow(OWN_BUFFER);
    }
    this.buf = buf;
    this.view = view ?? new DataView(buf.buffer, buf.byteOffset, buf.length);
  }

  add(text: string): void {
    const pending = this.pending + text;
    if (pending.length >= FLUSH_CHARS && this.bytes) this.flush(pending);
    else this.pending = pending;
  }

  /**
   * `bytes` in base64. Past the flush size in bytes mode, encoded a slice at
   * a time straight into the buffer: no string of the whole (for a 1 MiB
   * value, a 1.4 MB string Node keeps outside the heap until a full GC), only
   * short ones the next scavenge takes. Slices are a multiple of 3 bytes, so
   * their base64 put end to end is the base64 of the whole.
   */
  base64(bytes: Buffer): void {
    const size = 4 * Math.ceil(bytes.length / 3);
    if (!this.bytes || size < FLUSH_CHARS) return this.add(bytes.toString('base64'));
    if (this.pending.length > 0) this.flush(this.pending);
    else if (this.buf === EMPTY) this.acquire();
    if (this.n + size > this.buf.length) this.grow(size);
    for (let at = 0; at < bytes.length; at += BASE64_SLICE) {
      this.n += this.buf.write(bytes.subarray(at, at + BASE64_SLICE).toString('base64'), this.n, 'latin1');
    }
  }

  /** Ints go into the buffer as bytes from now on (see `int`). */
  buffered(): boolean {
    return this.bytes && this.buf !== EMPTY;
  }

  /** `<value><int>v</int></value>`, `v` an int32. */
  int(v: number): void {
    if (!this.bytes || this.buf === EMPTY) {
      this.add('<value><int>' + v + '</int></value>');
      return;
    }
    if (this.pending.length > 0) this.flush(this.pending);
    if (this.n + 37 > this.buf.length) this.grow(37);
    this.n = writeInt(this.buf, this.view as DataView, this.n, v);
  }

  /**
   * `int()` for `items[from]`, `items[from + 1]`, … while they are int32s
   * (what `Encoder.value` writes as `<int>`), in one loop with the buffer in
   * locals; returns the index of the first item it did not write. Writes
   * nothing until the buffer is there (the document's first few KB).
   */
  intRun(items: readonly unknown[], from: number): number {
    if (this.buf === EMPTY) return from;
    if (this.pending.length > 0) this.flush(this.pending);
    let buf = this.buf;
    let view = this.view as DataView;
    let n = this.n;
    let limit = buf.length - 37;
    const end = items.length;
    let i = from;
    for (; i < end; i++) {
      const v = items[i];
      if (typeof v !== 'number' || (v | 0) !== v || (v === 0 && Object.is(v, -0))) break;
      if (n > limit) {
        this.n = n;
        this.grow(37);
        buf = this.buf;
        view = this.view as DataView;
        limit = buf.length - 37;
      }
      n = writeInt(buf, view, n, v);
    }
    this.n = n;
    return i;
  }

  private flush(text: string): void {
    this.pending = '';
    if (this.buf === EMPTY) this.acquire();
    const len = text.length;
    if (len < 64) {
      // Short: byte by byte while ASCII (no call into the runtime).
      if (this.n + len > this.buf.length) this.grow(len);
      const buf = this.buf;
      let n = this.n;
      let k = 0;
      for (; k < len; k++) {
        const c = text.charCodeAt(k);
        if (c >= 0x80) break;
        buf[n++] = c;
      }
      this.n = n;
      if (k === len) return;
      text = text.slice(k);
    }
    if (!nonAscii) {
      if (this.n + text.length > this.buf.length) this.grow(text.length);
      this.n += this.buf.write(text, this.n, text.length, 'latin1');
      return;
    }
    const size = text.length <= 65536 ? 3 * text.length : Buffer.byteLength(text, 'utf8');
    if (this.n + size > this.buf.length) this.grow(size);
    this.n += this.buf.write(text, this.n, size, 'utf8');
  }

  private grow(size: number): void {
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.n + size));
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
  }

  /** String mode: the document. */
  asString(): string {
    return this.pending;
  }

  /**
   * Bytes mode: the document as a Buffer of its own: the buffer it was
   * written into when that is not the scratch and not mostly empty, else a copy.
   */
  asBuffer(): Buffer {
    if (this.buf === EMPTY) {
      const out = Buffer.from(this.pending, nonAscii ? 'utf8' : 'latin1');
      bufferHint = out.length + (out.length >> 5) + 256;
      return out;
    }
    if (this.pending.length > 0) this.flush(this.pending);
    const n = this.n;
    bufferHint = n + (n >> 5) + 256;
    if (this.owned && n >= this.buf.length - (this.buf.length >> 2)) {
      this.givenOut = true;
      return this.buf.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    this.buf.copy(out, 0, 0, n);
    return out;
  }

  /** Bytes mode: keeps the buffer, unless given out, as the scratch (the sink is not used after). */
  close(): void {
    const buf = this.buf;
    if (!this.bytes || this.givenOut || buf === EMPTY || buf.length > KEEP_SCRATCH) return;
    if (!this.owned || scratch === null) {
      scratch = buf;
      scratchView = this.view;
    }
  }
}

interface EncodeOptions {
  /** Levels of array/struct nesting allowed (default 64, at most 1000). */
  maxDepth?: number;
  /**
   * Write `null` and `undefined` as `<nil/>` (the nil extension). Default
   * true; false throws EncodeError instead, for a peer that keeps to the
   * spec (Python's `allow_none=False`).
   */
  allowNone?: boolean;
}

interface DumpsOptions extends EncodeOptions {
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
export function referenceDumps(params: readonly unknown[] | Fault, options?: string | DumpsOptions): string {
  return write(params, options, toText);
}

/**
 * `dumps` as UTF-8 bytes, written straight into one buffer (no string
 * built): what a server sends. The same writer as `dumps`, byte for byte.
 */
export function referenceBufferDumps(params: readonly unknown[] | Fault, options?: string | DumpsOptions): Buffer {
  return write(params, options, toBytes);
}

/** One `<value>…</value>` element. */
export function referenceEncodeValue(value: unknown, options?: EncodeOptions): string {
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
  const sink = new Sink(finish === toBytes);
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
  /** Arrays, structs and Maps being written, to refuse cycles; made at the first one (a scalar result needs none). */
  private path: Set<object> | null = null;
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
    if (Array.isArray(v)) return this.container(v, level, () => this.array(v, level + 1));
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
    if (v instanceof Map) return this.container(v, level, () => this.map(v, level + 1));
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      return this.container(v, level, () => this.struct(v as Record<string, unknown>, level + 1));
    }
    throw new EncodeError(`cannot encode ${describe(v)} as XML-RPC`);
  }

  private container(v: object, level: number, write: () => void): void {
    const path = (this.path ??= new Set());
    if (path.has(v)) throw new EncodeError('cannot encode a cyclic structure');
    if (level + 1 > this.maxDepth) {
      throw new EncodeError(`arrays/structs nest deeper than ${this.maxDepth} levels (maxDepth)`);
    }
    path.add(v);
    write();
    path.delete(v);
  }

  private array(items: readonly unknown[], level: number): void {
    this.out.add('<value><array><data>');
    let i = 0;
    try {
      for (; i < items.length; i++) {
        // A run of int32s goes straight into the buffer, without value()'s dispatch per item.
        i = this.out.intRun(items, i);
        if (i < items.length) this.value(items[i], level);
      }
    } catch (err) {
      throw located(err, `[${i}]`, undefined);
    }
    this.out.add('</data></array></value>');
  }

  private struct(obj: Record<string, unknown>, level: number): void {
    this.out.add('<value><struct>');
    for (const key of Object.keys(obj)) {
      const member = obj[key];
      if (member !== undefined) this.member(key, member, level);
    }
    this.out.add('</struct></value>');
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
      const escaped = escapeText(name, 'member name');
      // A string, boolean or number goes in with its member's tags as one
      // piece, their constant parts joined: fewer pieces for the document's
      // string to gather and flatten. The same text value() writes.
      switch (typeof value) {
        case 'string':
          out.add('<member><name>' + escaped + '</name><value><string>' + escapeText(value, 'string') + '</string></value></member>');
          return;
        case 'boolean':
          out.add(
            '<member><name>' +
              escaped +
              (value ? '</name><value><boolean>1</boolean></value></member>' : '</name><value><boolean>0</boolean></value></member>'),
          );
          return;
        case 'number':
          if ((value | 0) !== value) {
            // Not an int32: value() writes it as a double too.
            out.add('<member><name>' + escaped + '</name><value><double>' + formatDouble(value) + '</double></value></member>');
            return;
          }
          if (!out.buffered() && !Object.is(value, -0)) {
            out.add('<member><name>' + escaped + '</name><value><int>' + value + '</int></value></member>');
            return;
          }
          break;
        default: // containers and the rest: value() below
      }
      out.add('<member><name>' + escaped + '</name>');
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

// Characters XML 1.0 cannot carry, raw or as a reference (with `u`, a lone
// surrogate is a code point of its own and falls outside every range).
const NOT_XML_CHAR = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const NEEDS_ESCAPE = /[&<>\r]/;
const ESCAPES = /[&<>\r]/g;
const ESCAPE_OF: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };

/**
 * Character data for an element. `\r` goes out as `&#13;`: a raw CR would be
 * turned into LF by the reader's line-end normalisation.
 */
function escapeText(text: string, what: string): string {
  // One pass over the common case (nothing to escape, nothing refused, no
  // surrogate) instead of two regular expressions; anything else takes the
  // general path, which decides exactly as before.
  let bits = 0;
  for (let k = 0; k < text.length; k++) {
    const c = text.charCodeAt(k);
    bits |= c;
    if (c < 0x20 ? c !== 0x09 && c !== 0x0a : c >= 0xd800 || c === 0x26 || c === 0x3c || c === 0x3e) return escapeTextFrom(text, what, k, bits);
  }
  if (bits >= 0x80) noteNonAscii();
  return text;
}

/** Escapes from `at` on, while the text holds no surrogate and nothing XML refuses; else the general path. */
function escapeTextFrom(text: string, what: string, at: number, bits: number): string {
  let out = '';
  let run = 0;
  for (let k = at; k < text.length; k++) {
    const c = text.charCodeAt(k);
    bits |= c;
    let escaped: string;
    if (c === 0x26) escaped = '&amp;';
    else if (c === 0x3c) escaped = '&lt;';
    else if (c === 0x3e) escaped = '&gt;';
    else if (c === 0x0d) escaped = '&#13;';
    else if (c < 0x20 ? c !== 0x09 && c !== 0x0a : c >= 0xd800) return escapeTextChecked(text, what);
    else continue;
    out += text.slice(run, k) + escaped;
    run = k + 1;
  }
  if (bits >= 0x80) noteNonAscii();
  return out + text.slice(run);
}

function escapeTextChecked(text: string, what: string): string {
  noteNonAscii(); // a surrogate brought it here, or it throws
  const bad = NOT_XML_CHAR.exec(text);
  if (bad !== null) {
    const code = bad[0].codePointAt(0) as number;
    throw new EncodeError(`${what} holds U+${code.toString(16).toUpperCase().padStart(4, '0')} at index ${bad.index}, which XML 1.0 cannot carry`);
  }
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPES, (c) => ESCAPE_OF[c] as string) : text;
}

/**
 * Decimal notation with a point and no exponent (the spec allows nothing
 * else), from the shortest digits that round-trip (`String(n)`).
 */
function formatDouble(n: number): string {
  if (!Number.isFinite(n)) throw new EncodeError(`${n} has no XML-RPC representation`);
  const sign = n < 0 || Object.is(n, -0) ? '-' : '';
  const shortest = String(Math.abs(n));
  const e = shortest.indexOf('e');
  if (e === -1) return sign + (shortest.includes('.') ? shortest : shortest + '.0');
  const mantissa = shortest.slice(0, e);
  const exponent = Number(shortest.slice(e + 1));
  const point = mantissa.indexOf('.');
  const digits = point === -1 ? mantissa : mantissa.slice(0, point) + mantissa.slice(point + 1);
  const intDigits = (point === -1 ? mantissa.length : point) + exponent;
  if (intDigits <= 0) return sign + '0.' + '0'.repeat(-intDigits) + digits;
  if (intDigits >= digits.length) return sign + digits + '0'.repeat(intDigits - digits.length) + '.0';
  return sign + digits.slice(0, intDigits) + '.' + digits.slice(intDigits);
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `YYYYMMDDTHH:MM:SS` in UTC; milliseconds are dropped. */
function formatDate(d: Date): string {
  const time = d.getTime();
  if (Number.isNaN(time)) throw new EncodeError('cannot encode an invalid Date');
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) throw new EncodeError(`year ${year} does not fit the 4 digits of an XML-RPC dateTime`);
  return (
    pad(year, 4) +
    pad(d.getUTCMonth() + 1, 2) +
    pad(d.getUTCDate(), 2) +
    'T' +
    pad(d.getUTCHours(), 2) +
    ':' +
    pad(d.getUTCMinutes(), 2) +
    ':' +
    pad(d.getUTCSeconds(), 2)
  );
}
