// XML-RPC values across a structured clone (a worker's postMessage). The
// clone keeps data but not classes: a Double, I8 or DateTime arrives as a
// plain `{ value }` (indistinguishable from a struct with a `value` member),
// a Buffer as a Uint8Array, a decoded struct (null prototype) with
// Object.prototype. The clone does keep identity within one message, so the
// sender lists the objects whose class is to be restored (`marks`) beside the
// value, in the same message, and the receiver restores each listed object in
// place: work in proportion to the marked objects, not to the whole value.
// Used both ways by the codec tasks and registerOffloaded.

import { Buffer } from 'node:buffer';
import { DateTime, Double, I8 } from '../xmlrpc/values.js';

/** Objects whose class a clone loses, and their kinds, one letter each (`D`ouble, `I`8, date`T`ime, `B`uffer, null-prototype `S`truct). */
export interface Marks {
  readonly objects: object[];
  kinds: string;
}

/** The walk gives up (the caller encodes inline) at a container this deep: the encoder's ceiling, so cycles end too. */
const MAX_WALK_DEPTH = 1000;

/**
 * Lists the objects in `value` a clone would strip of their class. Returns
 * null when `value` holds anything a clone would change in a way the
 * encoder would see (a class instance, a function, a symbol, a Map with a
 * key that is not a string, nesting past `maxDepth` or a cycle): the caller
 * then keeps the value on this thread, where the encoder gives its own error.
 */
export function markClasses(value: unknown, maxDepth = MAX_WALK_DEPTH): Marks | null {
  const marks: Marks = { objects: [], kinds: '' };
  return mark(value, 0, Math.min(maxDepth, MAX_WALK_DEPTH), marks) ? marks : null;
}

function mark(v: unknown, depth: number, limit: number, marks: Marks): boolean {
  if (typeof v !== 'object') return typeof v !== 'function' && typeof v !== 'symbol';
  if (v === null || v instanceof Date || v instanceof ArrayBuffer) return true;
  if (ArrayBuffer.isView(v)) {
    if (Buffer.isBuffer(v)) add(marks, v, 'B');
    return true;
  }
  if (v instanceof Double) return add(marks, v, 'D');
  if (v instanceof I8) return add(marks, v, 'I');
  if (v instanceof DateTime) return add(marks, v, 'T');
  if (depth >= limit) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (!mark(v[i], depth + 1, limit, marks)) return false;
    return true;
  }
  if (v instanceof Map) {
    for (const [key, member] of v as Map<unknown, unknown>) {
      if (typeof key !== 'string' || !mark(member, depth + 1, limit, marks)) return false;
    }
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === null) add(marks, v, 'S');
  else if (proto !== Object.prototype) return false;
  for (const key of Object.keys(v)) if (!mark((v as Record<string, unknown>)[key], depth + 1, limit, marks)) return false;
  return true;
}

function add(marks: Marks, object: object, kind: string): true {
  marks.objects.push(object);
  marks.kinds += kind;
  return true;
}

const PROTOTYPES: Readonly<Record<string, object | null>> = {
  D: Double.prototype,
  I: I8.prototype,
  T: DateTime.prototype,
  B: Buffer.prototype as object,
  S: null,
};

/** Gives each cloned object listed in `marks` its class back, in place. */
export function restoreClasses(marks: Marks): void {
  const { objects, kinds } = marks;
  for (let i = 0; i < objects.length; i++) Object.setPrototypeOf(objects[i], PROTOTYPES[kinds[i]!]!);
}

/** Marks and restores over a clone: `{ value, marks }` as one message, so that identity holds. */
export interface Marked<T = unknown> {
  value: T;
  marks: Marks;
}

/**
 * Roughly how many bytes `value` encodes to, walked only until that passes
 * `threshold`: true once it does. Cheap for small values (the walk ends with
 * them) and bounded for large ones (it stops at the threshold).
 */
export function encodesLargerThan(value: unknown, threshold: number): boolean {
  const stack: object[] = [];
  let size = weigh(value, stack);
  while (size <= threshold && stack.length > 0) {
    const v = stack.pop()!;
    if (Array.isArray(v)) {
      // Each item encodes to 26 bytes at least (`<value><int>1</int></value>`): a long array is large by its length.
      if (size + 26 * v.length > threshold) return true;
      for (let i = 0; i < v.length && size <= threshold; i++) size += weigh(v[i], stack);
    } else if (v instanceof Map) {
      for (const [key, member] of v as Map<unknown, unknown>) {
        size += 30 + (typeof key === 'string' ? key.length : 0) + weigh(member, stack);
        if (size > threshold) return true;
      }
    } else {
      for (const key in v) {
        if (!Object.hasOwn(v, key)) continue;
        size += 30 + key.length + weigh((v as Record<string, unknown>)[key], stack);
        if (size > threshold) return true;
      }
    }
  }
  return size > threshold;
}

/** The encoded size of a value that is not a container; a container is pushed on `stack` and counts its tags only. */
function weigh(v: unknown, stack: object[]): number {
  if (typeof v === 'string') return 30 + v.length;
  if (typeof v !== 'object' || v === null) return 26;
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return 30 + Math.ceil(v.byteLength / 3) * 4;
  if (v instanceof Double || v instanceof I8 || v instanceof DateTime || v instanceof Date) return 40;
  stack.push(v);
  return 40;
}
