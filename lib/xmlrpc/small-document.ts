// The smallest documents, read straight from their bytes: a methodCall of a
// method name and a few ints, booleans or plain strings, as `add(40, 2)` is
// sent, and a methodResponse of one such value, as its answer comes back.
// The general decoder (decode.ts) first makes the document's text, a
// DataView and its module state, which for a document of 110-170 bytes
// costs several times more than reading it (9,000-12,000 instructions);
// this reads only what encoders write for such documents and gives up on
// anything else (a fault, a struct, a double, white space inside a value, a
// reference...), which the general decoder then reads from its start. What
// it accepts the strict reader accepts with the same values
// (test/codec-small-call.test.ts, test/codec-small-response.test.ts).

import { latin1Slice } from '../bytes.js';
import type { XmlRpcValue } from './values.js';

/** Larger documents are not small: giving up on them costs nothing then. */
export const SMALL_DOCUMENT_BYTES = 512;

/** What readSmallResponse returns for a document it does not read. */
export const NOT_SMALL: unique symbol = Symbol('not a small response');

// prettier-ignore
const LT = 0x3c, GT = 0x3e, AMP = 0x26, MINUS = 0x2d, ZERO = 0x30, NINE = 0x39, QUESTION = 0x3f;

function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

// The declarations encoders write (ours, Python's and the common ones), only at the very start.
const DECLARATIONS = [
  '<?xml version="1.0"?>',
  "<?xml version='1.0'?>",
  '<?xml version="1.0" encoding="UTF-8"?>',
  '<?xml version="1.0" encoding="utf-8"?>',
  "<?xml version='1.0' encoding='UTF-8'?>",
  "<?xml version='1.0' encoding='utf-8'?>",
].map(bytesOf);
const O_METHODCALL = bytesOf('<methodCall>');
const O_METHODNAME = bytesOf('<methodName>');
const C_METHODNAME = bytesOf('</methodName>');
const O_PARAMS = bytesOf('<params>');
const C_PARAMS = bytesOf('</params>');
const O_PARAM = bytesOf('<param>');
const C_PARAM = bytesOf('</param>');
const O_VALUE = bytesOf('<value>');
const C_VALUE = bytesOf('</value>');
const C_METHODCALL = bytesOf('</methodCall>');
const O_METHODRESPONSE = bytesOf('<methodResponse>');
const C_METHODRESPONSE = bytesOf('</methodResponse>');
/** What our encoders (and Python's, but for its line breaks) write around a response's value, whole. */
const PLAIN_RESPONSE_START = bytesOf('<?xml version="1.0"?><methodResponse><params><param><value>');
const PLAIN_RESPONSE_END = bytesOf('</param></params></methodResponse>');
const O_INT = bytesOf('<int>');
const C_INT = bytesOf('</int>');
const O_I4 = bytesOf('<i4>');
const C_I4 = bytesOf('</i4>');
const O_BOOLEAN = bytesOf('<boolean>');
const C_BOOLEAN = bytesOf('</boolean>');
const O_STRING = bytesOf('<string>');
const C_STRING = bytesOf('</string>');

/** 1 for the bytes of a method name read here (those the general decoder's fast path takes too). */
const NAME_CHAR = new Uint8Array(256);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:-/') NAME_CHAR[c.charCodeAt(0)] = 1;

/** Is `tag` at b[i]? */
function at(b: Uint8Array, i: number, tag: Uint8Array): boolean {
  const n = tag.length;
  if (i + n > b.length) return false;
  for (let k = 0; k < n; k++) if (b[i + k] !== tag[k]) return false;
  return true;
}

/** Past the XML white space at b[i]. */
function space(b: Uint8Array, i: number): number {
  // Loads stay within the bytes: one past the end is undefined, which makes every comparison a generic one.
  for (const n = b.length; i < n; i++) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) break;
  }
  return i;
}

/** Strings up to this length are made in JavaScript: a call into Buffer's latin1Slice costs more than making them (about 130 against 25 ns for 3 bytes). */
const SHORT = 24;

/** ASCII bytes as a string. */
function latin1(b: Buffer, start: number, stop: number): string {
  if (stop - start > SHORT) return latin1Slice.call(b, start, stop);
  let text = '';
  for (let k = start; k < stop; k++) text += String.fromCharCode(b[k]!);
  return text;
}

