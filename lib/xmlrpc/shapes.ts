// The struct objects of the decoder's fast path. A struct must be a
// null-prototype object (`__proto__` an own key like any other), which V8
// makes as a dictionary: each member is a hashed insert, and each read of it
// later (the encoder's, the handler's) a hashed lookup. Structs come in
// kinds, though, the same names in the same order request after request; a
// kind seen twice in a row (by its first name) gets a template, an object
// with fast properties made by JSON.parse, and each later struct of that
// kind is a copy of it (`{ ...template }`, one copy of its fields, the
// prototype then set to null) whose values are replaced one by one: no
// dictionary, no hashing. A kind read by its layout is made at once, by a
// builder compiled for it (struct-code.ts), the prototype then set to null
// the same way. The object is the same to any reader: null
// prototype, the same own keys in the same order, each an enumerable,
// writable, configurable data property.

import { holdsParts, layout, lead, type Layout, type Lead, type Part } from './canonical-runs.js';
import { builder, heldInOrder, type Builder } from './struct-code.js';
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
  /**
   * Once there is a template, the keys are plain, and a struct of the kind
   * was read whole on it holding only scalars and arrays of scalars: the
   * layout (canonical-runs.ts) it was written in; else null.
   */
  layout: Layout | null;
  /** Once the kind has had a layout: its builder (struct-code.ts), null if it cannot have one; undefined before. */
  build: Builder | null | undefined;
  /** The parts of the last struct read the general way on the shape, not its layout's, since the layout last served: a new layout is made only from parts seen twice in a row. */
  pending: readonly Part[] | null;
}

/**
 * The kinds by first name, cleared when full: at most MAX_SHAPES kinds of at
 * most MAX_KEYS names of at most MAX_NAME characters, whatever a peer sends
 * (a kind keeps its names about twice, in `keys` and in its template).
 */
const shapes = new Map<string, Shape>();
const MAX_SHAPES = 256;
/** Past this many members, a struct is not given a template (V8 keeps fast properties well below 1,020). */
const MAX_KEYS = 128;
/** A kind with a longer name is not kept: a flood of kinds of names as long as the body limit would keep gigabytes. */
const MAX_NAME = 64;

/** The kind whose first name is `first`, if it has a template. */
export function shapeOf(first: string): Shape | null {
  const shape = shapes.get(first);
  return shape !== undefined && shape.template !== null ? shape : null;
}

/** A new struct of `shape`'s keys in order, each to be given its value. */
export function fromShape(shape: Shape): XmlRpcStruct {
  return Object.setPrototypeOf({ ...shape.template }, null) as XmlRpcStruct;
}

/** A struct of `shape`'s keys in order, `values[n]` the value of `keys[n]`: the object `fromShape` and a store per key would make (by the kind's builder when it has one). */
export function fromValues(shape: Shape, values: readonly XmlRpcValue[]): XmlRpcStruct {
  const build = shape.build;
  if (build != null) return Object.setPrototypeOf(build(values), null) as XmlRpcStruct;
  const out = fromShape(shape);
  const keys = shape.keys;
  for (let n = 0; n < keys.length; n++) out[keys[n] as string] = values[n] as XmlRpcValue;
  return out;
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
 * row it is seen. Only names heldInOrder (struct-code.ts): for those, the
 * template's key order is the inserts' order.
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
  if (!heldInOrder(keys)) return;
  for (let k = 0; k < n; k++) if ((keys[k] as string).length > MAX_NAME) return;
  if (shapes.size >= MAX_SHAPES) shapes.clear();
  shapes.set(first, { keys, template: null, plain: keys.every(plainName), leads: null, layout: null, build: undefined, pending: null });
}

/**
 * Notes that a struct of `shape` (with a template, plain keys) was just read
 * whole on it the general way, its members holding `parts`: they become its
 * layout if they were the last ones so read too. Two kinds of struct under
 * one name that alternate (a member now a string, now nil) then keep
 * the layout of whichever came twice in a row, and no layout is made
 * again and again.
 */
export function rememberLayout(shape: Shape, parts: readonly Part[]): void {
  if (shape.layout !== null && holdsParts(shape.layout, parts)) return;
  if (shape.pending !== null && sameParts(shape.pending, parts)) {
    shape.layout = layout(shape.keys, parts);
    shape.pending = null;
    if (shape.layout !== null && shape.build === undefined) shape.build = builder(shape.keys);
  } else {
    shape.pending = parts;
  }
}

/** Notes that a struct of `shape` was just read by its layout. */
export function layoutServed(shape: Shape): void {
  shape.pending = null;
}

function sameParts(a: readonly Part[], b: readonly Part[]): boolean {
  if (a.length !== b.length) return false;
  for (let n = 0; n < a.length; n++) {
    const x = a[n] as Part;
    const y = b[n] as Part;
    if (typeof x === 'number' || typeof y === 'number') {
      if (x !== y) return false;
    } else if (x.length !== y.length || x.some((type, j) => type !== y[j])) {
      return false;
    }
  }
  return true;
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
