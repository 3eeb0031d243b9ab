// Which members of a served object a client may reach, and the walk of a
// dotted path to one. The rule is an allow-list by construction: only the
// object's own properties and those of its class chain, stopping before any
// built-in prototype (built-ins.ts), so nothing of Object.prototype or
// Function.prototype (constructor, __proto__, toString, call, bind...) is
// ever on the path. An object of a built-in class (a Map, a typed array, a
// stream, a timer) is opaque: held, passed back and copied, never reached into.

import { isBuiltInPrototype } from './built-ins.js';
import { ObjectFaultCode, objectFault } from './wire.js';

/** Prototypes whose instances keep their own properties reachable: plain data, arrays, functions (a class's statics). */
const TRANSPARENT: ReadonlySet<unknown> = new Set([null, Object.prototype, Array.prototype, Function.prototype]);

/**
 * Where the walk of `target`'s members starts: itself, or null when it has
 * none (an object of a built-in class, or a built-in prototype itself).
 * The layers are then `above()` one another: its class chain.
 */
function firstLayer(target: object): object | null {
  const proto = Object.getPrototypeOf(target) as object | null;
  if (typeof target !== 'function' && !TRANSPARENT.has(proto) && isBuiltInPrototype(proto as object)) return null;
  // Only a prototype (it has its own `constructor`) or a class can be the platform's: an instance is not asked, nor cached.
  const maybePrototype = typeof target === 'function' || Object.hasOwn(target, 'constructor');
  return maybePrototype && isBuiltInPrototype(target) ? null : target;
}

/** The next prototype up the class chain, or null at the first built-in one. */
function above(layer: object): object | null {
  const up = Object.getPrototypeOf(layer) as object | null;
  return up === null || isBuiltInPrototype(up) ? null : up;
}

/**
 * Names refused whatever the object holds, even its own: a class that
 * defines its own `toString` or `valueOf` still does not serve it. Function
 * members (`call`, `bind`) are unreachable already, since the walk stops
 * before Function.prototype; `name` and `length` stay usable field names.
 */
const NEVER: ReadonlySet<string> = new Set(['constructor', 'prototype', '__proto__', 'caller', 'arguments', ...Object.getOwnPropertyNames(Object.prototype)]);

/** A name a client may ask for at all. */
export function reachableName(name: string): boolean {
  return name !== '' && !name.startsWith('_') && !NEVER.has(name);
}

/**
 * Getters and setters run server code a client did not write: they are
 * reachable only on a class that says so with `static remoteAccessors = true`
 * (inherited by its subclasses).
 */
function accessorsAllowed(target: object): boolean {
  const ctor = classOf(target);
  return typeof ctor === 'function' && (ctor as { remoteAccessors?: unknown }).remoteAccessors === true;
}

/** The object's class, read from descriptors so that no getter runs. */
function classOf(target: object): unknown {
  for (let p = Object.getPrototypeOf(target) as object | null; p !== null; p = Object.getPrototypeOf(p) as object | null) {
    const d = Object.getOwnPropertyDescriptor(p, 'constructor');
    if (d !== undefined) return 'value' in d ? d.value : undefined;
  }
  return undefined;
}

/** The name a reference carries as its `type`. */
export function typeName(value: unknown): string {
  if (typeof value === 'function') return 'Function';
  if (typeof value !== 'object' || value === null) return typeof value;
  if (Object.prototype.toString.call(value) === '[object Module]') return 'Module';
  const ctor = classOf(value);
  return typeof ctor === 'function' && typeof ctor.name === 'string' && ctor.name !== '' ? ctor.name : 'Object';
}

/** Where `name` lives on `target` (own or class chain), or undefined when unreachable. */
function findMember(target: object, name: string): PropertyDescriptor | undefined {
  if (!reachableName(name)) return undefined;
  for (let p = firstLayer(target); p !== null; p = above(p)) {
    const d = Object.getOwnPropertyDescriptor(p, name);
    if (d === undefined) continue;
    if ('value' in d) return d;
    return accessorsAllowed(target) ? d : undefined;
  }
  return undefined;
}

function noMember(target: object, path: string, name: string): never {
  throw objectFault(ObjectFaultCode.NO_MEMBER, `${typeName(target)} has no reachable member "${name}"${path === name ? '' : ` (in "${path}")`}`);
}

function segments(path: unknown): string[] {
  if (typeof path !== 'string') throw objectFault(ObjectFaultCode.NO_MEMBER, 'a member path must be a string');
  return path === '' ? [] : path.split('.');
}

/** Reads one member: a data value, or a getter's result on an opted-in class. */
export function readMember(target: object, name: string, path: string = name): unknown {
  const d = findMember(target, name);
  if (d === undefined) return noMember(target, path, name);
  if ('value' in d) return d.value;
  if (d.get === undefined) return noMember(target, path, name);
  return d.get.call(target);
}

/** The object a path leads to ('' is the object itself); every step must be reachable. */
export function walk(root: object, path: unknown): unknown {
  let value: unknown = root;
  const parts = segments(path);
  for (const name of parts) {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
      throw objectFault(ObjectFaultCode.NO_MEMBER, `cannot reach "${name}" of a ${value === null ? 'null' : typeof value} (in "${String(path)}")`);
    }
    value = readMember(value, name, path as string);
  }
  return value;
}