/** Method names met before, by a hash of their bytes: a client calls the same few again and again. */
const NAME_BITS = 6;
const names: string[] = new Array<string>(1 << NAME_BITS).fill('');

/** The method name b[start, stop): the same string as last time when the bytes are. */
function nameOf(b: Buffer, start: number, stop: number): string {
  const n = stop - start;
  if (n > SHORT) return latin1(b, start, stop);
  const slot = (Math.imul(n ^ (b[start]! << 8) ^ (b[stop - 1]! << 16) ^ (b[start + (n >> 1)]! << 4), 0x9e3779b1) >>> (32 - NAME_BITS)) & ((1 << NAME_BITS) - 1);
  const known = names[slot]!;
  if (known.length === n) {
    let k = 0;
    while (k < n && known.charCodeAt(k) === b[start + k]) k++;
    if (k === n) return known;
  }
  const made = latin1(b, start, stop);
  names[slot] = made;
  return made;
}

/** Where the last `scalar` ended (past its `</value>`); module state, so that a read allocates nothing for it. */
let end = 0;
/** Where the last `scalar`'s text (its digits, its 0 or 1, its characters) began and ended, and which of these it was. */
let valueFrom = 0;
let valueTo = 0;
let valueKind = 0;
// prettier-ignore
const INT = 0, BOOLEAN = 1, TEXT = 2;

/**
 * The call in `b` when it is a small call written plainly, else null.
 * `maxBytes` is the decoder's option: a larger document is the general
 * decoder's to refuse.
 */
export function readSmallCall(b: Buffer, maxBytes: number | undefined): { methodName: string; params: XmlRpcValue[] } | null {
  const n = b.length;
  if (n > SMALL_DOCUMENT_BYTES || (maxBytes !== undefined && n > maxBytes)) return null;
  if (memoKinds !== null) {
    const call = memoCall(b, n);
    if (call !== null) return call;
  }
  const spans: number[] = [];
  const call = plainCall(b, n, spans);
  if (call !== null) remember(b, n, call.methodName, spans);
  return call;
}

/** readSmallCall without the call memo: element by element, every time (for the memo's differential test). */
export function readSmallCallPlain(b: Buffer, maxBytes: number | undefined): { methodName: string; params: XmlRpcValue[] } | null {
  const n = b.length;
  if (n > SMALL_DOCUMENT_BYTES || (maxBytes !== undefined && n > maxBytes)) return null;
  return plainCall(b, n, []);
}

/** The call read element by element; `spans` gets each value's text's start, end and kind. */
function plainCall(b: Buffer, n: number, spans: number[]): { methodName: string; params: XmlRpcValue[] } | null {
  let i = 0;
  if (b[1] === QUESTION) {
    // '?': one of the common declarations, or the general decoder's.
    const d = declarationEnd(b);
    if (d === 0) return null;
    i = space(b, d);
  }
  if (!at(b, i, O_METHODCALL)) return null;
  i = space(b, i + O_METHODCALL.length);
  if (!at(b, i, O_METHODNAME)) return null;
  i += O_METHODNAME.length;
  const nameStart = i;
  while (i < n && NAME_CHAR[b[i]!] === 1) i++;
  // An empty name is the strict reader's to refuse.
  if (i === nameStart || !at(b, i, C_METHODNAME)) return null;
  const methodName = nameOf(b, nameStart, i);
  i = space(b, i + C_METHODNAME.length);
  const params: XmlRpcValue[] = [];
  if (at(b, i, O_PARAMS)) {
    i = space(b, i + O_PARAMS.length);
    while (at(b, i, O_PARAM)) {
      i = space(b, i + O_PARAM.length);
      if (!at(b, i, O_VALUE)) return null;
      const v = scalar(b, i + O_VALUE.length);
      if (v === undefined) return null;
      params.push(v);
      spans.push(valueFrom, valueTo, valueKind);
      i = space(b, end);
      if (!at(b, i, C_PARAM)) return null;
      i = space(b, i + C_PARAM.length);
    }
    if (!at(b, i, C_PARAMS)) return null;
    i = space(b, i + C_PARAMS.length);
  }
  if (!at(b, i, C_METHODCALL)) return null;
  if (space(b, i + C_METHODCALL.length) !== n) return null;
  return { methodName, params };
}

