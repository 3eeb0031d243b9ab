// The struct objects of the decoder's fast path. A struct must be a
// null-prototype object (`__proto__` an own key like any other), which V8
// makes as a dictionary: each member is a hashed insert, and each read of it
// later (the encoder's, the handler's) a hashed lookup. Structs come in
// kinds, though, the same names in the same order request after request; a
// kind seen twice in a row (by its first name) gets a template, an object
// with fast properties made by JSON.parse, and each later struct of that
// kind is a copy of it (`{ ...template }`, one copy of its fields, the
// prototype then set to null) whose values are replaced one by one: no
// dictionary, no hashing. The object is the same to any reader: null
// prototype, the same own keys in the same order, each an enumerable,
// writable, configurable data property.

import { lead, type Lead } from './canonical-runs.js';
import type { XmlRpcStruct, XmlRpcValue } from './values.js';

export interface Shape {
  /** The member names, in order, with no repeat. */
  readonly keys: readonly string[];
  /** The fast-properties object holding those keys (values null), once the kind was seen twice; else null. */
  template: object | null;
  /** Every key is printable ASCII but `<`, `&` and `>`, not empty: written as it is, so that it can be compared with the document's characters. */
  readonly plain: boolean;
  /**
   * Once there is a template, and the keys are plain: each member's lead
   * (canonical-runs.ts) with the type its value had when last read the
   * general way; null for an untyped value.
   */
  leads: (Lead | null)[] | null;
}

/** The kinds by first name: bounded, cleared when full. */
const shapes = new Map<string, Shape>();
const MAX_SHAPES = 256;
/** Past this many members, a struct is not given a template (V8 keeps fast properties well below 1,020). */
const MAX_KEYS = 128;

/** The kind whose first name is `first`, if it has a template. */
export function shapeOf(first: string): Shape | null {
  const shape = shapes.get(first);
  return shape !== undefined && shape.template !== null ? shape : null;
}

/** A new struct of `shape`'s keys in order, each to be given its value. */
export function fromShape(shape: Shape): XmlRpcStruct {
  return Object.setPrototypeOf({ ...shape.template }, null) as XmlRpcStruct;
}

/**
 * `o[key] = v` for member `k` of a struct made `fromShape`. One store
 * site per member position: a site that meets one name (and one object
 * shape) is kept monomorphic by V8, a map check, a name check and the
 * field's store; a single `o[key]` for all members meets every name, and
 * each of its stores is a megamorphic lookup of the name among the
 * object's descriptors (about 300 instructions). Only the sites of the
 * kinds seen go past the interpreter's first store.
 */
