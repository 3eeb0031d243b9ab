// A stand-in object server for the ObjectClient tests: the objects.* wire of
// lib/objects/wire.ts over a Map, on an XmlRpcDispatcher, just enough for the
// client (no leases, no caps, no member policy beyond `_` names). It counts
// every wire call and records the session header each one carried.

import { randomBytes } from 'node:crypto';
import { Fault } from '../lib/errors.js';
import { XmlRpcDispatcher } from '../lib/rpc/dispatcher.js';
import { ObjectServer } from '../lib/objects/server.js';
import type { XmlRpcValue } from '../lib/xmlrpc/values.js';
import type { Request } from '../lib/server/request.js';
import { Server } from '../lib/server/server.js';
import { isRefStruct, ObjectFaultCode, REF, SESSION_HEADER, type RefStruct } from '../lib/objects/wire.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyClass = new (...args: any[]) => object;

interface Entry {
  obj: object;
  type: string;
  refs: number;
}

export interface StandIn {
  url: string;
  port: number;
  /** Wire calls by method name. */
  calls: Map<string, number>;
  /** Every objects.release call's references, in order. */
  releases: RefStruct[][];
  /** The session header of every request, in order. */
  sessions: (string | undefined)[];
  table: Map<string, Entry>;
  /** Objects the owner holds. */
  objects(): number;
  /** The owner forgets every reference (as when their leases pass). */
  dropAll(): void;
  /** Hands out a reference to `obj` as if a call had returned it. */
  refTo(obj: object): RefStruct;
  count(method: string): number;
  close(): Promise<void>;
}

