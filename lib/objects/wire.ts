// What remote objects look like on the wire (issue 11): plain XML-RPC, so
// that any client can hold a reference and pass it back. This module is the
// contract between ObjectServer (server.ts) and ObjectClient (client.ts):
// the reference struct, the method names, the session header, the faults.
//
// A reference is a struct with the reserved member `__ref__`:
//
//   { "__ref__": "<id: 128 random bits, base64url, 22 characters>",
//     "type":    "<the class name of the object it stands for>",
//     "url":     "<where its owner serves it: http://host:port/path>" }
//
// Any struct with a string `__ref__` member is read as a reference, never as
// data (a plain object with such a member cannot travel by value).
//
// Sessions. A client that sends the header `X-Object-Session: <token>` (16 to
// 64 characters of [A-Za-z0-9_-]; ObjectClient makes a random one) owns the
// references created in that session: a call naming one from another session
// is refused, the session's lease (sessionTtl) is renewed by each of its
// calls, and when it expires its references are released. A client that
// sends no header (a plain Python xmlrpc.client, say) gets references that are
// each their own session: the reference is the capability, renewed by use
// and by objects.renew.

import { Fault } from '../errors.js';

/** The reserved member that makes a struct a reference. */
export const REF = '__ref__';
/** The request header naming the caller's session. */
export const SESSION_HEADER = 'x-object-session';
export const SESSION_TOKEN = /^[A-Za-z0-9_-]{16,64}$/;
/** A reference id: 128 bits, base64url without padding. */
export const REF_ID = /^[A-Za-z0-9_-]{22}$/;

export interface RefStruct {
  readonly [REF]: string;
  readonly type: string;
  readonly url: string;
}

/** The wire methods, all in the `objects.` namespace (answers, never fire-and-forget). */
export const METHODS = {
  /** (className: string, args: array[, options]) -> ref */
  create: 'objects.create',
  /** (ref, path: string, args: array[, options]) -> value or ref; `path` may be dotted ('child.method'). */
  call: 'objects.call',
  /** (ref, path: string[, options]) -> value or ref */
  get: 'objects.get',
  /** (ref, path: string, value) -> true */
  set: 'objects.set',
  /** (refs: array of ref, or of [ref, count]) -> int: references released */
  release: 'objects.release',
  /** (refs: array of ref) -> int: references renewed */
  renew: 'objects.renew',
  /** (ref) -> { type, methods: [..], members: [..] } */
  describe: 'objects.describe',
  /** () -> array of { id, type, session, ageMs, idleMs, refs } */
  list: 'objects.list',
  /** (moduleName: string) -> ref to the module namespace (allow-listed only) */
  import: 'objects.import',
  /** () -> { ok: true, session?: string } */
  ping: 'objects.ping',
} as const;

/**
 * `options`, the optional last parameter of create, call and get:
 * `{ "return": "auto" | "ref" | "copy" }`. auto (the default): values XML-RPC
 * carries (numbers, strings, booleans, dates, bytes, nil, plain arrays and
 * plain objects) by copy, anything else (a class instance, a function, a
 * Map or Set, any other prototype) by reference. ref: always a reference.
 * copy: a copy of the public data, or a fault when there is none.
 */
export type ReturnMode = 'auto' | 'ref' | 'copy';

/** Faults of the object layer, in the spec's implementation-defined range (-32099..-32000). */
export const ObjectFaultCode = {
  /** The reference is unknown, released or expired (its lease passed). */
  RELEASED: -32010,
  /** The path names no reachable member (missing, private, or never reachable: constructor, __proto__, ...). */
  NO_MEMBER: -32011,
  /** A cap was reached (maxRefsPerSession, maxSessions): nothing was created. */
  LIMIT: -32012,
  /** The class is not one the server offers, or the module is not allow-listed. */
  NOT_OFFERED: -32013,
  /** The reference belongs to another session. */
  OTHER_SESSION: -32014,
} as const;

export function isRefStruct(value: unknown): value is RefStruct {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[REF] === 'string';
}

export function objectFault(code: (typeof ObjectFaultCode)[keyof typeof ObjectFaultCode], message: string): Fault {
  return new Fault(code, message);
}
