// A struct kind's document, kept between answers (encode.ts's struct()). A
// method answers with structs of one kind: the same names in the same order,
// each with a value of the same type, request after request. Between two of
// its values, everything the encoder writes is then the same text: the
// previous value's closing tags, the next member's name and its value's
// opening tags (`</int></value></member><member><name>str1</name><value><string>`).
// Kept as one flat string, that run is one piece of the document where the
// member-by-member writer makes three or four: fewer joins, and fewer pieces
// for the document's flatten to walk when it goes to the socket. The bytes
// are the member-by-member writer's (test/codec-encode-layout.test.ts).

import { NOT_ASCII, escapeText, flat } from './encode-text.js';
import { reader, type Reader } from './struct-code.js';

/** What a member's value is written as; the runs depend on it. */
export const INT = 0;
export const STRING = 1;
export const DOUBLE = 2;
export const TRUE = 3;
export const FALSE = 4;
/** Anything written by value() between `<member><name>…</name>` and `</member>` (containers, nil, dates, bigints…). */
export const OTHER = 5;
/** `undefined`: the member is left out; a struct holding one gets no layout. */
export const SKIP = 6;
/**
 * From ARRAY on: an array of up to MAX_ITEMS scalars (INT to FALSE), its
 * types `ARRAY + Σ (type of item j + 1) << 3j` (ARRAY itself: empty). The
 * text between its items is then the layout's too: `[i, 'x' + i]` is two
 * pieces of the document between runs, where value() writes eight.
 */
export const ARRAY = 8;
export const MAX_ITEMS = 8;

/** The type of item `j` of an array of layout type `type` (ARRAY or more); -1 past its items. */
export function itemType(type: number, j: number): number {
  return j < MAX_ITEMS ? (((type - ARRAY) >> (3 * j)) & 7) - 1 : -1;
}

function itemCount(type: number): number {
  let n = 0;
  for (let code = type - ARRAY; code !== 0; code >>= 3) n++;
  return n;
}

/** An item's text before and after its own (a boolean's whole item is before). */
const ITEM_OPEN: readonly string[] = [
  '<value><int>',
  '<value><string>',
  '<value><double>',
  '<value><boolean>1</boolean></value>',
  '<value><boolean>0</boolean></value>',
];
export const ITEM_CLOSE: readonly string[] = ['</int></value>', '</string></value>', '</double></value>', '', ''];
/** `ITEM_MID[5a + b]`: the text between an item of type a and the next, of type b. */
export const ITEM_MID: readonly string[] = Array.from({ length: 25 }, (_, n) => flat((ITEM_CLOSE[Math.floor(n / 5)] as string) + (ITEM_OPEN[n % 5] as string)));
const ARRAY_OPEN = '<value><array><data>';
/** What closes an array member after its items (ITEM_CLOSE of its last item before). */
export const ARRAY_CLOSE = '</data></array></value></member>';

/** The type of `v` as a member's value: what the member-by-member writer would make of it. */
export function typeOf(v: unknown): number {
  switch (typeof v) {
    case 'string':
      return STRING;
    case 'number':
      return (v | 0) === v && (v !== 0 || 1 / v > 0) ? INT : DOUBLE;
    case 'boolean':
      return v ? TRUE : FALSE;
    case 'undefined':
      return SKIP;
    default:
      return OTHER;
  }
}

/** The text after a value of each type, up to the end of its member. */
const CLOSE: readonly string[] = ['</int></value></member>', '</string></value></member>', '</double></value></member>', '', '', '</member>'];
/** The text after a member's `</name>`, before its value's text. */
const OPEN: readonly string[] = [
  '<value><int>',
  '<value><string>',
  '<value><double>',
  '<value><boolean>1</boolean></value></member>',
  '<value><boolean>0</boolean></value></member>',
  '',
];

/** The text after a value of this type, up to the end of its member. */
function closeOf(type: number): string {
  if (type < ARRAY) return CLOSE[type] as string;
  const n = itemCount(type);
  return (n === 0 ? '' : (ITEM_CLOSE[itemType(type, n - 1)] as string)) + ARRAY_CLOSE;
}

/** The text after a member's `</name>`, before its value's own text (for an array, up to its first item's). */
function openOf(type: number): string {
  if (type < ARRAY) return OPEN[type] as string;
  return ARRAY_OPEN + (type === ARRAY ? '' : (ITEM_OPEN[itemType(type, 0)] as string));
}

/** The text that closes a struct's member `k - 1` (or opens the struct, for k = 0) when its layout stops serving at member `k`. */
export function closeBefore(types: readonly number[], k: number): string {
  return k === 0 ? '<value><struct>' : closeOf(types[k - 1] as number);
}