// The call memo. A client calls the same few methods with the same layout,
// its values apart: the last call read element by element is kept as the
// text between its values (every byte of it, the declaration, white space
// and tags), and the kind of each value. A document that is the same text
// around values of the same kinds reads as that call: the plain reader
// would walk the same bytes to the same decisions, and each value is read
// with the plain reader's rules. One latin1 string of the document and a
// comparison per run of text, where the plain reader tests byte by byte.
// test/codec-call-memo.test.ts compares it with readSmallCallPlain.

/** The text before, between and after the memo's values, and their kinds (null before any call is read). */
let memoRuns: string[] = [];
let memoKinds: number[] | null = null;
let memoName = '';
/** Calls read through the memo so far (its test checks that it is used). */
export let callMemoReads = 0;

function remember(b: Buffer, n: number, methodName: string, spans: number[]): void {
  const runs: string[] = [];
  const kinds: number[] = [];
  let from = 0;
  for (let k = 0; k < spans.length; k += 3) {
    runs.push(latin1Flat(b, from, spans[k]!));
    from = spans[k + 1]!;
    kinds.push(spans[k + 2]!);
  }
  runs.push(latin1Flat(b, from, n));
  memoRuns = runs;
  memoKinds = kinds;
  memoName = methodName;
}

function latin1Flat(b: Buffer, start: number, stop: number): string {
  return latin1Slice.call(b, start, stop);
}

/** The call in `b` when it is the memo's text around values of its kinds, else null (the plain reader decides then). */
function memoCall(b: Buffer, n: number): { methodName: string; params: XmlRpcValue[] } | null {
  const text = latin1Flat(b, 0, n);
  const runs = memoRuns;
  const kinds = memoKinds!;
  // Made at its size: an empty array's first push grows it to 17 elements (a builtin call, and the garbage).
  const params = new Array<XmlRpcValue>(kinds.length);
  let p = 0;
  for (let k = 0; ; k++) {
    const run = runs[k]!;
    const q = p + run.length;
    if (q > n || text.slice(p, q) !== run) return null;
    p = q;
    if (k === kinds.length) break;
    const kind = kinds[k];
    if (kind === INT) {
      const neg = text.charCodeAt(p) === MINUS;
      if (neg) p++;
      const digits = p;
      let x = 0;
      for (const stop = Math.min(n, digits + 10); p < stop; p++) {
        const c = text.charCodeAt(p);
        if (c < ZERO || c > NINE) break;
        x = x * 10 + (c - ZERO);
      }
      if (p === digits || x > (neg ? 2147483648 : 2147483647)) return null;
      params[k] = neg && x !== 0 ? -x : x;
    } else if (kind === BOOLEAN) {
      const c = text.charCodeAt(p);
      if (c !== ZERO && c !== ZERO + 1) return null;
      params[k] = c === ZERO + 1;
      p++;
    } else {
      const from = p;
      for (;;) {
        if (p === n) return null;
        const c = text.charCodeAt(p);
        if (c === LT) break;
        if (c < 0x20 || c > 0x7e || c === AMP || c === GT) return null;
        p++;
      }
      params[k] = latin1(b, from, p);
    }
  }
  if (p !== n) return null;
  callMemoReads++;
  return { methodName: memoName, params };
}

/**
 * The result in `b` when it is a methodResponse of one small value written
 * plainly, else NOT_SMALL. `maxBytes` as for readSmallCall; no other decode
 * option changes what is read here (a scalar has no nesting, and is not a
 * double or a nil).
 */
export function readSmallResponse(b: Buffer, maxBytes: number | undefined): XmlRpcValue | typeof NOT_SMALL {
  const n = b.length;
  if (n > SMALL_DOCUMENT_BYTES || (maxBytes !== undefined && n > maxBytes)) return NOT_SMALL;
  // Our encoders' layout in one comparison, else element by element.
  let i = at(b, 0, PLAIN_RESPONSE_START) ? PLAIN_RESPONSE_START.length : responseValueStart(b);
  if (i < 0) return NOT_SMALL;
  const v = scalar(b, i);
  if (v === undefined) return NOT_SMALL;
  i = end;
  if (i + PLAIN_RESPONSE_END.length === n && at(b, i, PLAIN_RESPONSE_END)) return v;
  i = space(b, i);
  if (!at(b, i, C_PARAM)) return NOT_SMALL;
  i = space(b, i + C_PARAM.length);
  if (!at(b, i, C_PARAMS)) return NOT_SMALL;
  i = space(b, i + C_PARAMS.length);
  if (!at(b, i, C_METHODRESPONSE)) return NOT_SMALL;
  return space(b, i + C_METHODRESPONSE.length) === n ? v : NOT_SMALL;
}

