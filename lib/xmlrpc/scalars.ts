// The fast paths of the scalar types: their plain form, the text alone up
// to the end tag, read in place with nothing sliced but the result. One
// numeral scanner serves int, i4, i8, boolean and double; base64 has its
// own. Each returns where the end tag starts, or -1 when the text is
// anything else (a reference, CDATA, a comment, a bad character): the
// reader then takes the general path, which reports what is wrong.

import { Buffer } from 'node:buffer';

// prettier-ignore
const LT = 0x3c, SLASH = 0x2f, EQUALS = 0x3d;
// prettier-ignore
const SP = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;
// prettier-ignore
const ZERO = 0x30, NINE = 0x39, PLUS = 0x2b, MINUS = 0x2d, DOT = 0x2e;

/** What the last `scanNumeral` read; one object, so that a scan allocates nothing. */
export const numeral = {
  /** Where the numeral starts (its sign, if any) and ends. */
  start: 0,
  end: 0,
  /** The sign character (`+` or `-`), or 0. */
  sign: 0,
  /** The digits of the integer part, and their value (exact up to 2^53). */
  digits: 0,
  value: 0,
};

/**
 * A numeral between optional XML white space, then an end tag: an optional
 * sign and decimal digits, and when `real` a fraction and an exponent too
 * (`1.`, `.5`, `2e-3`: what the double grammar accepts). Returns where the
 * end tag's `<` is, or -1.
 */
export function scanNumeral(s: string, i: number, real: boolean): number {
  let c = s.charCodeAt(i);
  while (c === SP || c === LF || c === TAB || c === CR) c = s.charCodeAt(++i);
  const start = i;
  const sign = c === MINUS || c === PLUS ? c : 0;
  if (sign !== 0) c = s.charCodeAt(++i);
  const first = i;
  let v = 0;
  while (c >= ZERO && c <= NINE) {
    v = v * 10 + (c - ZERO);
    c = s.charCodeAt(++i);
  }
  const digits = i - first;
  let any = digits > 0; // a digit in the mantissa (and the exponent has its own)
  if (real) {
    if (c === DOT) {
      const fraction = i + 1;
      for (c = s.charCodeAt(++i); c >= ZERO && c <= NINE; c = s.charCodeAt(++i));
      if (i > fraction) any = true;
    }
    if ((c | 0x20) === 0x65 && any) {
      // e or E
      c = s.charCodeAt(++i);
      if (c === PLUS || c === MINUS) c = s.charCodeAt(++i);
      const exponent = i;
      for (; c >= ZERO && c <= NINE; c = s.charCodeAt(++i));
      if (i === exponent) any = false;
    }
  }
  const end = i;
  while (c === SP || c === LF || c === TAB || c === CR) c = s.charCodeAt(++i);
  if (!any || c !== LT || s.charCodeAt(i + 1) !== SLASH) return -1;
  numeral.start = start;
  numeral.end = end;
  numeral.sign = sign;
  numeral.digits = digits;
  numeral.value = v;
  return i;
}

/** Base64 contents from this length are checked by re-encoding them (see `scanBase64`). */
const LONG_BASE64 = 256;
const XML_WS_RUNS = /[ \t\r\n]+/g;

/** 1 for the characters of the base64 alphabet (not `=`). */
const BASE64_ALPHABET = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/') BASE64_ALPHABET[c.charCodeAt(0)] = 1;

/** What the last `scanBase64` read. */
export const base64 = {
  bytes: Buffer.alloc(0),
  /**
   * Whether the text was checked whole by re-encoding: then it holds only
   * base64 and white space, and the reader's character check may skip it.
   */
  canonical: false,
};

/**
 * Base64 (white space allowed) up to an end tag, padded or not, never with
 * a lone last character: decoded into `base64.bytes`. Returns where the end
 * tag's `<` is, or -1.
 */
export function scanBase64(s: string, start: number): number {
  const end = s.indexOf('<', start);
  if (end - start >= LONG_BASE64 && s.charCodeAt(end + 1) === SLASH) {
    // What encoders write, canonical base64 (padded, zero trailing bits),
    // reads back to itself: decoding, encoding and comparing checks it
    // at native speed. White space (Python's line breaks) aside.
    const text = s.slice(start, end);
    const bytes = Buffer.from(text, 'base64');
    const canonical = bytes.toString('base64');
    if (canonical === text || (canonical.length < text.length && text.replace(XML_WS_RUNS, '') === canonical)) {
      base64.bytes = bytes;
      base64.canonical = true;
      return end;
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
  if (s.charCodeAt(i) !== LT || s.charCodeAt(i + 1) !== SLASH || (pad !== 0 ? count % 4 !== 0 : count % 4 === 1)) return -1;
  // Buffer.from skips white space inside base64.
  base64.bytes = Buffer.from(s.slice(start, i), 'base64');
  base64.canonical = false;
  return i;
}
