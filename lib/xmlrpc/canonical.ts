// The fast path of a whole methodCall, or a methodResponse that is not a
// fault, written the way encoders write them:
// plain tags in their order (no prefix, attribute, comment, CDATA or empty
// element tag), white space only between elements, text with the five
// predefined entities at most. One pass over the text, tags compared by
// character code (as words, canonical-runs.ts, over an ASCII document's
// bytes), and the runs of tags encoders write back to back compared as one;
// no lexer state, no tokens. Every character it passes is
// checked on the way (tags, digits, names, text), so the document needs no
// character check after it. On anything else it gives up (`null`) and the
// strict reader (reader.ts) reads the document from its start, so what it
// accepts is a subset of what the strict reader accepts, with the same
// values (test/codec-canonical.test.ts checks both on the decoder corpora).

import { appendRun, intRun, readIntRun } from './int-run.js';
import { fromShape, fromValues, layoutServed, leaveShape, remember, rememberLayout, shapeOf, type Shape } from './shapes.js';
import { plainDeclaration } from './xml-text.js';
import type { XmlRpcStruct, XmlRpcValue } from './values.js';
import { boolean, bytesOf, dateTime, double, dropScalars, int, scalarEnd, useScalars } from './canonical-scalars.js';
import { GIVE_UP, atName, dropText, giveUp, memberName, text, textEnd, useText } from './canonical-text.js';
import * as runs from './canonical-runs.js';
import type { Lead, Part, Run } from './canonical-runs.js';
// Module constants, not imported bindings: TurboFan folds a module's own
// `const` into the code, but loads an imported binding from its cell with a
// hole check at every use (a switch case, a run compare).
// prettier-ignore
const {
  ARRAY, BASE64, BOOLEAN, CLOSE, C_DATA, C_DATA_C_ARRAY, C_MEMBER, C_METHODNAME, C_NAME, C_NAME_O_VALUE, C_PARAM,
  C_PARAMS, C_STRUCT, C_VALUE, DATETIME, DOUBLE, I4, INT, MEMBER_TAIL, NIL, O_ARRAY, O_BASE64, O_BOOLEAN, O_DATA,
  C_ARRAY, O_DATETIME, O_DOUBLE, O_I4, O_INT, O_MEMBER, O_MEMBER_NAME, O_METHODCALL, O_METHODNAME, O_METHODRESPONSE,
  O_NAME, O_NIL_E, O_PARAM, O_PARAMS, O_STRING, O_STRUCT, O_VALUE, STRING, STRUCT, UNTYPED, VALUE_TAIL,
  lead, scalar,
} = runs;

// prettier-ignore
const LT = 0x3c, SLASH = 0x2f, MINUS = 0x2d, DOT = 0x2e;
// prettier-ignore
const SP = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d;

// The document being read: one at a time (decoding is synchronous).
let s = '';
let pos = 0;
let view: DataView | null = null;
/** Where the document's last `<` is: no tag but the last ends past it. */
let last = 0;
let maxDepth = 0;
let wrapDoubles = false;
let allowNone = true;
/** The type (canonical-runs.ts) of the value `value()` read last. */
let valueType = UNTYPED;

/**
 * The methodCall (or the methodResponse's params, `methodName` null) in
 * `text` if written canonically, else null (nothing
 * thrown: the strict reader decides). `ascii` is the document's bytes when
 * pure ASCII: tags are compared over them.
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
  useText(text, view, last);
  useScalars(text, view);
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
    dropText();
    dropScalars();
  }
}

/** Is `lit` at `i`, ending before the last `<`? */
function at(i: number, lit: string): boolean {
  if (i + lit.length > last) return false;
  for (let k = 0; k < lit.length; k++) if (s.charCodeAt(i + k) !== lit.charCodeAt(k)) return false;
  return true;
}