export interface Layout {
  readonly types: readonly number[];
  /**
   * `runs[k]`: the text before member k's value's own text (the previous
   * member's closing tags, this one's name and opening tags; for a boolean,
   * its whole member); the last one closes the last member and the struct.
   */
  readonly runs: readonly string[];
  /** For an array member, `runs[k]` without its first item's opening tags (what goes before an item of another type); '' for the others. */
  readonly heads: readonly string[];
  /** Some name is not ASCII: the document is marked so at each use. */
  readonly nonAscii: boolean;
  /** The kind's reader (struct-code.ts): `read(obj, k)` is `obj[keys[k]]`, each name its own load site. Null where code generation is refused: then `obj[key]`. */
  readonly read: Reader | null;
}

interface Kind {
  readonly keys: readonly string[];
  /** The types of the last struct of this kind written member by member. */
  last: readonly number[];
  layout: Layout | null;
  /** The reader of the kind's names, made with its first layout (undefined before; null where refused): a new layout of the kind reuses it. */
  read: Reader | null | undefined;
}

/**
 * Kinds by first name, at most MAX_KINDS (cleared when full), each of at
 * most MAX_MEMBERS names of at most MAX_NAME characters: a client's
 * structs can cost a miss, never unbounded memory (about 1 MB at most,
 * and as much again for the readers' source: 64 kinds of 128 cases of
 * under 160 characters).
 */
const kinds = new Map<string, Kind>();
const MAX_KINDS = 64;
const MAX_MEMBERS = 128;
const MAX_NAME = 64;

/** The layout for a struct with these keys, in this order, if its kind has one. */
export function layoutOf(keys: readonly string[]): Layout | null {
  const n = keys.length;
  if (n === 0) return null;
  const kind = kinds.get(keys[0] as string);
  return kind !== undefined && kind.layout !== null && sameKeys(kind.keys, keys) ? kind.layout : null;
}

/**
 * A struct was written member by member (wholly or from where its layout
 * stopped serving), its members' values of `types`: the second time in a
 * row a kind comes with the same types, it gets (or changes) its layout.
 */
export function noteStruct(keys: readonly string[], types: readonly number[]): void {
  const n = keys.length;
  if (n === 0 || n > MAX_MEMBERS) return;
  for (let k = 0; k < n; k++) if ((keys[k] as string).length > MAX_NAME || types[k] === SKIP) return;
  const first = keys[0] as string;
  const kind = kinds.get(first);
  if (kind === undefined || !sameKeys(kind.keys, keys)) {
    if (kinds.size >= MAX_KINDS) kinds.clear();
    kinds.set(first, { keys, last: types, layout: null, read: undefined });
    return;
  }
  if (!sameTypes(kind.last, types)) {
    // Arrays of other items each time (a list of any length, say): the layout writes those through value(), as before array types.
    const both = merged(kind.last, types);
    kind.last = types;
    if (both === null) return;
    types = both;
  }
  if (kind.layout !== null && sameTypes(kind.layout.types, types)) return;
  if (kind.read === undefined) kind.read = reader(keys);
  kind.layout = makeLayout(keys, types, kind.read);
}

/** The same names in the same order (the first is the kind's, already matched). */
function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 1; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

function sameTypes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** `a`, where `b` differs from it only in what arrays hold (or whether an array member has a layout type): those members OTHER; else null. */
function merged(a: readonly number[], b: readonly number[]): readonly number[] | null {
  if (a.length !== b.length) return null;
  const out: number[] = [];
  for (let k = 0; k < a.length; k++) {
    const x = a[k] as number;
    const y = b[k] as number;
    if (x === y) out.push(x);
    else if ((x === OTHER || x >= ARRAY) && (y === OTHER || y >= ARRAY)) out.push(OTHER);
    else return null;
  }
  return out;
}

function makeLayout(keys: readonly string[], types: readonly number[], read: Reader | null): Layout {
  const runs: string[] = [];
  const heads: string[] = [];
  let nonAscii = false;
  for (let k = 0; k < keys.length; k++) {
    const name = keys[k] as string;
    const type = types[k] as number;
    if (NOT_ASCII.test(name)) nonAscii = true;
    // The names were written member by member already: escapeText cannot throw here.
    const before = closeBefore(types, k) + '<member><name>' + escapeText(name, 'member name') + '</name>';
    runs.push(flat(before + openOf(type)));
    heads.push(type >= ARRAY ? flat(before + ARRAY_OPEN) : '');
  }
  runs.push(flat(closeBefore(types, keys.length) + '</struct></value>'));
  return { types, runs, heads, nonAscii, read };
}
