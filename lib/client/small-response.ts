// The smallest methodResponses, read straight from their bytes: one int,
// boolean or plain string, as a server writes the result of `add(40, 2)`.
// The general decoder (parseMethodResponse) first makes the document's text,
// a DataView and its module state, which for a response of 113 bytes costs
// several times more than reading it (about 9,000 instructions a call). This
// reads only what encoders write for such responses and says NOT_SMALL for
// anything else (a fault, a struct, a double, white space inside a value, a
// character reference...), which the general decoder then reads from its
// start. What it accepts the general decoder accepts with the same value
// (test/client-small-response.test.ts). The server's twin for calls is
// lib/xmlrpc/small-call.ts; this one is the client's, beside its only caller
// (response-result.ts).

import type { XmlRpcValue } from '../xmlrpc/values.js';

/** Larger bodies are not small responses: giving up on them costs nothing then. */
export const SMALL_RESPONSE_BYTES = 512;

/** What readSmallResponse returns for a body it does not read. */
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
/** What our encoders (and Python's, but for its line breaks) write around the value, whole. */
const PLAIN_START = bytesOf('<?xml version="1.0"?><methodResponse><params><param><value>');
const PLAIN_END = bytesOf('</value></param></params></methodResponse>');
const O_METHODRESPONSE = bytesOf('<methodResponse>');
const C_METHODRESPONSE = bytesOf('</methodResponse>');
const O_PARAMS = bytesOf('<params>');
const C_PARAMS = bytesOf('</params>');
const O_PARAM = bytesOf('<param>');
const C_PARAM = bytesOf('</param>');
const O_VALUE = bytesOf('<value>');
const C_VALUE = bytesOf('</value>');
const O_INT = bytesOf('<int>');
const C_INT = bytesOf('</int>');
const O_I4 = bytesOf('<i4>');
const C_I4 = bytesOf('</i4>');
const O_BOOLEAN = bytesOf('<boolean>');
const C_BOOLEAN = bytesOf('</boolean>');
const O_STRING = bytesOf('<string>');
const C_STRING = bytesOf('</string>');

/** Is `tag` at b[i]? */
function at(b: Uint8Array, i: number, tag: Uint8Array): boolean {
  const n = tag.length;
  if (i + n > b.length) return false;
  for (let k = 0; k < n; k++) if (b[i + k] !== tag[k]) return false;
  return true;
}

/** Past the XML white space at b[i]. */
function space(b: Uint8Array, i: number): number {
  for (const n = b.length; i < n; i++) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x0a && c !== 0x09 && c !== 0x0d) break;
  }
  return i;
}

/** Strings up to this length are made in JavaScript: a call into Buffer's latin1Slice costs more for a few bytes. */
const SHORT = 24;

/** ASCII bytes as a string. */
function latin1(b: Buffer, start: number, stop: number): string {
  if (stop - start > SHORT) return (b as unknown as { latin1Slice(start: number, end: number): string }).latin1Slice(start, stop);
  let text = '';
  for (let k = start; k < stop; k++) text += String.fromCharCode(b[k]!);
  return text;
}

/** Where text of printable ASCII, with no markup or reference (no '<', '&', '>'), starting at b[i] ends at a '<'; -1 otherwise. */
function plainText(b: Uint8Array, i: number): number {
  for (const n = b.length; i < n; i++) {
    const c = b[i]!;
    if (c === LT) return i;
    if (c < 0x20 || c > 0x7e || c === AMP || c === GT) return -1;
  }
  return -1;
}

/**
 * The result in `body` when it is a methodResponse of one small value
 * written plainly, else NOT_SMALL (the general decoder's to read, or to
 * refuse). No decode option changes what is read here: a scalar has no
 * nesting, and it is not a double.
 */
export function readSmallResponse(b: Buffer): XmlRpcValue | typeof NOT_SMALL {
  const n = b.length;
  if (n > SMALL_RESPONSE_BYTES) return NOT_SMALL;
  // Our encoders' layout in one comparison, else element by element.
  let i = at(b, 0, PLAIN_START) ? PLAIN_START.length : valueStart(b);
  if (i < 0) return NOT_SMALL;

  let v: XmlRpcValue;
  if (b[i] !== LT) {
    // Untyped: a string of plain text.
    const t = plainText(b, i);
    if (t < 0) return NOT_SMALL;
    v = latin1(b, i, t);
    i = t;
  } else if (at(b, i, O_INT) || at(b, i, O_I4)) {
    const int = b[i + 2] === 0x6e; // <int>
    let k = i + (int ? O_INT.length : O_I4.length);
    const neg = b[k] === MINUS;
    if (neg) k++;
    const digits = k;
    let x = 0;
    for (const stop = Math.min(n, digits + 10); k < stop; k++) {
      const c = b[k]!;
      if (c < ZERO || c > NINE) break;
      x = x * 10 + (c - ZERO);
    }
    if (k === digits || x > (neg ? 2147483648 : 2147483647)) return NOT_SMALL;
    v = neg && x !== 0 ? -x : x; // "-0" is the integer 0
    const close = int ? C_INT : C_I4;
    if (!at(b, k, close)) return NOT_SMALL;
    i = k + close.length;
  } else if (at(b, i, O_BOOLEAN)) {
    const c = b[i + O_BOOLEAN.length];
    if (c !== ZERO && c !== ZERO + 1) return NOT_SMALL;
    v = c === ZERO + 1;
    i += O_BOOLEAN.length + 1;
    if (!at(b, i, C_BOOLEAN)) return NOT_SMALL;
    i += C_BOOLEAN.length;
  } else if (at(b, i, O_STRING)) {
    const from = i + O_STRING.length;
    const t = plainText(b, from);
    if (t < 0 || !at(b, t, C_STRING)) return NOT_SMALL;
    v = latin1(b, from, t);
    i = t + C_STRING.length;
  } else {
    return NOT_SMALL;
  }

  if (i + PLAIN_END.length === n && at(b, i, PLAIN_END)) return v;
  return endsAfterValue(b, i) ? v : NOT_SMALL;
}

/** Where the value of a methodResponse starts (past its `<value>`), or -1. */
function valueStart(b: Buffer): number {
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

/** Whether what follows a value at b[i] closes the document, and nothing but white space is left. */
function endsAfterValue(b: Buffer, i: number): boolean {
  if (!at(b, i, C_VALUE)) return false;
  i = space(b, i + C_VALUE.length);
  if (!at(b, i, C_PARAM)) return false;
  i = space(b, i + C_PARAM.length);
  if (!at(b, i, C_PARAMS)) return false;
  i = space(b, i + C_PARAMS.length);
  if (!at(b, i, C_METHODRESPONSE)) return false;
  return space(b, i + C_METHODRESPONSE.length) === b.length;
}

function declarationEnd(b: Buffer): number {
  for (const d of DECLARATIONS) if (at(b, 0, d)) return d.length;
  return 0;
}
