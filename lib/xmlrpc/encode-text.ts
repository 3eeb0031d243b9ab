// The text of scalars as the encoder writes them (encode.ts): character data
// escaped, doubles in plain decimal notation, dates in XML-RPC's format.

import { Buffer } from 'node:buffer';
import { EncodeError } from '../errors.js';
import { noteNonAscii } from './sink.js';

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
 * `.0` … `.99609375`: the decimal digits of k/256 after the point. A double
 * under 2^24 with no more than 8 fractional bits has an exact expansion of at
 * most 8 decimals, and any other decimal of that length or shorter is at least
 * 1e-8 away, far more than half its ulp (under 2^-30): its shortest digits
 * (`String(n)`) are exactly its integer part's and these.
 */
const FRACTION_256: readonly string[] = Array.from({ length: 256 }, (_, k) => (k === 0 ? '.0' : String(k / 256).slice(1)));

/**
 * Decimal notation with a point and no exponent (the spec allows nothing
 * else), from the shortest digits that round-trip (`String(n)`).
 */
export function formatDouble(n: number): string {
  const a = n < 0 ? -n : n;
  if (a < 16777216) {
    const whole = Math.floor(a);
    const k = (a - whole) * 256; // both exact
    if ((k | 0) === k) return n < 0 || (n === 0 && 1 / n < 0) ? '-' + whole + FRACTION_256[k] : whole + (FRACTION_256[k] as string);
  }
  if (!Number.isFinite(n)) throw new EncodeError(`${n} has no XML-RPC representation`);
  const sign = n < 0 ? '-' : '';
  const shortest = String(a);
  // Between 1e-6 and 1e21 String() writes no exponent, and a point exactly when there is a fraction.
  if (a >= 1e-6 && a < 1e21) return sign + (Number.isInteger(a) ? shortest + '.0' : shortest);
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

export const NOT_ASCII = /[^\x00-\x7f]/;

/** `s` as one sequential string, not a tree of the pieces it was joined from: cheaper to copy, every time it is. */
export function flat(s: string): string {
  return Buffer.from(s, 'utf8').toString('utf8');
}
