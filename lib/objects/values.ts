// By value or by reference. Results: what XML-RPC carries goes as a copy,
// anything else (found at any depth) as a reference in the caller's
// session. Arguments: a reference of this server arrives as the real
// object, one of another server as a ForeignRef the method receives.

import { Fault, FaultCode } from '../errors.js';
import { DateTime, Double, I8 } from '../xmlrpc/values.js';
import { publicFields, typeName } from './members.js';
import type { Entry, ObjectTable, Session } from './table.js';
import { ObjectFaultCode, REF, REF_ID, objectFault, type RefStruct, type ReturnMode } from './wire.js';

/**
 * A reference owned by another server, as a method of this one receives it:
 * the struct as it came (`__ref__`, `type`, `url`), so it passes
 * `isRefStruct` and an ObjectClient can make a proxy of it that calls its
 * owner. Returned from a method, it goes back out as the same struct.
 */
export class ForeignRef implements RefStruct {
  readonly [REF]: string;
  readonly type: string;
  readonly url: string;
  constructor(id: string, type: string, url: string) {
    this[REF] = id;
    this.type = type;
    this.url = url;
    Object.freeze(this);
  }
}

/** Who is asking, and where references point: one per request. */
export interface Scope {
  readonly table: ObjectTable;
  /** The caller's session token; null when it sent none. */
  readonly token: string | null;
  /** The `url` of references handed out in this request. */
  readonly url: string;
  /** True for a URL this server has handed references out under. */
  ours(url: unknown): boolean;
  /** Sessions may use each other's references. */
  readonly share: boolean;
  /** The sessions whose references this request named: held while it runs. */
  readonly used: Session[];
}

/** Nesting a result or an argument may have (the decoder's default is 64). */
const MAX_DEPTH = 256;

/** The entry a reference struct names, checked against the caller's session. */
export function lookup(value: unknown, scope: Scope, what = 'reference'): Entry {
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, REF)) {
    throw objectFault(ObjectFaultCode.RELEASED, `the ${what} is not a reference struct`);
  }
  const id = (value as Record<string, unknown>)[REF];
  if (typeof id !== 'string') throw new Fault(FaultCode.INVALID_PARAMS, `the ${what}'s ${REF} member must be a string`);
  const entry = REF_ID.test(id) ? scope.table.get(id) : undefined;
  if (entry === undefined) throw objectFault(ObjectFaultCode.RELEASED, `the ${what} ${JSON.stringify(id.slice(0, 40))} is unknown, released or expired`);
  const owner = entry.session.token;
  if (owner !== null && owner !== scope.token && !scope.share) {
    throw objectFault(ObjectFaultCode.OTHER_SESSION, `the ${what} belongs to another session`);
  }
  scope.table.touch(entry.session);
  if (!scope.used.includes(entry.session)) scope.used.push(entry.session);
  return entry;
}

/** Arguments as a method receives them: this server's references as their objects, others' as ForeignRef. */
export function fromWire(value: unknown, scope: Scope, depth = 0): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (depth > MAX_DEPTH) throw new Fault(FaultCode.INVALID_PARAMS, `arguments nest deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = fromWire(value[i], scope, depth + 1);
    return value;
  }
  if (!isPlain(value)) return value;
  if (Object.hasOwn(value, REF)) return fromRef(value as Record<string, unknown>, scope);
  const struct = value as Record<string, unknown>;
  for (const key of Object.keys(struct)) struct[key] = fromWire(struct[key], scope, depth + 1);
  return struct;
}

function fromRef(struct: Record<string, unknown>, scope: Scope): unknown {
  const id = struct[REF];
  if (typeof id !== 'string') throw new Fault(FaultCode.INVALID_PARAMS, `a reference's ${REF} member must be a string`);
  const { url, type } = struct;
  if (scope.table.get(id) !== undefined || scope.ours(url) || typeof url !== 'string') return lookup(struct, scope, 'argument').object;
  return new ForeignRef(id, typeof type === 'string' ? type : 'Object', url);
}

/** A place in the result where a reference goes, filled once the caps allow it. */
interface Slot {
  holder: Record<string | number, unknown>;
  key: string | number;
  object: object;
}

