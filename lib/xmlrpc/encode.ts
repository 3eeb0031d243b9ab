// XML-RPC marshalling: JavaScript values to a compact XML string, built by
// hand (no DOM, no builder). Dispatch is on `typeof`, then on the class for
// objects; the value table is at the top of values.ts. The codec knows
// nothing of HTTP: the caller encodes the string as UTF-8.

import { EncodeError, Fault } from '../errors.js';
import { DateTime, Double, I8, INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, describe } from './values.js';

export interface EncodeOptions {
  /** Levels of array/struct nesting allowed (default 64, at most 1000). */
  maxDepth?: number;
}

export interface DumpsOptions extends EncodeOptions {
  /** Writes a `<methodCall>` for this method. */
  methodName?: string;
  /** Writes a `<methodResponse>`; `params` must then hold exactly one value. */
  methodResponse?: boolean;
}

export const DEFAULT_ENCODE_MAX_DEPTH = 64;
/** The encoder is recursive: this bounds its stack whatever the option says. */
const MAX_DEPTH_CEILING = 1000;

const XML_DECLARATION = '<?xml version="1.0"?>';

/**
 * Python's `xmlrpc.client.dumps`: `dumps([40, 2], 'add')` is a methodCall,
 * `dumps([x], { methodResponse: true })` a methodResponse, `dumps(fault)`
 * a fault response. Throws `EncodeError` for what XML-RPC cannot carry.
 */
export function dumps(params: readonly unknown[] | Fault, options?: string | DumpsOptions): string {
  const opts: DumpsOptions = typeof options === 'string' ? { methodName: options } : options ?? {};
  const encoder = new Encoder(maxDepthOf(opts));
  if (params instanceof Fault) {
    if (opts.methodName !== undefined) throw new EncodeError('a fault is a response: it takes no methodName');
    return XML_DECLARATION + '<methodResponse><fault>' + encoder.fault(params) + '</fault></methodResponse>';
  }
  if (!Array.isArray(params)) throw new EncodeError(`params must be an array or a Fault, got ${describe(params)}`);
  if (opts.methodResponse === true) {
    if (opts.methodName !== undefined) throw new EncodeError('a methodResponse takes no methodName');
    if (params.length !== 1) throw new EncodeError(`a methodResponse holds exactly one param, got ${params.length}`);
    return XML_DECLARATION + '<methodResponse><params><param>' + encoder.value(params[0], 0) + '</param></params></methodResponse>';
  }
  const name = opts.methodName;
  if (typeof name !== 'string' || name.length === 0) {
    throw new EncodeError('dumps needs a methodName (a methodCall) or methodResponse: true');
  }
  let xml = XML_DECLARATION + '<methodCall><methodName>' + escapeText(name, 'methodName') + '</methodName><params>';
  for (let i = 0; i < params.length; i++) xml += '<param>' + encoder.value(params[i], 0) + '</param>';
  return xml + '</params></methodCall>';
}

/** One `<value>…</value>` element. */
export function encodeValue(value: unknown, options?: EncodeOptions): string {
  return new Encoder(maxDepthOf(options ?? {})).value(value, 0);
}

function maxDepthOf(options: EncodeOptions): number {
  const depth = options.maxDepth ?? DEFAULT_ENCODE_MAX_DEPTH;
  if (!Number.isInteger(depth) || depth < 0 || depth > MAX_DEPTH_CEILING) {
    throw new RangeError(`maxDepth must be an integer in [0, ${MAX_DEPTH_CEILING}], got ${depth}`);
  }
  return depth;
}

class Encoder {
  /** Arrays, structs and Maps being written, to refuse cycles. */
  private readonly path = new Set<object>();
  constructor(private readonly maxDepth: number) {}

  /** `<value>…</value>`; `level` is the number of enclosing arrays/structs. */
  value(v: unknown, level: number): string {
    switch (typeof v) {
      case 'string':
        return '<value><string>' + escapeText(v, 'string') + '</string></value>';
      case 'number':
        if (Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX && !Object.is(v, -0)) {
          return '<value><int>' + v + '</int></value>';
        }
        return '<value><double>' + formatDouble(v) + '</double></value>';
      case 'boolean':
        return v ? '<value><boolean>1</boolean></value>' : '<value><boolean>0</boolean></value>';
      case 'bigint':
        if (v < INT64_MIN || v > INT64_MAX) throw new EncodeError(`bigint ${v} is out of the i8 (int64) range`);
        return '<value><i8>' + v + '</i8></value>';
      case 'undefined':
        return '<value><nil/></value>';
      case 'object':
        return v === null ? '<value><nil/></value>' : this.object(v, level);
      default:
        throw new EncodeError(`cannot encode ${describe(v)} as XML-RPC`);
    }
  }

