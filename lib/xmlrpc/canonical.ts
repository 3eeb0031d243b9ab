// The fast path of a whole methodCall, or a methodResponse that is not a
// fault, written the way encoders write them:
// plain tags in their order (no prefix, attribute, comment, CDATA or empty
// element tag), white space only between elements, text with the five
// predefined entities at most. One pass over the text, tags compared by
// character code, no lexer state, no tokens. Every character it passes is
// checked on the way (tags, digits, names, text), so the document needs no
// character check after it. On anything else it gives up (`null`) and the
// strict reader (reader.ts) reads the document from its start, so what it
// accepts is a subset of what the strict reader accepts, with the same
// values (test/codec-canonical.test.ts checks both on the decoder corpora).

import { appendRun, intRun, readIntRun } from './int-run.js';
import { base64, numeral, scanBase64, scanNumeral } from './scalars.js';
import { fromShape, leaveShape, remember, shapeOf, type Shape } from './shapes.js';
import { plainDeclaration } from './xml-text.js';
import { Double, parseDateTime, type XmlRpcStruct, type XmlRpcValue } from './values.js';

// prettier-ignore
const LT = 0x3c, GT = 0x3e, AMP = 0x26, SLASH = 0x2f, RSQB = 0x5d, MINUS = 0x2d, DOT = 0x2e;
// prettier-ignore
const SP = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;

/** Thrown to give up: not an Error, no stack captured; caught by identity in `readCanonical`. */
const GIVE_UP: unique symbol = Symbol('not canonical');

// The document being read: one at a time (decoding is synchronous).
let s = '';
let pos = 0;
let view: DataView | null = null;
/** Where the document's last `<` is: no tag but the last ends past it. */
let last = 0;
let maxDepth = 0;
let wrapDoubles = false;
let allowNone = true;

function giveUp(): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- GIVE_UP is a sentinel caught by identity below, never seen outside this module
  throw GIVE_UP;
}

/**
 * The methodCall (or the methodResponse's params, `methodName` null) in
 * `text` if written canonically, else null (nothing
 * thrown: the strict reader decides). `ascii` is the document's bytes when
 * pure ASCII, for the int runs of arrays.
 */
export function readCanonical(
  text: string,
  ascii: Uint8Array | null,
  depthLimit: number,
  wrap: boolean,
  nil: boolean,
): { methodName: string | null; params: XmlRpcValue[] } | null {
  // No read past the end, of any document: one read out of bounds (V8
  // answers NaN) deoptimises its function, which then calls the charCodeAt
  // builtin for good instead of inlining it. Every scanner stops at a `<`;
  // a tag is matched only whole and, but the document's last, only if it ends
  // before the last `<`, which a `>` follows: so no scan reads past that `>`.
  last = text.lastIndexOf('<');
  if (last < 0 || text.indexOf('>', last) < 0) return null;
  s = text;
  pos = 0;
  view = ascii === null ? null : new DataView(ascii.buffer, ascii.byteOffset, ascii.byteLength);
  maxDepth = depthLimit;
  wrapDoubles = wrap;
  allowNone = nil;
  try {
    return document();
  } catch (err) {
    if (err !== GIVE_UP) throw err;
    return null;
  } finally {
    s = '';
    view = null;
  }
}

/** Is `lit` at `at`, ending before the last `<`? */
function at(i: number, lit: string): boolean {
  if (i + lit.length > last) return false;
  for (let k = 0; k < lit.length; k++) if (s.charCodeAt(i + k) !== lit.charCodeAt(k)) return false;
  return true;
}

/** `lit` at the cursor, consumed, or give up. */
function expect(lit: string): void {
  if (!at(pos, lit)) giveUp();
  pos += lit.length;
}

/** A tag compared as little-endian words over an ASCII document's bytes: the first four bytes, the last four, and the middle four past 8. */
interface Tag {
  lit: string;
  len: number;
  first: number;
  middle: number;
  last: number;
}

function word(lit: string, from: number): number {
  let w = 0;
  for (let k = 3; k >= 0; k--) w = w * 256 + lit.charCodeAt(from + k);
  return w;
}

