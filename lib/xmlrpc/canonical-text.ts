// The character data of the fast path (canonical.ts): text with the five
// predefined entities, every character checked as XML requires, and member
// names, given from a bounded cache as the strings made the first time.
// Each reader takes where to start and gives where it stopped in `textEnd`;
// the document is the one `useText` was given.

import { Buffer } from 'node:buffer';
import { latin1Slice } from '../bytes.js';

/** Thrown to give up: not an Error, no stack captured; caught by identity in `readCanonical`. */
export const GIVE_UP: unique symbol = Symbol('not canonical');

export function giveUp(): never {
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- GIVE_UP is a sentinel caught by identity in readCanonical, never seen outside the fast path
  throw GIVE_UP;
}

// prettier-ignore
const LT = 0x3c, GT = 0x3e, AMP = 0x26, RSQB = 0x5d, SP = 0x20, TAB = 0x09, LF = 0x0a;

// The document being read, its bytes when ASCII, and where its last `<` is (see readCanonical).
let s = '';
let view: DataView | null = null;
let last = 0;

/** Where the last `text` or `memberName` stopped: the `<` after the text. */
export let textEnd = 0;

/** Reads `text` (`bytes` its bytes if ASCII, else null) from now on; `lastLt` is where its last `<` is. */
export function useText(text: string, bytes: DataView | null, lastLt: number): void {
  s = text;
  view = bytes;
  last = lastLt;
}

/** Is `lit` at `i`, ending before the last `<`? */
function at(i: number, lit: string): boolean {
  if (i + lit.length > last) return false;
  for (let k = 0; k < lit.length; k++) if (s.charCodeAt(i + k) !== lit.charCodeAt(k)) return false;
  return true;
}

/**
 * Character data from `i` up to the next `<` (where `textEnd` is left): the
 * five predefined entities decoded; a character reference, a carriage return
 * (line ends are normalised), `]]>` or a character XML forbids gives up.
 */
export function text(i: number): string {
  if (view !== null) return asciiText(view, i);
  const start = i;
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
      out += String.fromCharCode(entityCode);
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
  textEnd = i;
  return out === null ? s.slice(start, i) : out + s.slice(run, i);
}

/** `text` over an ASCII document's bytes: every byte is a character below U+0080. It stops at the `<` at `last` at the latest. */
function asciiText(v: DataView, i: number): string {
  const start = i;
  for (;;) {
    const c = v.getUint8(i);
    if (c > GT) {
      i++;
    } else if (c === LT) {
      break;
    } else if (c === AMP) {
      return gathered(v, start);
    } else if (c >= 0x20) {
      if (c === GT && i >= 2 && v.getUint8(i - 1) === RSQB && v.getUint8(i - 2) === RSQB) giveUp();
      i++;
    } else if (c === TAB || c === LF) {
      i++;
    } else {
      giveUp(); // CR or a C0 control
    }
  }
  textEnd = i;
  return s.slice(start, i);
}

// Text holding an entity, decoded byte by byte into a scratch buffer and
// made one flat string: joined from slices and entity characters, a text of
// 13 characters or more would be a cons string, which its first reader (the
// encoder, echoing it) flattens through a runtime call.
const SCRATCH_BYTES = 16384;
const scratch = Buffer.alloc(SCRATCH_BYTES);

/** `asciiText` from `start` for text that holds an entity: the same checks, the characters gathered in `scratch`. */
function gathered(v: DataView, start: number): string {
  const end = s.indexOf('<', start); // found: the text ends at the last `<` at the latest
  const out = end - start <= SCRATCH_BYTES ? scratch : Buffer.alloc(end - start);
  let n = 0;
  let i = start;
  for (;;) {
    const c = v.getUint8(i);
    if (c > GT) {
      out[n++] = c;
      i++;
    } else if (c === LT) {
      break;
    } else if (c === AMP) {
      i = entity(i);
      out[n++] = entityCode;
    } else if (c >= 0x20) {
      if (c === GT && i >= 2 && v.getUint8(i - 1) === RSQB && v.getUint8(i - 2) === RSQB) giveUp();
      out[n++] = c;
      i++;
    } else if (c === TAB || c === LF) {
      out[n++] = c;
      i++;
    } else {
      giveUp(); // CR or a C0 control
    }
  }
  textEnd = i;
  return latin1Slice.call(out, 0, n);
}