  private object(v: object, level: number): string {
    if (Array.isArray(v)) return this.container(v, level, () => this.array(v, level + 1));
    if (v instanceof Date) return '<value><dateTime.iso8601>' + formatDate(v) + '</dateTime.iso8601></value>';
    if (ArrayBuffer.isView(v)) {
      return '<value><base64>' + Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') + '</base64></value>';
    }
    if (v instanceof ArrayBuffer) return '<value><base64>' + Buffer.from(v).toString('base64') + '</base64></value>';
    if (v instanceof Double) return '<value><double>' + formatDouble(v.value) + '</double></value>';
    if (v instanceof I8) return '<value><i8>' + v.value + '</i8></value>';
    if (v instanceof DateTime) return '<value><dateTime.iso8601>' + v.value + '</dateTime.iso8601></value>';
    if (v instanceof Map) return this.container(v, level, () => this.map(v, level + 1));
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null) {
      return this.container(v, level, () => this.struct(v as Record<string, unknown>, level + 1));
    }
    throw new EncodeError(`cannot encode ${describe(v)} as XML-RPC`);
  }

  private container(v: object, level: number, write: () => string): string {
    if (this.path.has(v)) throw new EncodeError('cannot encode a cyclic structure');
    if (level + 1 > this.maxDepth) {
      throw new EncodeError(`arrays/structs nest deeper than maxDepth (${this.maxDepth})`);
    }
    this.path.add(v);
    const xml = write();
    this.path.delete(v);
    return xml;
  }

  private array(items: readonly unknown[], level: number): string {
    let xml = '<value><array><data>';
    for (let i = 0; i < items.length; i++) xml += this.value(items[i], level);
    return xml + '</data></array></value>';
  }

  private struct(obj: Record<string, unknown>, level: number): string {
    let xml = '<value><struct>';
    for (const key of Object.keys(obj)) {
      const member = obj[key];
      if (member !== undefined) xml += this.member(key, member, level);
    }
    return xml + '</struct></value>';
  }

  private map(map: ReadonlyMap<unknown, unknown>, level: number): string {
    let xml = '<value><struct>';
    for (const [key, member] of map) {
      if (typeof key !== 'string') throw new EncodeError(`struct member names are strings, got a Map key ${describe(key)}`);
      if (member !== undefined) xml += this.member(key, member, level);
    }
    return xml + '</struct></value>';
  }

  private member(name: string, value: unknown, level: number): string {
    return '<member><name>' + escapeText(name, 'member name') + '</name>' + this.value(value, level) + '</member>';
  }

  fault(fault: Fault): string {
    const code = fault.faultCode;
    if (!Number.isInteger(code) || code < INT32_MIN || code > INT32_MAX) {
      throw new EncodeError(`faultCode must be an int32, got ${describe(code)}`);
    }
    if (typeof fault.faultString !== 'string') throw new EncodeError(`faultString must be a string, got ${describe(fault.faultString)}`);
    return (
      '<value><struct><member><name>faultCode</name><value><int>' + code + '</int></value></member>' +
      '<member><name>faultString</name><value><string>' + escapeText(fault.faultString, 'faultString') +
      '</string></value></member></struct></value>'
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
export function escapeText(text: string, what: string): string {
  const bad = NOT_XML_CHAR.exec(text);
  if (bad !== null) {
    const code = bad[0].codePointAt(0) as number;
    throw new EncodeError(
      `${what} holds U+${code.toString(16).toUpperCase().padStart(4, '0')} at index ${bad.index}, which XML 1.0 cannot carry`,
    );
  }
  return NEEDS_ESCAPE.test(text) ? text.replace(ESCAPES, (c) => ESCAPE_OF[c] as string) : text;
}

/**
 * Decimal notation with a point and no exponent (the spec allows nothing
 * else), from the shortest digits that round-trip (`String(n)`).
 */
export function formatDouble(n: number): string {
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
export function formatDate(d: Date): string {
  const time = d.getTime();
  if (Number.isNaN(time)) throw new EncodeError('cannot encode an invalid Date');
  const year = d.getUTCFullYear();
  if (year < 0 || year > 9999) throw new EncodeError(`year ${year} does not fit the 4 digits of an XML-RPC dateTime`);
  return (
    pad(year, 4) + pad(d.getUTCMonth() + 1, 2) + pad(d.getUTCDate(), 2) + 'T' +
    pad(d.getUTCHours(), 2) + ':' + pad(d.getUTCMinutes(), 2) + ':' + pad(d.getUTCSeconds(), 2)
  );
}