function tag(lit: string): Tag {
  return { lit, len: lit.length, first: word(lit, 0), middle: lit.length > 8 ? word(lit, 4) : 0, last: word(lit, lit.length - 4) };
}

// prettier-ignore
const T_C_ARRAY = tag('</array>');
const T_C_BASE64 = tag('</base64>');
const T_C_BOOLEAN = tag('</boolean>');
const T_C_DATA = tag('</data>');
const T_C_DOUBLE = tag('</double>');
const T_C_I4 = tag('</i4>');
const T_C_INT = tag('</int>');
const T_C_MEMBER = tag('</member>');
const T_C_NAME = tag('</name>');
const T_C_PARAM = tag('</param>');
const T_C_PARAMS = tag('</params>');
const T_C_STRING = tag('</string>');
const T_C_STRUCT = tag('</struct>');
const T_C_VALUE = tag('</value>');
const T_O_ARRAY = tag('<array>');
const T_O_BASE64 = tag('<base64>');
const T_O_BOOLEAN = tag('<boolean>');
const T_O_DATA = tag('<data>');
const T_O_DOUBLE = tag('<double>');
const T_O_I4 = tag('<i4>');
const T_O_INT = tag('<int>');
const T_O_MEMBER = tag('<member>');
const T_O_METHODCALL = tag('<methodCall>');
const T_O_METHODNAME = tag('<methodName>');
const T_O_NAME = tag('<name>');
const T_O_NIL_E = tag('<nil/>');
const T_O_PARAM = tag('<param>');
const T_O_PARAMS = tag('<params>');
const T_O_STRING = tag('<string>');
const T_O_STRUCT = tag('<struct>');
const T_O_VALUE = tag('<value>');

/** Is tag `t` at `i`? Over the bytes when the document is ASCII (byte i is character i). */
function atTag(i: number, t: Tag): boolean {
  const v = view;
  if (v === null) return at(i, t.lit);
  const e = i + t.len;
  return e <= last && v.getUint32(i, true) === t.first && v.getUint32(e - 4, true) === t.last && (t.len <= 8 || v.getUint32(i + 4, true) === t.middle);
}

/** Tag `t` at the cursor, consumed, or give up. */
function expectTag(t: Tag): void {
  if (!atTag(pos, t)) giveUp();
  pos += t.len;
}

/** White space between elements. */
function space(): void {
  let c = s.charCodeAt(pos);
  while (c === SP || c === LF || c === TAB || c === CR) c = s.charCodeAt(++pos);
}

function document(): { methodName: string | null; params: XmlRpcValue[] } {
  pos = declaration();
  space();
  let methodName: string | null = null;
  const call = atTag(pos, T_O_METHODCALL);
  if (call) {
    pos += 12;
    space();
    expectTag(T_O_METHODNAME);
    methodName = name();
    expect('</methodName>');
    space();
  } else {
    expect('<methodResponse>');
    space();
    if (!atTag(pos, T_O_PARAMS)) giveUp(); // a fault: the strict reader checks its members
  }
  const params: XmlRpcValue[] = [];
  if (atTag(pos, T_O_PARAMS)) {
    pos += 8;
    for (;;) {
      space();
      if (!atTag(pos, T_O_PARAM)) break;
      pos += 7;
      space();
      expectTag(T_O_VALUE);
      params.push(value(0));
      space();
      expectTag(T_C_PARAM);
    }
    expectTag(T_C_PARAMS);
    space();
  }
  if (pos !== last) giveUp(); // the end tag, and white space only after it
  if (call) {
    if (!s.startsWith('</methodCall>', pos)) giveUp();
    pos += 13;
  } else {
    if (params.length !== 1 || !s.startsWith('</methodResponse>', pos)) giveUp();
    pos += 17;
  }
  const n = s.length;
  for (let c; pos < n && ((c = s.charCodeAt(pos)) === SP || c === LF || c === TAB || c === CR); pos++);
  if (pos !== n) giveUp();
  return { methodName, params };
}