/** Is run `r` at `i`, ending before the last `<`? Over the bytes, as words (canonical-runs.ts), when the document is ASCII (byte i is character i). */
function atRun(i: number, r: Run): boolean {
  const e = i + r.len;
  if (e > last) return false;
  const v = view;
  if (v === null) return atChars(i, r.lit);
  if (e - i < 8) {
    const w = r.short;
    return v.getInt32(i, true) === w[0] && v.getInt32(e - 4, true) === w[1];
  }
  const w = r.long;
  const n = w.length;
  // The last word first: compared whatever the length, its checks of the
  // view and of the words dominate every later read, which V8 then does
  // without them (the ladder's reads, each in its own branch, do not
  // dominate one another).
  if (v.getFloat64(e - 8, true) !== w[n - 1]) return false;
  if (n > 12) {
    for (let k = 0, j = i; k < n - 1; k++, j += 8) if (v.getFloat64(j, true) !== w[k]) return false;
    return true;
  }
  // Unrolled: in straight-line code the view's and the words' checks are made once.
  if (n >= 12 && v.getFloat64(i + 80, true) !== w[10]) return false;
  if (n >= 11 && v.getFloat64(i + 72, true) !== w[9]) return false;
  if (n >= 10 && v.getFloat64(i + 64, true) !== w[8]) return false;
  if (n >= 9 && v.getFloat64(i + 56, true) !== w[7]) return false;
  if (n >= 8 && v.getFloat64(i + 48, true) !== w[6]) return false;
  if (n >= 7 && v.getFloat64(i + 40, true) !== w[5]) return false;
  if (n >= 6 && v.getFloat64(i + 32, true) !== w[4]) return false;
  if (n >= 5 && v.getFloat64(i + 24, true) !== w[3]) return false;
  if (n >= 4 && v.getFloat64(i + 16, true) !== w[2]) return false;
  if (n >= 3 && v.getFloat64(i + 8, true) !== w[1]) return false;
  return n < 2 || v.getFloat64(i, true) === w[0];
}

function atChars(i: number, lit: string): boolean {
  for (let k = 0; k < lit.length; k++) if (s.charCodeAt(i + k) !== lit.charCodeAt(k)) return false;
  return true;
}