export function put(o: XmlRpcStruct, k: number, key: string, v: XmlRpcValue): void {
  // prettier-ignore
  switch (k) {
    case 0: o[key] = v; return; case 1: o[key] = v; return; case 2: o[key] = v; return; case 3: o[key] = v; return;
    case 4: o[key] = v; return; case 5: o[key] = v; return; case 6: o[key] = v; return; case 7: o[key] = v; return;
    case 8: o[key] = v; return; case 9: o[key] = v; return; case 10: o[key] = v; return; case 11: o[key] = v; return;
    case 12: o[key] = v; return; case 13: o[key] = v; return; case 14: o[key] = v; return; case 15: o[key] = v; return;
    case 16: o[key] = v; return; case 17: o[key] = v; return; case 18: o[key] = v; return; case 19: o[key] = v; return;
    case 20: o[key] = v; return; case 21: o[key] = v; return; case 22: o[key] = v; return; case 23: o[key] = v; return;
    case 24: o[key] = v; return; case 25: o[key] = v; return; case 26: o[key] = v; return; case 27: o[key] = v; return;
    case 28: o[key] = v; return; case 29: o[key] = v; return; case 30: o[key] = v; return; case 31: o[key] = v; return;
    case 32: o[key] = v; return; case 33: o[key] = v; return; case 34: o[key] = v; return; case 35: o[key] = v; return;
    case 36: o[key] = v; return; case 37: o[key] = v; return; case 38: o[key] = v; return; case 39: o[key] = v; return;
    case 40: o[key] = v; return; case 41: o[key] = v; return; case 42: o[key] = v; return; case 43: o[key] = v; return;
    case 44: o[key] = v; return; case 45: o[key] = v; return; case 46: o[key] = v; return; case 47: o[key] = v; return;
    case 48: o[key] = v; return; case 49: o[key] = v; return; case 50: o[key] = v; return; case 51: o[key] = v; return;
    case 52: o[key] = v; return; case 53: o[key] = v; return; case 54: o[key] = v; return; case 55: o[key] = v; return;
    case 56: o[key] = v; return; case 57: o[key] = v; return; case 58: o[key] = v; return; case 59: o[key] = v; return;
    case 60: o[key] = v; return; case 61: o[key] = v; return; case 62: o[key] = v; return; case 63: o[key] = v; return;
    case 64: o[key] = v; return; case 65: o[key] = v; return; case 66: o[key] = v; return; case 67: o[key] = v; return;
    case 68: o[key] = v; return; case 69: o[key] = v; return; case 70: o[key] = v; return; case 71: o[key] = v; return;
    case 72: o[key] = v; return; case 73: o[key] = v; return; case 74: o[key] = v; return; case 75: o[key] = v; return;
    case 76: o[key] = v; return; case 77: o[key] = v; return; case 78: o[key] = v; return; case 79: o[key] = v; return;
    case 80: o[key] = v; return; case 81: o[key] = v; return; case 82: o[key] = v; return; case 83: o[key] = v; return;
    case 84: o[key] = v; return; case 85: o[key] = v; return; case 86: o[key] = v; return; case 87: o[key] = v; return;
    case 88: o[key] = v; return; case 89: o[key] = v; return; case 90: o[key] = v; return; case 91: o[key] = v; return;
    case 92: o[key] = v; return; case 93: o[key] = v; return; case 94: o[key] = v; return; case 95: o[key] = v; return;
    case 96: o[key] = v; return; case 97: o[key] = v; return; case 98: o[key] = v; return; case 99: o[key] = v; return;
    case 100: o[key] = v; return; case 101: o[key] = v; return; case 102: o[key] = v; return; case 103: o[key] = v; return;
    case 104: o[key] = v; return; case 105: o[key] = v; return; case 106: o[key] = v; return; case 107: o[key] = v; return;
    case 108: o[key] = v; return; case 109: o[key] = v; return; case 110: o[key] = v; return; case 111: o[key] = v; return;
    case 112: o[key] = v; return; case 113: o[key] = v; return; case 114: o[key] = v; return; case 115: o[key] = v; return;
    case 116: o[key] = v; return; case 117: o[key] = v; return; case 118: o[key] = v; return; case 119: o[key] = v; return;
    case 120: o[key] = v; return; case 121: o[key] = v; return; case 122: o[key] = v; return; case 123: o[key] = v; return;
    case 124: o[key] = v; return; case 125: o[key] = v; return; case 126: o[key] = v; return; case 127: o[key] = v; return;
    default: o[key] = v;
  }
}

/** The first `n` members of a struct made `fromShape`, in a plain null-prototype object: the struct turned out another kind. */
export function leaveShape(out: XmlRpcStruct, keys: readonly string[], n: number): XmlRpcStruct {
  const plain = Object.create(null) as XmlRpcStruct;
  for (let k = 0; k < n; k++) plain[keys[k] as string] = out[keys[k] as string] as XmlRpcValue;
  return plain;
}

/**
 * Notes the names of a struct just read the plain way, and its values'
 * types (canonical-runs.ts): its kind gets a template the second time in a
 * row it is seen. Only names that are never
 * array indices (no leading digit) and never `__proto__`, with no repeat:
 * for those, the template's key order is the inserts' order.
 */
export function remember(keys: string[], types: readonly number[]): void {
  const n = keys.length;
  if (n < 2 || n > MAX_KEYS) return;
  const first = keys[0] as string;
  const known = shapes.get(first);
  if (known !== undefined && known.keys.length === n) {
    let same = true;
    for (let k = 1; k < n && same; k++) same = known.keys[k] === keys[k];
    if (same) {
      if (known.template === null) {
        known.template = template(keys);
        if (known.plain) known.leads = keys.map((key, k) => lead(key, types[k] as number));
      }
      return;
    }
  }
  for (const key of keys) {
    const c = key.charCodeAt(0);
    if ((c >= 0x30 && c <= 0x39) || key === '__proto__') return;
  }
  if (new Set(keys).size !== n) return;
  if (shapes.size >= MAX_SHAPES) shapes.clear();
  shapes.set(first, { keys, template: null, plain: keys.every(plainName), leads: null });
}

function plainName(key: string): boolean {
  if (key.length === 0) return false;
  for (let k = 0; k < key.length; k++) {
    const c = key.charCodeAt(k);
    if (c < 0x20 || c > 0x7e || c === 0x3c || c === 0x26 || c === 0x3e) return false;
  }
  return true;
}

function template(keys: readonly string[]): object {
  let json = '{';
  for (const key of keys) json += `${json.length > 1 ? ',' : ''}${JSON.stringify(key)}:null`;
  return JSON.parse(json + '}') as object;
}