/** A result as it goes out, in `mode`; references are added to the table in the caller's session. */
export function toWire(value: unknown, mode: ReturnMode, scope: Scope, type?: string): unknown {
  const box: Record<string, unknown> = { value: undefined };
  const slots: Slot[] = [];
  if (mode === 'ref') {
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null) {
      throw new Fault(FaultCode.INVALID_PARAMS, `a ${value === null ? 'null' : typeof value} cannot be held by reference`);
    }
    slots.push({ holder: box, key: 'value', object: value });
  } else if (mode === 'copy') {
    if (typeof value === 'function') throw new Fault(FaultCode.INVALID_PARAMS, 'a function has no data to copy');
    box.value = copy(value, 0, new Set());
  } else {
    box.value = auto(value, 0, new Set(), slots, box, 'value');
  }
  if (slots.length > 0) fill(slots, scope, type);
  return box.value;
}

function fill(slots: Slot[], scope: Scope, type: string | undefined): void {
  const { table, token } = scope;
  const fresh = new Set<object>();
  for (const slot of slots) if (table.existing(token, slot.object) === undefined) fresh.add(slot.object);
  table.reserve(token, fresh.size);
  for (const slot of slots) {
    const entry = table.add(token, slot.object, type ?? typeName(slot.object));
    slot.holder[slot.key] = refStruct(entry, scope.url);
  }
}

export function refStruct(entry: Entry, url: string): RefStruct {
  return { [REF]: entry.id, type: entry.type, url };
}

/** Values XML-RPC carries as they are. */
function isScalarObject(value: object): boolean {
  return value instanceof Date || value instanceof Uint8Array || value instanceof Double || value instanceof I8 || value instanceof DateTime;
}

/** An array or object literal (or a decoded struct): data, unless it carries the reserved member. */
function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === null || proto === Object.prototype;
}

function auto(value: unknown, depth: number, path: Set<object>, slots: Slot[], holder: Record<string | number, unknown>, key: string | number): unknown {
  if (typeof value === 'function') {
    slots.push({ holder, key, object: value });
    return null;
  }
  if (typeof value === 'symbol') throw new Fault(FaultCode.INTERNAL_ERROR, 'a symbol cannot be sent');
  if (typeof value !== 'object' || value === null || isScalarObject(value)) return value;
  if (value instanceof ForeignRef) return { [REF]: value[REF], type: value.type, url: value.url };
  const array = Array.isArray(value) && Object.getPrototypeOf(value) === Array.prototype;
  if (!array && (!isPlain(value) || typeof (value as Record<string, unknown>)[REF] === 'string')) {
    slots.push({ holder, key, object: value });
    return null;
  }
  enter(value, depth, path);
  let out: Record<string | number, unknown>;
  if (array) {
    const items = value as unknown[];
    const list: unknown[] = new Array(items.length);
    out = list as unknown as Record<number, unknown>;
    for (let i = 0; i < items.length; i++) list[i] = auto(items[i], depth + 1, path, slots, out, i);
  } else {
    // A null prototype, so that a member named "__proto__" (a decoded struct may have one) stays a member.
    out = Object.create(null) as Record<string, unknown>;
    for (const [k, v] of Object.entries(value)) out[k] = auto(v, depth + 1, path, slots, out, k);
  }
  path.delete(value);
  return out;
}

function copy(value: unknown, depth: number, path: Set<object>): unknown {
  if (typeof value === 'function') return undefined;
  if (typeof value === 'symbol') throw new Fault(FaultCode.INTERNAL_ERROR, 'a symbol cannot be sent');
  if (typeof value !== 'object' || value === null || isScalarObject(value)) return value;
  if (value instanceof ForeignRef) return { [REF]: value[REF], type: value.type, url: value.url };
  enter(value, depth, path);
  let out: unknown;
  if (Array.isArray(value) || value instanceof Set) {
    out = Array.from(value as Iterable<unknown>, (v) => copy(v, depth + 1, path) ?? null);
  } else {
    // A copy is data: the reserved member would make it read as a reference, so it is left out.
    const struct = Object.create(null) as Record<string, unknown>;
    const fields = value instanceof Map ? [...(value as Map<unknown, unknown>)] : isPlain(value) ? Object.entries(value) : publicFields(value);
    for (const [k, v] of fields) if (typeof k === 'string' && k !== REF) struct[k] = copy(v, depth + 1, path);
    out = struct;
  }
  path.delete(value);
  return out;
}

function enter(value: object, depth: number, path: Set<object>): void {
  if (depth > MAX_DEPTH) throw new Fault(FaultCode.INTERNAL_ERROR, `the result nests deeper than ${MAX_DEPTH} levels`);
  if (path.has(value)) throw new Fault(FaultCode.INTERNAL_ERROR, 'the result contains a cycle');
  path.add(value);
}