/** Where the value of a methodResponse starts (past its `<value>`), or -1. */
function responseValueStart(b: Buffer): number {
  let i = 0;
  if (b[1] === QUESTION) {
    const d = declarationEnd(b);
    if (d === 0) return -1;
    i = space(b, d);
  }
  if (!at(b, i, O_METHODRESPONSE)) return -1;
  i = space(b, i + O_METHODRESPONSE.length);
  if (!at(b, i, O_PARAMS)) return -1;
  i = space(b, i + O_PARAMS.length);
  if (!at(b, i, O_PARAM)) return -1;
  i = space(b, i + O_PARAM.length);
  if (!at(b, i, O_VALUE)) return -1;
  return i + O_VALUE.length;
}

function declarationEnd(b: Buffer): number {
  for (const d of DECLARATIONS) if (at(b, 0, d)) return d.length;
  return 0;
}

/** The value whose `<value>` ends at b[i-1], `end` set past its `</value>`; undefined when it is not one read here. */
function scalar(b: Buffer, i: number): XmlRpcValue | undefined {
  if (b[i] !== LT) {
    // Untyped: a string of plain text.
    const t = plainText(b, i);
    if (t < 0 || !at(b, t, C_VALUE)) return undefined;
    end = t + C_VALUE.length;
    valueFrom = i;
    valueTo = t;
    valueKind = TEXT;
    return latin1(b, i, t);
  }
  let v: XmlRpcValue;
  let close: Uint8Array;
  if (at(b, i, O_INT) || at(b, i, O_I4)) {
    const int = b[i + 2] === 0x6e; // <int>
    const from = i + (int ? O_INT.length : O_I4.length);
    let k = from;
    const neg = b[k] === MINUS;
    if (neg) k++;
    const digits = k;
    let x = 0;
    for (const stop = Math.min(b.length, digits + 10); k < stop; k++) {
      const c = b[k]!;
      if (c < ZERO || c > NINE) break;
      x = x * 10 + (c - ZERO);
    }
    if (k === digits || x > (neg ? 2147483648 : 2147483647)) return undefined;
    v = neg && x !== 0 ? -x : x; // "-0" is the integer 0
    valueFrom = from;
    valueTo = k;
    valueKind = INT;
    i = k;
    close = int ? C_INT : C_I4;
  } else if (at(b, i, O_BOOLEAN)) {
    const c = b[i + O_BOOLEAN.length];
    if (c !== ZERO && c !== ZERO + 1) return undefined;
    v = c === ZERO + 1;
    valueFrom = i + O_BOOLEAN.length;
    valueTo = valueFrom + 1;
    valueKind = BOOLEAN;
    i += O_BOOLEAN.length + 1;
    close = C_BOOLEAN;
  } else if (at(b, i, O_STRING)) {
    const from = i + O_STRING.length;
    i = plainText(b, from);
    if (i < 0) return undefined;
    v = latin1(b, from, i);
    valueFrom = from;
    valueTo = i;
    valueKind = TEXT;
    close = C_STRING;
  } else if (at(b, i, C_VALUE)) {
    end = i + C_VALUE.length;
    valueFrom = valueTo = i;
    valueKind = TEXT;
    return '';
  } else {
    return undefined;
  }
  if (!at(b, i, close)) return undefined;
  i += close.length;
  if (!at(b, i, C_VALUE)) return undefined;
  end = i + C_VALUE.length;
  return v;
}

/** Where text of printable ASCII, with no markup or reference (no '<', '&', '>'), starting at b[i] ends at a '<'; -1 otherwise. */
function plainText(b: Buffer, i: number): number {
  for (const n = b.length; i < n; i++) {
    const c = b[i]!;
    if (c === LT) return i;
    if (c < 0x20 || c > 0x7e || c === AMP || c === GT) return -1;
  }
  return -1;
}