/** The common XML declarations, only at the very start: where to go on. */
function declaration(): number {
  const plain = plainDeclaration(s);
  if (plain !== 0) return plain;
  if (s.charCodeAt(1) !== 0x3f) return 0;
  // The encoding was resolved from the bytes already (xml-text.ts); these forms are well formed.
  if (at(0, '<?xml version="1.0" encoding="UTF-8"?>') || at(0, '<?xml version="1.0" encoding="utf-8"?>')) return 38;
  if (at(0, "<?xml version='1.0' encoding='UTF-8'?>") || at(0, "<?xml version='1.0' encoding='utf-8'?>")) return 38;
  return giveUp();
}

/** A method name of the characters names are made of (no white space to trim, no reference). */
function name(): string {
  const start = pos;
  for (let c = s.charCodeAt(pos); ; c = s.charCodeAt(++pos)) {
    if (!(
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      (c >= 0x30 && c <= 0x39) ||
      c === DOT ||
      c === 0x5f ||
      c === 0x3a ||
      c === MINUS ||
      c === SLASH
    )) {
      break;
    }
  }
  if (pos === start) giveUp(); // an empty name is refused by the strict reader
  return s.slice(start, pos);
}

/**
 * Character data up to the next `<`, which is left at the cursor: the five
 * predefined entities decoded; a character reference, a carriage return
 * (line ends are normalised), `]]>` or a character XML forbids gives up.
 */
function text(): string {
  const start = pos;
  let i = pos;
  let out: string | null = null;
  let run = start;
  for (;;) {
    const c = s.charCodeAt(i);
    if (c > GT && c < 0xd800) {
      i++;
    } else if (c === LT) {
      break;
    } else if (c === AMP) {
      out = (out ?? '') + s.slice(run, i);
      i = run = entity(i);
      out += entityChar;
    } else if (c >= 0x20 && c < 0xd800) {
      // ' ' to '>' but '<' and '&'
      if (c === GT && s.charCodeAt(i - 1) === RSQB && s.charCodeAt(i - 2) === RSQB) giveUp();
      i++;
    } else if (c === TAB || c === LF) {
      i++;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) giveUp();
      i += 2;
    } else if (c >= 0xe000 && c <= 0xfffd) {
      i++;
    } else {
      giveUp(); // CR, a C0 control, a lone low surrogate, U+FFFE/U+FFFF, or the end
    }
  }
  pos = i;
  return out === null ? s.slice(start, i) : out + s.slice(run, i);
}

// Member names come again and again (every struct of a kind, every request
// of a client): a name of printable ASCII is looked up here by a hash of
// its length and three characters and given as the string made the first
// time, already internalised by its first use as a key, instead of a new
// string that the object's insert must look up in V8's string table. Two
// slots per hash, the newer first; process-wide and bounded (1,024 names of at
// most 32 characters). The comparison reads the whole name whatever it
// meets, so its time tells nothing of how much of a cached name matched.
const NAME_BITS = 10;
const NAME_MAX = 32;
const names: string[] = new Array<string>(1 << NAME_BITS).fill('');

/** A member name, up to its `<`: `text()`, but a name seen before is the string made then. */
function memberName(): string {
  const start = pos;
  let i = start;
  let c = s.charCodeAt(i);
  let h = 0x811c9dc5; // FNV-1a over the whole name: names of a struct often differ in one middle character
  // Printable ASCII but `<`, `&`, `>`: characters text() passes as they are.
  while (c >= SP && c < 0x7f && c !== LT && c !== AMP && c !== GT) {
    h = Math.imul(h ^ c, 0x01000193);
    c = s.charCodeAt(++i);
  }
  const n = i - start;
  if (c !== LT || n > NAME_MAX || n === 0) return text();
  pos = i;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b); // FNV's last characters reach its top bits weakly
  const slot = ((h ^ (h >>> 13)) >>> (32 - NAME_BITS)) & ~1;
  const first = names[slot] as string;
  if (sameName(first, start, n)) return first;
  const second = names[slot + 1] as string;
  if (sameName(second, start, n)) return second;
  const name = internalised(s.slice(start, i));
  names[slot + 1] = first;
  names[slot] = name;
  return name;
}

/**
 * The string V8 keeps in its table for `text`: a key given back by
 * Object.keys is internalised, and a flat string (whose charCodeAt
 * `sameName` inlines), which a slice used as a key is not (it becomes a
 * thin string, and each insert would look it up again).
 */
