// The `xmlrpc` command line's values: typed arguments in (`i/42`, `s/text`,
// JSON for arrays and structs), results out, either pretty-printed with
// their XML-RPC types or as JSON. Pure functions: handlers/xmlrpc.ts runs them.
//
// The argument grammar (xmlrpc-c's `type/value`, made friendlier):
//   i/42  i4/42  int/42        <int>, a 32-bit integer
//   i8/9007199254740993        <i8>, a 64-bit integer (exact: a bigint)
//   d/1.5  double/1.5          <double>
//   b/true  b/false  b/1  b/0  <boolean>
//   s/text  string/text        <string> (s/ is the empty string)
//   n/  nil/                   <nil/>
//   dt/20260102T03:04:05       <dateTime.iso8601>, as written (ISO 8601)
//   b64/aGVsbG8=  base64/...   <base64>, the bytes the base64 text decodes to
//   [1, "a", {"k": 2.5}]       JSON for arrays and structs: an integer is an
//   {"a": [1, 2]}              <int> (an <i8> past 32 bits), another number a
//                              <double>, null <nil/>; typed strings inside
//                              JSON stay strings
//   42  -7  1.5  true  false   bare numbers and booleans: <int>, <double>,
//                              <boolean>
//   anything else              a <string> (use s/ for a string that looks
//                              like a number, a boolean or JSON)

import { Buffer } from 'node:buffer';
import { DateTime, Double, I8, type XmlRpcValue } from '../xmlrpc/values.js';

/** A command line the CLI cannot run (exit 64): what is wrong, in one line. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

const INT32 = /^[+-]?[0-9]+$/;
const DECIMAL = /^[+-]?([0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)([eE][+-]?[0-9]+)?$/;
const BASE64 = /^[A-Za-z0-9+/\s]*={0,2}\s*$/;

/** One argument of `xmlrpc call`, as its XML-RPC value (see the grammar above). */
export function parseArg(text: string): unknown {
  const slash = text.indexOf('/');
  if (slash > 0) {
    const kind = text.slice(0, slash);
    const body = text.slice(slash + 1);
    const typed = TYPED[kind];
    if (typed !== undefined) {
      try {
        return typed(body);
      } catch (err) {
        throw new UsageError(`bad argument ${JSON.stringify(text)}: ${(err as Error).message}`);
      }
    }
  }
  const first = text.trimStart()[0];
  if (first === '[' || first === '{') {
    try {
      return jsonValue(JSON.parse(text));
    } catch (err) {
      throw new UsageError(`bad JSON argument ${JSON.stringify(text)}: ${(err as Error).message}`);
    }
  }
  if (text === 'true' || text === 'false') return text === 'true';
  if (INT32.test(text)) return integer(text);
  if (DECIMAL.test(text) && Number.isFinite(Number(text))) return new Double(Number(text));
  return text;
}

const TYPED: Record<string, (body: string) => unknown> = {
  i: int32,
  i4: int32,
  int: int32,
  i8: (body) => new I8(body.trim()),
  d: double,
  double,
  b: boolean,
  boolean,
  s: (body) => body,
  string: (body) => body,
  n: nil,
  nil,
  dt: (body) => new DateTime(body),
  'dateTime.iso8601': (body) => new DateTime(body),
  b64: base64,
  base64,
};

function int32(body: string): number {
  if (!INT32.test(body)) throw new Error('not an integer');
  const n = Number(body);
  if (n < -(2 ** 31) || n > 2 ** 31 - 1) throw new Error('out of the int (32-bit) range: use i8/');
  return n;
}

function double(body: string): Double {
  if (!DECIMAL.test(body) || !Number.isFinite(Number(body))) throw new Error('not a finite decimal number');
  return new Double(Number(body));
}

function boolean(body: string): boolean {
  if (body === 'true' || body === '1') return true;
  if (body === 'false' || body === '0') return false;
  throw new Error('a boolean is true, false, 1 or 0');
}

function nil(body: string): null {
  if (body !== '') throw new Error('n/ takes no value');
  return null;
}

function base64(body: string): Buffer {
  if (!BASE64.test(body)) throw new Error('not base64 text');
  return Buffer.from(body, 'base64');
}

/** An integer: <int> when it fits 32 bits, <i8> past that. */
function integer(text: string): number | I8 {
  const n = Number(text);
  return n >= -(2 ** 31) && n <= 2 ** 31 - 1 ? n : new I8(text.replace(/^\+/, ''));
}

/** A parsed JSON value as XML-RPC: integers <int> (or <i8>), other numbers <double>. */
export function jsonValue(v: unknown): unknown {
  if (typeof v === 'number') return Number.isInteger(v) ? integer(String(v)) : new Double(v);
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, member] of Object.entries(v)) out[k] = jsonValue(member);
    return out;
  }
  return v;
}

// ---------------------------------------------------------------------------
// Results

/**
 * A result as text, every value with its XML-RPC type (`int 42`, `double
 * 1.5`, `string "a"`), arrays and structs one member a line. Needs the
 * response decoded with `wrapDoubles`, so that a <double> 2.0 shows as one.
 */
export function show(value: XmlRpcValue, indent = ''): string {
  if (value === null) return 'nil';
  if (typeof value === 'number') return `int ${value}`;
  if (typeof value === 'bigint') return `i8 ${value}`;
  if (typeof value === 'boolean') return `boolean ${value}`;
  if (typeof value === 'string') return `string ${JSON.stringify(value)}`;
  if (value instanceof Double) return `double ${String(value.value)}`;
  if (value instanceof Date) return `dateTime.iso8601 ${value.toISOString()}`;
  if (Buffer.isBuffer(value)) return `base64 ${value.toString('base64')} (${value.length} bytes)`;
  const inner = indent + '  ';
  if (Array.isArray(value)) {
    if (value.length === 0) return 'array []';
    return `array [\n${value.map((v) => inner + show(v, inner)).join('\n')}\n${indent}]`;
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return 'struct {}';
  return `struct {\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${show(v, inner)}`).join('\n')}\n${indent}}`;
}

/**
 * A result as JSON: i8 as a number when it is exact as one (else as a
 * string), doubles as numbers, dateTime as ISO 8601 text, base64 as base64 text.
 */
export function toJson(value: XmlRpcValue): unknown {
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : String(value);
  if (value instanceof Double) return value.value;
  if (value instanceof Date) return value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (Array.isArray(value)) return value.map(toJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toJson(v);
    return out;
  }
  return value;
}

/** A value on one line, at most `width` characters: for the table of `call --all`. */
export function oneLine(value: XmlRpcValue, width = 60): string {
  const text = JSON.stringify(toJson(value)) ?? 'null';
  return text.length > width ? text.slice(0, width - 1) + '…' : text;
}