function isStruct(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isPlain(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return true;
  if (Array.isArray(v)) return v.every(isPlain);
  if (v instanceof Date || v instanceof Uint8Array) return true;
  if (!isStruct(v)) return false;
  return Object.values(v).every(isPlain);
}

export async function standIn(classes: Record<string, AnyClass>, moduleSpecs: Record<string, string> = {}): Promise<StandIn> {
  const modules: Record<string, object> = {};
  const table = new Map<string, Entry>();
  const calls = new Map<string, number>();
  const releases: RefStruct[][] = [];
  const sessions: (string | undefined)[] = [];
  let url = '';

  const refTo = (obj: object): RefStruct => {
    for (const [id, e] of table) {
      if (e.obj === obj) {
        e.refs++;
        return { [REF]: id, type: e.type, url };
      }
    }
    const id = randomBytes(16).toString('base64url');
    const type = typeof obj === 'function' ? 'function' : (obj.constructor?.name ?? 'Object');
    table.set(id, { obj, type, refs: 1 });
    return { [REF]: id, type, url };
  };
  const entry = (ref: unknown): Entry => {
    const e = isRefStruct(ref) ? table.get(ref[REF]) : undefined;
    if (e === undefined) throw new Fault(ObjectFaultCode.RELEASED, `unknown reference ${isRefStruct(ref) ? ref[REF] : '?'}`);
    return e;
  };
  const fromWire = (v: unknown): unknown => {
    if (isRefStruct(v)) return v.url === url ? entry(v).obj : v;
    if (Array.isArray(v)) return v.map(fromWire);
    if (v !== null && typeof v === 'object' && isStruct(v)) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, fromWire(x)]));
    }
    return v;
  };
  const toWire = (v: unknown, mode: unknown): unknown => {
    if (mode === 'copy') {
      if (v === null || typeof v !== 'object') throw new Fault(-32500, 'no public data');
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) if (!k.startsWith('_') && isPlain(x)) out[k] = x;
      return out;
    }
    if (v === undefined) return null;
    if (mode !== 'ref' && isPlain(v)) return v;
    if (isRefStruct(v)) return v;
    if (mode !== 'ref' && Array.isArray(v)) return v.map((x) => toWire(x, mode));
    if (mode !== 'ref' && isStruct(v as object)) {
      return Object.fromEntries(Object.entries(v as object).map(([k, x]) => [k, toWire(x, mode)]));
    }
    return refTo(v as object);
  };
  const walk = (obj: object, path: string): { self: unknown; value: unknown; name: string } => {
    let self: unknown = obj;
    let value: unknown = obj;
    let name = '';
    for (const part of path === '' ? [] : path.split('.')) {
      if (part.startsWith('_') || part === 'constructor' || part === '__proto__') throw new Fault(ObjectFaultCode.NO_MEMBER, `no member ${path}`);
      self = value;
      name = part;
      if (part === 'new' && typeof self === 'function') return { self, value: undefined, name };
      value = (self as Record<string, unknown>)[part];
      if (value === undefined) throw new Fault(ObjectFaultCode.NO_MEMBER, `no member ${path}`);
    }
    return { self, value, name };
  };
  const options = (o: unknown): unknown => (o !== null && typeof o === 'object' ? (o as { return?: unknown }).return : undefined);

  const objects: Record<string, (...p: unknown[]) => unknown> = {
    create: (className, args) => {
      const C = classes[className as string];
      if (C === undefined) throw new Fault(ObjectFaultCode.NOT_OFFERED, `no class ${String(className)}`);
      return refTo(new C(...((fromWire(args) as never[]) ?? [])));
    },
    call: async (ref, path, args, opts) => {
      const { self, value, name } = walk(entry(ref).obj, path as string);
      const a = fromWire(args ?? []) as never[];
      if (name === 'new' && typeof self === 'function') return toWire(new (self as AnyClass)(...a), 'ref');
      if (typeof value !== 'function') throw new Fault(ObjectFaultCode.NO_MEMBER, `${String(path)} is not a method`);
      return toWire(await (value as (...x: unknown[]) => unknown).apply(self, a), options(opts));
    },
    get: (ref, path, opts) => toWire(walk(entry(ref).obj, path as string).value, options(opts)),
    set: (ref, path, value) => {
      const parts = (path as string).split('.');
      const last = parts.pop() as string;
      const { value: holder } = walk(entry(ref).obj, parts.join('.'));
      (holder as Record<string, unknown>)[last] = fromWire(value);
      return true;
    },
    release: (refs) => {
      releases.push(refs as RefStruct[]);
      let n = 0;
      for (const r of refs as unknown[]) {
        const ref: unknown = Array.isArray(r) ? r[0] : r;
        const e = isRefStruct(ref) ? table.get(ref[REF]) : undefined;
        if (e === undefined) continue;
        n++;
        if (--e.refs <= 0) table.delete((ref as RefStruct)[REF]);
      }
      return n;
    },
    renew: (refs) => (refs as unknown[]).filter((r) => isRefStruct(r) && table.has(r[REF])).length,
    describe: (ref) => ({ type: entry(ref).type, methods: [], members: [] }),
    list: () => [...table].map(([id, e]) => ({ id, type: e.type, session: '', ageMs: 0, idleMs: 0, refs: e.refs })),
    import: (name) => {
      const m = modules[name as string];
      if (m === undefined) throw new Fault(ObjectFaultCode.NOT_OFFERED, `module ${String(name)} is not offered`);
      return refTo(m);
    },
    ping: () => ({ ok: true }),
  };

  for (const [name, spec] of Object.entries(moduleSpecs)) modules[name] = (await import(spec)) as object;
  const rpc = new XmlRpcDispatcher();
  rpc.registerInstance({
    _dispatch(method: string, params: unknown[], request?: Request) {
      calls.set(method, (calls.get(method) ?? 0) + 1);
      sessions.push(request?.header(SESSION_HEADER));
      const fn = method.startsWith('objects.') ? objects[method.slice('objects.'.length)] : undefined;
      if (fn === undefined) throw new Fault(-32601, `no method ${method}`);
      return fn(...params);
    },
  });
  const server = new Server({ onError: () => {}, handlers: [rpc] });
  const { port } = await server.listen(0, '127.0.0.1');
  url = `http://127.0.0.1:${port}/RPC2`;
  return {
    url,
    port,
    calls,
    releases,
    sessions,
    table,
    refTo,
    objects: () => table.size,
    dropAll: () => table.clear(),
    count: (method) => calls.get(method) ?? 0,
    close: () => server.close(),
  };
}

/** The real ObjectServer, seen through the same counters as the stand-in (`table` and `refTo` stay the stand-in's: unused here). */
export async function realOwner(classes: Record<string, AnyClass>, modules: Record<string, string> = {}): Promise<StandIn> {
  const calls = new Map<string, number>();
  const releases: RefStruct[][] = [];
  const sessions: (string | undefined)[] = [];
  class Counted extends ObjectServer {
    override call(method: string, params: XmlRpcValue[], request?: Request): unknown {
      calls.set(method, (calls.get(method) ?? 0) + 1);
      sessions.push(request?.header(SESSION_HEADER));
      if (method === 'objects.release') releases.push(params[0] as unknown as RefStruct[]);
      return super.call(method, params, request);
    }
  }
  const objects = new Counted({ classes, modules });
  const server = new Server({ onError: () => {}, handlers: [objects] });
  const { port } = await server.listen(0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}/RPC2`,
    port,
    calls,
    releases,
    sessions,
    table: new Map(),
    refTo: () => {
      throw new Error('refTo: stand-in only');
    },
    objects: () => objects.stats().objects,
    dropAll: () => objects.close(),
    count: (method) => calls.get(method) ?? 0,
    close: async () => {
      await server.close();
      objects.close();
    },
  };
}