function internalised(text: string): string {
  const box = Object.create(null) as Record<string, number>;
  box[text] = 0;
  return Object.keys(box)[0] as string;
}

/** Is `key` (plain: see shapes.ts) the name at the cursor, up to its `<`? */
function atName(key: string): boolean {
  const n = key.length;
  if (pos + n > last) return false;
  for (let k = 0; k < n; k++) if (s.charCodeAt(pos + k) !== key.charCodeAt(k)) return false;
  return s.charCodeAt(pos + n) === LT;
}

/** Whether s[start, start + n) is `name`, every character compared. */
function sameName(name: string, start: number, n: number): boolean {
  if (name.length !== n) return false;
  let d = 0;
  for (let k = 0; k < n; k++) d |= s.charCodeAt(start + k) ^ name.charCodeAt(k);
  return d === 0;
}

/** The character of the last `entity`. */
let entityChar = '';

/** The predefined entity whose `&` is at `i`: where it ends, its character in `entityChar`; anything else gives up. */
function entity(i: number): number {
  switch (s.charCodeAt(i + 1)) {
    case 0x6c: // lt;
      entityChar = '<';
      if (at(i + 2, 't;')) return i + 4;
      break;
    case 0x67: // gt;
      entityChar = '>';
      if (at(i + 2, 't;')) return i + 4;
      break;
    case 0x61: // amp; apos;
      entityChar = '&';
      if (at(i + 2, 'mp;')) return i + 5;
      entityChar = "'";
      if (at(i + 2, 'pos;')) return i + 6;
      break;
    case 0x71: // quot;
      entityChar = '"';
      if (at(i + 2, 'uot;')) return i + 6;
      break;
  }
  return giveUp();
}

/** Was `s[from, to)` all white space? */
function blank(from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!(c === SP || c === LF || c === TAB || c === CR)) return false;
  }
  return true;
}

/** The content of a `<value>` (its start tag read), and its end tag. */
function value(level: number): XmlRpcValue {
  let c1 = s.charCodeAt(pos + 1);
  if (s.charCodeAt(pos) !== LT) {
    // Untyped text, or white space before the type element.
    const start = pos;
    const t = text();
    c1 = s.charCodeAt(pos + 1);
    if (c1 === SLASH) {
      expectTag(T_C_VALUE);
      return t;
    }
    if (!blank(start, pos)) giveUp();
  } else if (c1 === SLASH) {
    expectTag(T_C_VALUE);
    return '';
  }
  let v: XmlRpcValue;
  // pos is on `<` of the type element; c1 its first letter.
  switch (c1) {
    case 0x69: // i
      if (atTag(pos, T_O_INT)) {
        pos += 5;
        v = int();
        expectTag(T_C_INT);
      } else if (atTag(pos, T_O_I4)) {
        pos += 4;
        v = int();
        expectTag(T_C_I4);
      } else {
        return giveUp(); // i8: the strict reader
      }
      break;
    case 0x73: // s
      if (atTag(pos, T_O_STRING)) {
        pos += 8;
        v = text();
        expectTag(T_C_STRING);
      } else if (atTag(pos, T_O_STRUCT)) {
        pos += 8;
        v = struct(level);
      } else {
        return giveUp();
      }
      break;
    case 0x64: // d
      if (atTag(pos, T_O_DOUBLE)) {
        pos += 8;
        v = double();
        expectTag(T_C_DOUBLE);
      } else if (at(pos, '<dateTime.iso8601>')) {
        pos += 18;
        v = dateTime();
        expect('</dateTime.iso8601>');
      } else {
        return giveUp();
      }
      break;
    case 0x62: // b
      if (atTag(pos, T_O_BOOLEAN)) {
        pos += 9;
        v = boolean();
        expectTag(T_C_BOOLEAN);
      } else if (atTag(pos, T_O_BASE64)) {
        pos += 8;
        v = bytesOf();
        expectTag(T_C_BASE64);
      } else {
        return giveUp();
      }
      break;
    case 0x61: // a
      expectTag(T_O_ARRAY);
      v = array(level);
      break;
    case 0x6e: // n
      if (!allowNone) giveUp();
      expectTag(T_O_NIL_E);
      v = null;
      break;
    default:
      return giveUp();
  }
  space();
  expectTag(T_C_VALUE);
  return v;
}