// The entities as little-endian words of their bytes.
// prettier-ignore
const W_LT = 0x3b746c26, W_GT = 0x3b746726, W_AMP = 0x706d6126, W_APOS = 0x6f706126, W_QUOT = 0x6f757126, SEMI = 0x3b, W_S_SEMI = 0x3b73, W_T_SEMI = 0x3b74;

/** The character code of the last `entity`. */
let entityCode = 0;

/** The predefined entity whose `&` is at `i`: where it ends, its character's code in `entityCode`; anything else gives up. */
function entity(i: number): number {
  const v = view;
  if (v !== null && i + 6 <= last) {
    const w = v.getInt32(i, true);
    if (w === W_LT) {
      entityCode = 0x3c;
      return i + 4;
    }
    if (w === W_GT) {
      entityCode = 0x3e;
      return i + 4;
    }
    if (w === W_AMP && v.getUint8(i + 4) === SEMI) {
      entityCode = 0x26;
      return i + 5;
    }
    if (w === W_APOS && v.getUint16(i + 4, true) === W_S_SEMI) {
      entityCode = 0x27;
      return i + 6;
    }
    if (w === W_QUOT && v.getUint16(i + 4, true) === W_T_SEMI) {
      entityCode = 0x22;
      return i + 6;
    }
    return giveUp();
  }
  switch (s.charCodeAt(i + 1)) {
    case 0x6c: // lt;
      entityCode = 0x3c;
      if (at(i + 2, 't;')) return i + 4;
      break;
    case 0x67: // gt;
      entityCode = 0x3e;
      if (at(i + 2, 't;')) return i + 4;
      break;
    case 0x61: // amp; apos;
      entityCode = 0x26;
      if (at(i + 2, 'mp;')) return i + 5;
      entityCode = 0x27;
      if (at(i + 2, 'pos;')) return i + 6;
      break;
    case 0x71: // quot;
      entityCode = 0x22;
      if (at(i + 2, 'uot;')) return i + 6;
      break;
  }
  return giveUp();
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

/** A member name from `start` up to its `<`: `text()`, but a name seen before is the string made then. */
export function memberName(start: number): string {
  let i = start;
  let c = s.charCodeAt(i);
  let h = 0x811c9dc5; // FNV-1a over the whole name: names of a struct often differ in one middle character
  // Printable ASCII but `<`, `&`, `>`: characters text() passes as they are.
  while (c >= SP && c < 0x7f && c !== LT && c !== AMP && c !== GT) {
    h = Math.imul(h ^ c, 0x01000193);
    c = s.charCodeAt(++i);
  }
  const n = i - start;
  if (c !== LT || n > NAME_MAX || n === 0) return text(start);
  textEnd = i;
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

/** Whether s[start, start + n) is `name`, every character compared. */
function sameName(name: string, start: number, n: number): boolean {
  if (name.length !== n) return false;
  let d = 0;
  for (let k = 0; k < n; k++) d |= s.charCodeAt(start + k) ^ name.charCodeAt(k);
  return d === 0;
}

/** Is `key` (plain: see shapes.ts) the name at `i`, up to its `<`? */
export function atName(i: number, key: string): boolean {
  const n = key.length;
  if (i + n > last) return false;
  for (let k = 0; k < n; k++) if (s.charCodeAt(i + k) !== key.charCodeAt(k)) return false;
  return s.charCodeAt(i + n) === LT;
}

/** Forgets the document. */
export function dropText(): void {
  s = '';
  view = null;
}