/** Run `r` at the cursor, consumed, or give up. */
function expectRun(r: Run): void {
  if (!atRun(pos, r)) giveUp();
  pos += r.len;
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
  const call = atRun(pos, O_METHODCALL);
  if (call) {
    pos += O_METHODCALL.len;
    space();
    expectRun(O_METHODNAME);
    methodName = name();
    expectRun(C_METHODNAME);
    space();
  } else {
    expectRun(O_METHODRESPONSE);
    space();
    if (!atRun(pos, O_PARAMS)) giveUp(); // a fault: the strict reader checks its members
  }
  const params: XmlRpcValue[] = [];
  if (atRun(pos, O_PARAMS)) {
    pos += O_PARAMS.len;
    for (;;) {
      space();
      if (!atRun(pos, O_PARAM)) break;
      pos += O_PARAM.len;
      space();
      expectRun(O_VALUE);
      params.push(value(0));
      space();
      expectRun(C_PARAM);
    }
    expectRun(C_PARAMS);
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

/** Was `s[from, to)` all white space? */
function blank(from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (!(c === SP || c === LF || c === TAB || c === CR)) return false;
  }
  return true;
}

/** The content of a `<value>` (its start tag read), and its end tag; its type in `valueType`. */
function value(level: number): XmlRpcValue {
  let c1 = s.charCodeAt(pos + 1);
  if (s.charCodeAt(pos) !== LT) {
    // Untyped text, or white space before the type element.
    const start = pos;
    const t = text(pos);
    pos = textEnd;
    c1 = s.charCodeAt(pos + 1);
    if (c1 === SLASH) {
      expectRun(C_VALUE);
      valueType = UNTYPED;
      return t;
    }
    if (!blank(start, pos)) giveUp();
  } else if (c1 === SLASH) {
    expectRun(C_VALUE);
    valueType = UNTYPED;
    return '';
  }
  let type: number;
  let open: Run;
  // pos is on `<` of the type element; c1 its first letter.
  switch (c1) {
    case 0x69: // i
      if (atRun(pos, (open = O_INT))) type = INT;
      else if (atRun(pos, (open = O_I4))) type = I4;
      else return giveUp(); // i8: the strict reader
      break;
    case 0x73: // s
      if (atRun(pos, (open = O_STRING))) type = STRING;
      else if (atRun(pos, (open = O_STRUCT))) type = STRUCT;
      else return giveUp();
      break;
    case 0x64: // d
      if (atRun(pos, (open = O_DOUBLE))) type = DOUBLE;
      else if (atRun(pos, (open = O_DATETIME))) type = DATETIME;
      else return giveUp();
      break;
    case 0x62: // b
      if (atRun(pos, (open = O_BOOLEAN))) type = BOOLEAN;
      else if (atRun(pos, (open = O_BASE64))) type = BASE64;
      else return giveUp();
      break;
    case 0x61: // a
      if (atRun(pos, (open = O_ARRAY))) type = ARRAY;
      else return giveUp();
      break;
    case 0x6e: // n
      if (atRun(pos, (open = O_NIL_E))) type = NIL;
      else return giveUp();
      break;
    default:
      return giveUp();
  }
  pos += open.len;
  const v = typed(type, level, false);
  valueType = type;
  return v;
}

/**
 * A value of `type`, its type's start tag read: its content, its end tag
 * and `</value>`, and when it is a `member`'s, `</member>`. As encoders
 * write them, those end tags are one run.
 */
function typed(type: number, level: number, member: boolean): XmlRpcValue {
  const v = content(type, level);
  const tail = member ? (MEMBER_TAIL[type] as Run) : (VALUE_TAIL[type] as Run);
  if (atRun(pos, tail)) {
    pos += tail.len;
    return v;
  }
  const close = CLOSE[type] as Run | null;
  if (close !== null) expectRun(close);
  space();
  expectRun(C_VALUE);
  if (member) {
    space();
    expectRun(C_MEMBER);
  }
  return v;
}

/** A value of `type`, its type's start tag read: its content, up to its end tag (for an array or a struct, through it). */
function content(type: number, level: number): XmlRpcValue {
  let v: XmlRpcValue;
  switch (type) {
    case UNTYPED:
      v = text(pos);
      pos = textEnd;
      break;
    case INT:
    case I4:
      v = int(pos);
      pos = scalarEnd;
      break;
    case STRING:
      v = text(pos);
      pos = textEnd;
      break;
    case DOUBLE:
      v = double(pos, wrapDoubles);
      pos = scalarEnd;
      break;
    case BOOLEAN:
      v = boolean(pos);
      pos = scalarEnd;
      break;
    case ARRAY:
      v = array(level);
      break;
    case STRUCT:
      v = struct(level);
      break;
    case DATETIME:
      v = dateTime(pos);
      pos = scalarEnd;
      break;
    case BASE64:
      v = bytesOf(pos);
      pos = scalarEnd;
      break;
    case NIL:
      if (!allowNone) giveUp();
      v = null;
      break;
    default:
      return giveUp();
  }
  return v;
}

function array(level: number): XmlRpcValue[] {
  if (level + 1 > maxDepth) giveUp();
  space();
  expectRun(O_DATA);
  let out: XmlRpcValue[] = [];
  let parts: number[] | null = []; // the elements' types, while a layout could hold them
  for (;;) {
    const k = readIntRun(s, view, pos, last);
    if (k > 0) {
      pos = intRun.end;
      out = appendRun(out, k);
      if (parts !== null) {
        const i4s = intRun.i4s;
        if (out.length > MAX_FLAT_ARRAY || (i4s !== 0 && i4s !== k)) parts = null;
        else for (let j = 0; j < k; j++) parts.push(i4s === 0 ? INT : I4);
      }
    }
    if (!atRun(pos, O_VALUE)) {
      space();
      if (!atRun(pos, O_VALUE)) break;
    }
    pos += O_VALUE.len;
    out.push(value(level + 1));
    if (parts !== null) {
      if (out.length > MAX_FLAT_ARRAY || !scalar(valueType)) parts = null;
      else parts.push(valueType);
    }
  }
  if (atRun(pos, C_DATA_C_ARRAY)) {
    pos += C_DATA_C_ARRAY.len;
  } else {
    expectRun(C_DATA);
    space();
    expectRun(C_ARRAY);
  }
  arrayParts = parts;
  return out;
}

/** Past this many elements, an array is no part of a layout (its length is likely to vary). */
const MAX_FLAT_ARRAY = 16;
/** The element types of the array `array()` read last, if a layout can hold them. */
let arrayParts: readonly number[] | null = null;

/** What a layout (canonical-runs.ts) would hold of the value `value()` or `typed()` just read as `type`, if it can. */
function partOf(type: number): Part | null {
  return type === ARRAY ? arrayParts : scalar(type) ? type : null;
}

/**
 * A struct of a kind with a layout (shapes.ts), read as the layout says:
 * a comparison per run, a reader per value. Null at the first difference,
 * with the cursor back at the struct's start, for the general way: what
 * it has read is read again then, but only values (a layout holds no struct),
 * so at most twice.
 */
function byLayout(level: number): XmlRpcStruct | null {
  if (!atRun(pos, O_MEMBER_NAME)) return null;
  const shape = shapeOf(memberName(pos + O_MEMBER_NAME.len));
  const l = shape?.layout ?? null;
  if (shape === null || l === null || level + 2 > maxDepth) return null; // an array in it is at level + 2
  const start = pos;
  const { runs, types, sizes } = l;
  let r = runs[0] as Run;
  if (!atRun(pos, r)) return null;
  pos += r.len;
  const values = new Array<XmlRpcValue>(sizes.length);
  let q = 0;
  for (let n = 0; n < sizes.length; n++) {
    const size = sizes[n] as number;
    let v: XmlRpcValue;
    if (size < 0) {
      v = content(types[q] as number, level + 1);
      if (!atRun(pos, (r = runs[++q] as Run))) return back(start);
      pos += r.len;
    } else {
      const a = new Array<XmlRpcValue>(size);
      for (let j = 0; j < size; j++) {
        a[j] = content(types[q] as number, level + 2);
        if (!atRun(pos, (r = runs[++q] as Run))) return back(start);
        pos += r.len;
      }
      v = a;
    }
    values[n] = v;
  }
  layoutServed(shape);
  return fromValues(shape, values);
}

function back(start: number): null {
  pos = start;
  return null;
}

function struct(level: number): XmlRpcStruct {
  if (level + 1 > maxDepth) giveUp();
  const known = byLayout(level);
  if (known !== null) return known;
  // A null-prototype object: `__proto__` is an own key like any other. Of a
  // kind seen before, a copy of its template (shapes.ts) while the names follow it.
  let out: XmlRpcStruct | null = null;
  let shape: Shape | null = null;
  let leads: (Lead | null)[] | null = null; // the shape's, while on it
  let keys: string[] | null = null; // the names so far, off a shape
  let types: number[] | null = null; // and their values' types
  let parts: Part[] | null = null; // on a shape of plain keys, what a layout would hold of each member, while it can
  let n = 0;
  for (;;) {
    // On a shape, the member written as its lead says (its name, and the
    // type its value had last) is one comparison up to its value's text.
    if (leads !== null && n < leads.length) {
      const lead = leads[n] as Lead | null;
      if (lead !== null && atRun(pos, lead)) {
        pos += lead.len;
        (out as XmlRpcStruct)[(shape as Shape).keys[n] as string] = typed(lead.type, level + 1, true);
        if (parts !== null) parts = addPart(parts, lead.type);
        n++;
        continue;
      }
    }
    if (atRun(pos, O_MEMBER_NAME)) {
      pos += O_MEMBER_NAME.len;
    } else {
      space();
      if (!atRun(pos, O_MEMBER)) break;
      pos += O_MEMBER.len;
      space();
      expectRun(O_NAME);
    }
    // On a shape, the name it expects is compared in place: no scan, no hash.
    let key: string;
    if (shape !== null && shape.plain && n < shape.keys.length && atName(pos, (key = shape.keys[n] as string))) {
      pos += key.length;
    } else {
      key = memberName(pos);
      pos = textEnd;
    }
    if (atRun(pos, C_NAME_O_VALUE)) {
      pos += C_NAME_O_VALUE.len;
    } else {
      expectRun(C_NAME);
      space();
      expectRun(O_VALUE);
    }
    const v = value(level + 1);
    const type = valueType;
    if (out === null) {
      shape = shapeOf(key);
      if (shape !== null) {
        out = fromShape(shape);
        leads = shape.leads;
        if (shape.plain) parts = [];
      } else {
        out = Object.create(null) as XmlRpcStruct;
        keys = [];
        types = [];
      }
    } else if (shape !== null && shape.keys[n] !== key) {
      out = leaveShape(out, shape.keys, n);
      keys = shape.keys.slice(0, n);
      types = new Array<number>(n).fill(UNTYPED); // not known: those members get a lead once read the general way
      shape = null;
      leads = null;
      parts = null;
    }
    if (parts !== null) parts = addPart(parts, type);
    if (leads !== null && n < leads.length && (leads[n]?.type ?? UNTYPED) !== type) leads[n] = lead(key, type); // the member's type changed
    out[key] = v;
    if (keys !== null) {
      keys.push(key);
      (types as number[]).push(type);
    }
    n++;
    if (atRun(pos, C_MEMBER)) {
      pos += C_MEMBER.len;
    } else {
      space();
      expectRun(C_MEMBER);
    }
  }
  expectRun(C_STRUCT);
  if (out === null) return Object.create(null) as XmlRpcStruct;
  if (shape !== null) {
    if (n !== shape.keys.length) out = leaveShape(out, shape.keys, n);
    else if (parts !== null) rememberLayout(shape, parts);
  } else if (keys !== null) {
    remember(keys, types as number[]);
  }
  return out;
}

/** `parts` and the part of a member of `type`, or null if a layout cannot hold it. */
function addPart(parts: Part[], type: number): Part[] | null {
  const part = partOf(type);
  if (part === null) return null;
  parts.push(part);
  return parts;
}