function int(): number {
  const lt = scanNumeral(s, pos, false);
  if (lt < 0) giveUp();
  const neg = numeral.sign === MINUS;
  const v = numeral.value;
  if (v > (neg ? 2147483648 : 2147483647)) giveUp();
  pos = lt;
  return neg && v !== 0 ? -v : v; // "-0" is the integer 0
}

function boolean(): boolean {
  const lt = scanNumeral(s, pos, false);
  if (lt < 0 || numeral.sign !== 0 || numeral.digits !== 1 || numeral.value > 1) giveUp();
  pos = lt;
  return numeral.value === 1;
}

function double(): number | Double {
  const lt = scanNumeral(s, pos, true);
  if (lt < 0) giveUp();
  const n = decimal(numeral.start, numeral.end);
  if (n - n !== 0) giveUp(); // not finite
  pos = lt;
  return wrapDoubles ? new Double(n) : n;
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

function dateTime(): Date {
  const start = pos;
  // The characters of an ISO 8601 date and time; the format is parseDateTime's.
  for (let c = s.charCodeAt(pos); (c >= 0x30 && c <= 0x3a) || c === 0x54 || c === MINUS || c === 0x2b || c === DOT || c === 0x5a; c = s.charCodeAt(++pos));
  const date = parseDateTime(s.slice(start, pos));
  if (date === null) giveUp();
  return date;
}

function bytesOf(): Buffer {
  // scanBase64 accepts only the base64 alphabet, `=` and white space, all characters XML allows.
  const lt = scanBase64(s, pos);
  if (lt < 0) giveUp();
  pos = lt;
  return base64.bytes;
}

function array(level: number): XmlRpcValue[] {
  if (level + 1 > maxDepth) giveUp();
  space();
  expectTag(T_O_DATA);
  let out: XmlRpcValue[] = [];
  for (;;) {
    const k = readIntRun(s, view, pos, last);
    if (k > 0) {
      pos = intRun.end;
      out = appendRun(out, k);
    }
    space();
    if (!atTag(pos, T_O_VALUE)) break;
    pos += 7;
    out.push(value(level + 1));
  }
  expectTag(T_C_DATA);
  space();
  expectTag(T_C_ARRAY);
  return out;
}

function struct(level: number): XmlRpcStruct {
  if (level + 1 > maxDepth) giveUp();
  // A null-prototype object: `__proto__` is an own key like any other. Of a
  // kind seen before, a copy of its template (shapes.ts) while the names follow it.
  let out: XmlRpcStruct | null = null;
  let shape: Shape | null = null;
  let keys: string[] | null = null; // the names so far, off a shape
  let n = 0;
  for (;;) {
    space();
    if (!atTag(pos, T_O_MEMBER)) break;
    pos += 8;
    space();
    expectTag(T_O_NAME);
    // On a shape, the name it expects is compared in place: no scan, no hash.
    let key: string;
    if (shape !== null && shape.plain && n < shape.keys.length && atName((key = shape.keys[n] as string))) pos += key.length;
    else key = memberName();
    expectTag(T_C_NAME);
    space();
    expectTag(T_O_VALUE);
    const v = value(level + 1);
    if (out === null) {
      shape = shapeOf(key);
      if (shape !== null) {
        out = fromShape(shape);
      } else {
        out = Object.create(null) as XmlRpcStruct;
        keys = [];
      }
    } else if (shape !== null && shape.keys[n] !== key) {
      out = leaveShape(out, shape.keys, n);
      keys = shape.keys.slice(0, n);
      shape = null;
    }
    out[key] = v;
    if (keys !== null) keys.push(key);
    n++;
    space();
    expectTag(T_C_MEMBER);
  }
  expectTag(T_C_STRUCT);
  if (out === null) return Object.create(null) as XmlRpcStruct;
  if (shape !== null) {
    if (n !== shape.keys.length) out = leaveShape(out, shape.keys, n);
  } else if (keys !== null) {
    remember(keys);
  }
  return out;
}
