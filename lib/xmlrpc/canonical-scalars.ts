// The numbers, dates and bytes of the fast path (canonical.ts). Each reader
// takes where its value's text starts and leaves where it stopped (the end
// tag's `<`) in `scalarEnd`; what it does not take gives up, and the strict
// reader decides. The document is the one `useScalars` was given.

import { base64, numeral, scanBase64, scanNumeral } from './scalars.js';
import { Double, parseDateTime } from './values.js';
import { giveUp } from './canonical-text.js';

// prettier-ignore
const LT = 0x3c, SLASH = 0x2f, MINUS = 0x2d, DOT = 0x2e;

// The document being read, and its bytes when ASCII (see readCanonical).
let s = '';
let view: DataView | null = null;

/** Where the last reader stopped. */
export let scalarEnd = 0;

/** Reads `text` (`bytes` its bytes if ASCII, else null) from now on. */
export function useScalars(text: string, bytes: DataView | null): void {
  s = text;
  view = bytes;
}

/** Forgets the document. */
export function dropScalars(): void {
  s = '';
  view = null;
}

export function int(pos: number): number {
  const dv = view;
  if (dv !== null) {
    // Up to 9 digits and the end tag's `<`, as encoders write an int: always an int32.
    let i = pos;
    let n = 0;
    let c = dv.getUint8(i);
    while (c >= 0x30 && c <= 0x39 && i - pos < 9) {
      n = n * 10 + (c - 0x30);
      c = dv.getUint8(++i);
    }
    if (c === LT && i > pos) {
      scalarEnd = i;
      return n;
    }
  }
  const lt = scanNumeral(s, pos, false);
  if (lt < 0) giveUp();
  const neg = numeral.sign === MINUS;
  const v = numeral.value;
  if (v > (neg ? 2147483648 : 2147483647)) giveUp();
  scalarEnd = lt;
  return neg && v !== 0 ? -v : v; // "-0" is the integer 0
}

export function boolean(pos: number): boolean {
  const dv = view;
  if (dv !== null) {
    const c = dv.getUint8(pos);
    if ((c === 0x30 || c === 0x31) && dv.getUint8(pos + 1) === LT) {
      scalarEnd = pos + 1;
      return c === 0x31;
    }
  }
  const lt = scanNumeral(s, pos, false);
  if (lt < 0 || numeral.sign !== 0 || numeral.digits !== 1 || numeral.value > 1) giveUp();
  scalarEnd = lt;
  return numeral.value === 1;
}

/** A double, as a `Double` if `wrap`. */
export function double(pos: number, wrap: boolean): number | Double {
  const plain = view === null ? NaN : plainDecimal(view, pos);
  if (plain === plain) return wrap ? new Double(plain) : plain; // not NaN
  const lt = scanNumeral(s, pos, true);
  if (lt < 0) giveUp();
  const n = decimal(numeral.start, numeral.end);
  if (n - n !== 0) giveUp(); // not finite
  scalarEnd = lt;
  return wrap ? new Double(n) : n;
}

/**
 * A double as encoders write one, read from an ASCII document's bytes in
 * one pass: an optional `-`, 1 to 15 digits with at most one `.` among or
 * around them, then the end tag's `</`, no white space; its value as
 * `decimal` makes it (the digits over an exact power of ten). Anything
 * else: NaN, and `double` reads it the general way.
 */
function plainDecimal(v: DataView, pos: number): number {
  let i = pos;
  let c = v.getUint8(i);
  const neg = c === MINUS;
  if (neg) c = v.getUint8(++i);
  let m = 0;
  let digits = 0;
  let fraction = -1; // digits after the point, once there is one
  for (;;) {
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 15) return NaN;
      m = m * 10 + (c - 0x30);
      digits++;
      if (fraction >= 0) fraction++;
    } else if (c === DOT && fraction < 0) {
      fraction = 0;
    } else {
      break;
    }
    c = v.getUint8(++i);
  }
  if (c !== LT || digits === 0 || v.getUint8(i + 1) !== SLASH) return NaN;
  scalarEnd = i;
  const n = fraction > 0 ? m / (POW10[fraction] as number) : m;
  return neg ? -n : n;
}

/** 10^k for k in [0, 15], each exact. */
const POW10 = Array.from({ length: 16 }, (_, k) => 10 ** k);

/**
 * The double that Number() gives for s[start, end) (a numeral of the double
 * grammar). With no exponent and at most 15 digits, the digits make an exact
 * integer and its power of ten is exact, so one division, correctly rounded,
 * is the correctly rounded value of the text (Clinger's fast path), which
 * is what Number() gives; anything else is Number()'s.
 */
function decimal(start: number, end: number): number {
  let i = start;
  let c = s.charCodeAt(i);
  const neg = c === MINUS;
  if (neg || c === 0x2b) c = s.charCodeAt(++i);
  let m = 0;
  let digits = 0;
  let fraction = -1; // digits after the point, once there is one
  for (; i < end; c = s.charCodeAt(++i)) {
    if (c >= 0x30 && c <= 0x39) {
      m = m * 10 + (c - 0x30);
      digits++;
      if (fraction >= 0) fraction++;
    } else if (c === DOT && fraction < 0) {
      fraction = 0;
    } else {
      return Number(s.slice(start, end)); // an exponent
    }
  }
  if (digits > 15) return Number(s.slice(start, end));
  const n = fraction > 0 ? m / (POW10[fraction] as number) : m;
  return neg ? -n : n;
}

export function dateTime(pos: number): Date {
  const start = pos;
  // The characters of an ISO 8601 date and time; the format is parseDateTime's.
  for (let c = s.charCodeAt(pos); (c >= 0x30 && c <= 0x3a) || c === 0x54 || c === MINUS || c === 0x2b || c === DOT || c === 0x5a; c = s.charCodeAt(++pos));
  const date = parseDateTime(s.slice(start, pos));
  if (date === null) giveUp();
  scalarEnd = pos;
  return date;
}

export function bytesOf(pos: number): Buffer {
  // scanBase64 accepts only the base64 alphabet, `=` and white space, all characters XML allows.
  const lt = scanBase64(s, pos);
  if (lt < 0) giveUp();
  scalarEnd = lt;
  return base64.bytes;
}