/** The owner and last name of a non-empty path: what call and set act on. */
export function walkToParent(root: object, path: unknown): { owner: object; name: string } {
  const parts = segments(path);
  const name = parts.pop();
  if (name === undefined) return { owner: root, name: '' };
  const owner = walk(root, parts.join('.'));
  if ((typeof owner !== 'object' && typeof owner !== 'function') || owner === null) {
    throw objectFault(ObjectFaultCode.NO_MEMBER, `cannot reach "${name}" of a ${owner === null ? 'null' : typeof owner} (in "${String(path)}")`);
  }
  if (!reachableName(name)) noMember(owner, path as string, name);
  return { owner, name };
}

/**
 * The function `path` names, bound to its owner. `''` is the reference
 * itself when it is a function. A last step `new` on a class with no member
 * of that name constructs it, when it is one of `constructible`:
 * `objects.call(moduleRef, 'Counter.new', [3])`; the instance goes to `onBuilt` too.
 */
export function callable(root: object, path: unknown, constructible: ReadonlySet<unknown>, onBuilt: (instance: object) => void): (args: unknown[]) => unknown {
  const { owner, name } = walkToParent(root, path);
  if (name === '') {
    if (typeof owner !== 'function') throw objectFault(ObjectFaultCode.NO_MEMBER, `${typeName(owner)} is not callable`);
    return (args): unknown => Reflect.apply(owner as (...a: unknown[]) => unknown, undefined, args);
  }
  const d = findMember(owner, name);
  // Only a class the server offers (its `classes`, the exports of a module it let a client import):
  // a class a field happens to hold is not one clients may construct.
  if (d === undefined && name === 'new' && isClass(owner) && constructible.has(owner)) {
    return (args) => {
      const instance = Reflect.construct(owner as new (...a: unknown[]) => object, args);
      onBuilt(instance);
      return instance;
    };
  }
  const fn: unknown = d === undefined ? undefined : 'value' in d ? d.value : d.get === undefined ? undefined : d.get.call(owner);
  if (typeof fn !== 'function') return noMember(owner, path as string, name);
  if (isClass(fn)) throw objectFault(ObjectFaultCode.NO_MEMBER, `"${name}" is a class: call "${String(path)}.new" to construct it`);
  return (args) => Reflect.apply(fn as (...a: unknown[]) => unknown, owner, args);
}

/** Writes a public field that already exists (a writable data property), or through a setter on an opted-in class. */
export function writeMember(root: object, path: unknown, value: unknown): void {
  const { owner, name } = walkToParent(root, path);
  if (name === '') throw objectFault(ObjectFaultCode.NO_MEMBER, 'objects.set needs a member name');
  // A class's statics (remoteAccessors among them) are its own business, never a client's.
  if (typeof owner === 'function') throw objectFault(ObjectFaultCode.NO_MEMBER, `"${name}" of ${typeName(owner)} cannot be written: it is a class or function`);
  // A function written into a field would be callable as a method of another object (a forged `this`).
  if (typeof value === 'function') throw objectFault(ObjectFaultCode.NO_MEMBER, `"${name}" of ${typeName(owner)} cannot hold a function`);
  const d = findMember(owner, name);
  if (d === undefined) return noMember(owner, path as string, name);
  if ('value' in d) {
    const own = Object.getOwnPropertyDescriptor(owner, name);
    // Only an enumerable field: an array's length (or any hidden slot) is not data a client may set.
    if (own === undefined || !('value' in own) || own.writable !== true || own.enumerable !== true || typeof own.value === 'function') {
      throw objectFault(ObjectFaultCode.NO_MEMBER, `"${name}" of ${typeName(owner)} is not a writable field`);
    }
    (owner as Record<string, unknown>)[name] = value;
    return;
  }
  if (d.set === undefined) throw objectFault(ObjectFaultCode.NO_MEMBER, `"${name}" of ${typeName(owner)} has no setter`);
  d.set.call(owner, value);
}

/** objects.describe: the type, its callable members and its readable ones. */
export function describeObject(target: object): { type: string; methods: string[]; members: string[] } {
  const methods = new Set<string>();
  const members = new Set<string>();
  for (let p = firstLayer(target); p !== null; p = above(p)) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (methods.has(name) || members.has(name)) continue;
      const d = findMember(target, name);
      if (d === undefined) continue;
      if ('value' in d && typeof d.value === 'function') methods.add(name);
      else members.add(name);
    }
  }
  return { type: typeName(target), methods: [...methods].sort(), members: [...members].sort() };
}

/** The public data of an object, for a copy: own enumerable reachable fields that are not functions. */
export function publicFields(target: object): [string, unknown][] {
  const out: [string, unknown][] = [];
  for (const name of Object.keys(target)) {
    if (!reachableName(name)) continue;
    const d = Object.getOwnPropertyDescriptor(target, name);
    if (d === undefined || !('value' in d) || typeof d.value === 'function') continue;
    out.push([name, d.value]);
  }
  return out;
}

function isClass(value: unknown): boolean {
  return typeof value === 'function' && /^class[\s{]/.test(Function.prototype.toString.call(value));
}
