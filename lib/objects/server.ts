// The server side of remote objects (issue 11): an XmlRpcDispatcher whose
// `objects.*` methods (wire.ts) create instances of the classes it was
// given, let clients read, write and call their reachable members, and keep
// every reference in a table with sessions, leases, counts and caps. Being a
// dispatcher, it serves the user's own functions and system.* on the same
// path: `new ObjectServer({ classes }).registerFunction(add)`.

import { systemClock, type Clock, type ClockTimer } from '../clock.js';
import { Fault, FaultCode } from '../errors.js';
import { positiveInteger, timeoutMs } from '../options.js';
import { XmlRpcDispatcher } from '../rpc/dispatcher.js';
import type { XmlRpcHandlerOptions } from '../rpc/handler.js';
import type { Request } from '../server/request.js';
import type { XmlRpcValue } from '../xmlrpc/values.js';
import { callable, describeObject, walk, writeMember } from './members.js';
import { ObjectTable, type TableRow, type TableStats } from './table.js';
import { fromWire, lookup, toWire, type Scope } from './values.js';
import { METHODS, ObjectFaultCode, SESSION_HEADER, SESSION_TOKEN, objectFault, type ReturnMode } from './wire.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ObjectClass = new (...args: any[]) => object;

export interface ObjectServerOptions extends XmlRpcHandlerOptions {
  /** The classes clients may create, by the name they send (DisPy's init_cls). Nothing else can be created. */
  classes?: Readonly<Record<string, ObjectClass>> | ReadonlyMap<string, ObjectClass>;
  /**
   * What objects.import may load: specifiers passed to `import()` exactly
   * as given (a list), or name -> specifier or URL (a record). Nothing else
   * is ever imported. A relative specifier would resolve against this
   * library's file: give package names or absolute URLs.
   */
  modules?: readonly string[] | Readonly<Record<string, string | URL>>;
  /** A session's lease, ms: renewed by each of its calls (default 5 minutes). */
  sessionTtl?: number;
  /** References one session may hold (default 10,000); past it, fault LIMIT. */
  maxRefsPerSession?: number;
  /** Sessions at once, a reference without a session header counting as one (default 1,000). */
  maxSessions?: number;
  /** References in the whole table (default 100,000). */
  maxRefs?: number;
  /** Let a session use another session's references (default false: fault OTHER_SESSION). */
  shareRefs?: boolean;
  /** objects.list shows every row, with other sessions' ids and tokens (default false: the caller's session only). For debugging on loopback. */
  exposeTable?: boolean;
  /**
   * Serve objects on a non-loopback address: Server#listen refuses one
   * otherwise (default false). Read the security table in the README first.
   */
  allowRemote?: boolean;
  /**
   * Asked for an objects.import name that `modules` does not list: a
   * specifier or URL to import, or undefined to refuse (NOT_OFFERED). The
   * owner's policy (spawnProcess's `allowAnyModule`: any local file); never
   * evaluates anything itself.
   */
  resolveModule?: (name: string) => string | URL | undefined;
  /** The `url` references carry (default `http://<Host header><path>`). Set it behind TLS or a proxy. */
  url?: string;
  /** How long objects.release waits for the disposals it started, ms (default 10 s): past it, it answers and the late dispose is reported to onError. */
  disposeTimeout?: number;
  /** Times the leases and disposeTimeout (default the system clock). */
  clock?: Clock;
  /** Where a failing dispose is reported (default: a line on stderr). */
  onError?: (err: unknown) => void;
}

export const DEFAULT_OBJECT_LIMITS = Object.freeze({ sessionTtl: 5 * 60_000, maxRefsPerSession: 10_000, maxSessions: 1_000, maxRefs: 100_000 });

type Method = (params: XmlRpcValue[], scope: Scope) => unknown;

const HELP: Record<keyof typeof METHODS, string> = {
  create: 'objects.create(className, args[, options]): a reference to a new instance of an offered class.',
  call: 'objects.call(ref, path, args[, options]): calls a reachable method; path may be dotted.',
  get: "objects.get(ref, path[, options]): reads a reachable member ('' is the object itself).",
  set: 'objects.set(ref, path, value): writes an existing public field; answers true.',
  release: 'objects.release(refs): releases each ref (or [ref, count]); answers how many were released.',
  renew: "objects.renew(refs): renews the refs' leases; answers how many were renewed.",
  describe: 'objects.describe(ref): { type, methods, members }.',
  list: "objects.list(): the caller's references: { id, type, session, ageMs, idleMs, refs }.",
  import: 'objects.import(name): a reference to an allow-listed module namespace.',
  ping: 'objects.ping(): { ok: true, session? }.',
};

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|::1|::ffff:127(?:\.\d{1,3}){3})$/i;

export class ObjectServer extends XmlRpcDispatcher {
  private readonly table: ObjectTable;
  private readonly classes: ReadonlyMap<string, ObjectClass>;
  private readonly modules: ReadonlyMap<string, string | URL>;
  /** Classes a client may construct with a last path step `new`: `classes`, and the exports of imported modules. */
  private readonly constructible = new Set<unknown>();
  /**
   * The objects this server constructed for clients (objects.create, a
   * path step `new`): the only ones disposed at their last reference. An
   * object reached through a member, or returned by a method, belongs to
   * the code that made it; a client's release only lets go of it. Each is
   * in the table (added once handed out), so the set empties with it.
   */
  private readonly built = new Set<object>();
  private readonly imported = new Map<string, Promise<object>>();
  private readonly methods = new Map<string, Method>();
  private readonly settings: { share: boolean; exposeTable: boolean; allowRemote: boolean; url: string | undefined };
  /** URLs references were handed out under (bounded): a forged id under one of them is RELEASED, not foreign. */
  private readonly urls = new Set<string>();
  private readonly onError: (err: unknown) => void;
  private readonly clock: Clock;
  private readonly disposeTimeout: number;
  private readonly resolveModule: ((name: string) => string | URL | undefined) | undefined;
  /** Promises of the disposals a release started: the release answers once they are done. */
  private disposals: Promise<void>[] | null = null;

  constructor(options: ObjectServerOptions = {}) {
    const {
      classes,
      modules,
      sessionTtl,
      maxRefsPerSession,
      maxSessions,
      maxRefs,
      shareRefs,
      exposeTable,
      allowRemote,
      resolveModule,
      url,
      disposeTimeout,
      clock,
      onError,
      ...handler
    } = options;
    super(handler);
    const limits = {
      sessionTtl: sessionTtl === undefined ? DEFAULT_OBJECT_LIMITS.sessionTtl : timeoutMs('sessionTtl', sessionTtl),
      maxRefsPerSession: count('maxRefsPerSession', maxRefsPerSession, DEFAULT_OBJECT_LIMITS.maxRefsPerSession),
      maxSessions: count('maxSessions', maxSessions, DEFAULT_OBJECT_LIMITS.maxSessions),
      maxRefs: count('maxRefs', maxRefs, DEFAULT_OBJECT_LIMITS.maxRefs),
    };
    this.onError = onError ?? defaultOnError;
    this.resolveModule = resolveModule;
    this.clock = clock ?? systemClock;
    this.disposeTimeout = disposeTimeout === undefined ? 10_000 : timeoutMs('disposeTimeout', disposeTimeout);
    this.table = new ObjectTable(limits, this.clock, (object) => this.dispose(object));
    this.classes = classes instanceof Map ? new Map(classes) : new Map(Object.entries(classes ?? {}));
    for (const [name, cls] of this.classes) if (typeof cls !== 'function') throw new TypeError(`classes.${name} must be a class`);
    for (const cls of this.classes.values()) this.constructible.add(cls);
    this.modules = Array.isArray(modules) ? new Map(modules.map((m: string) => [m, m])) : new Map(Object.entries(modules ?? {}));
    this.settings = { share: shareRefs === true, exposeTable: exposeTable === true, allowRemote: allowRemote === true, url };
    if (url !== undefined) this.urls.add(url);
    const m = (name: keyof typeof METHODS, fn: Method) => this.methods.set(METHODS[name], fn);
    m('create', (p, s) => this.create(p[0], p[1], p[2], s));
    m('call', (p, s) => this.callMember(p[0], p[1], p[2], p[3], s));
    m('get', (p, s) => toWire(walk(lookup(p[0], s).object, p[1] ?? ''), returnMode(p[2]), s));
    m('set', (p, s) => this.setMember(p[0], p[1], p[2], s));
    m('release', (p, s) => this.release(p[0], s));
    m('renew', (p, s) => this.renew(p[0], s));
    m('describe', (p, s) => describeObject(lookup(p[0], s).object));
    m('list', (_p, s) => this.table.rows(this.settings.exposeTable ? undefined : (e) => s.token !== null && e.session.token === s.token));
    m('import', (p, s) => this.importModule(p[0], s));
    m('ping', (_p, s) => (s.token === null ? { ok: true } : { ok: true, session: s.token }));
  }

  /**
   * Server#listen asks each handler before binding: an object server on a
   * non-loopback address needs `allowRemote: true`.
   */
  checkListen(address: { host: string; port: number }): void {
    if (this.settings.allowRemote || LOOPBACK.test(address.host)) return;
    throw new Error(
      `ObjectServer: refusing to serve remote objects on ${address.host}, a non-loopback address: pass allowRemote: true (see "Remote objects" in the README)`,
    );
  }

  override call(method: string, params: XmlRpcValue[], request?: Request): unknown {
    const fn = this.methods.get(method);
    if (fn === undefined) return super.call(method, params, request);
    const scope = this.scope(request);
    if (scope.token !== null) this.touchSession(scope.token);
    const result = fn(params, scope);
    if (!(result instanceof Promise)) return result;
    const own = scope.token === null ? undefined : this.table.session(scope.token);
    if (own !== undefined && !scope.used.includes(own)) scope.used.push(own);
    return this.table.hold(scope.used, result);
  }

  override listMethods(): string[] {
    return [...new Set([...super.listMethods(), ...this.methods.keys()])].sort();
  }

  override methodHelp(name: unknown): string {
    const key = (Object.keys(METHODS) as (keyof typeof METHODS)[]).find((k) => METHODS[k] === name);
    return key === undefined ? super.methodHelp(name) : HELP[key];
  }

  /** Every reference in the table (ids and session tokens included): the owner's view. */
  list(): TableRow[] {
    return this.table.rows();
  }

  /** Counts for operators: sessions, objects, refs, dropped, expired. */
  stats(): TableStats {
    return this.table.stats();
  }

  /** Releases every reference (their objects are disposed); call after Server#close. */
  close(): void {
    this.table.clear();
  }

  private scope(request: Request | undefined): Scope {
    const header = request?.header(SESSION_HEADER);
    if (header !== undefined && !SESSION_TOKEN.test(header)) {
      throw new Fault(FaultCode.INVALID_PARAMS, `the ${SESSION_HEADER} header must be 16 to 64 characters of [A-Za-z0-9_-]`);
    }
    const url = this.settings.url ?? `http://${request?.header('host') ?? 'localhost'}${request?.path ?? [...this.paths][0] ?? '/RPC2'}`;
    const urls = this.urls;
    return {
      table: this.table,
      token: header ?? null,
      url,
      ours: (u) => typeof u === 'string' && (u === url || urls.has(u)),
      share: this.settings.share,
      used: [],
    };
  }

  /** A call with a session header renews that session's lease. */
  private touchSession(token: string): void {
    const session = this.table.session(token);
    if (session !== undefined) this.table.touch(session);
  }

  private remember(url: string): void {
    if (this.urls.size < 64) this.urls.add(url);
  }

  private create(className: unknown, args: unknown, options: unknown, scope: Scope): unknown {
    const mode = returnMode(options);
    if (typeof className !== 'string') throw new Fault(FaultCode.INVALID_PARAMS, 'objects.create takes a class name');
    const cls = this.classes.get(className);
    if (cls === undefined) throw objectFault(ObjectFaultCode.NOT_OFFERED, `class "${className.slice(0, 100)}" is not offered`);
    const list = argList(args, 'objects.create');
    // Refused before the constructor runs, so a full table creates nothing.
    if (mode !== 'copy') scope.table.reserve(scope.token, 1);
    const instance = Reflect.construct(cls, fromWire(list, scope) as unknown[]) as object;
    return this.handOutBuilt(instance, mode === 'copy' ? 'copy' : 'ref', scope, className);
  }

  /** An instance this server constructed for the caller: disposed at its last reference, or at once when only a copy goes out. */
  private handOutBuilt(instance: object, mode: ReturnMode, scope: Scope, type?: string): unknown {
    if (mode === 'copy') {
      try {
        return toWire(instance, 'copy', scope);
      } finally {
        this.runDispose(instance);
      }
    }
    this.remember(scope.url);
    const value = toWire(instance, mode, scope, type);
    this.built.add(instance);
    return value;
  }

  private callMember(ref: unknown, path: unknown, args: unknown, options: unknown, scope: Scope): unknown {
    const mode = returnMode(options);
    const entry = lookup(ref, scope);
    let built: object | undefined;
    const fn = callable(entry.object, path, this.constructible, (instance) => (built = instance));
    const result = fn(fromWire(argList(args, 'objects.call'), scope) as unknown[]);
    if (built !== undefined) return this.handOutBuilt(built, mode, scope);
    this.remember(scope.url);
    if (result instanceof Promise) return result.then((value) => toWire(value, mode, scope));
    return toWire(result, mode, scope);
  }

  private setMember(ref: unknown, path: unknown, value: unknown, scope: Scope): boolean {
    const entry = lookup(ref, scope);
    writeMember(entry.object, path, fromWire(value, scope));
    return true;
  }

  /** Validates every item before releasing any, so a bad batch changes nothing. */
  private async release(refs: unknown, scope: Scope): Promise<number> {
    if (!Array.isArray(refs)) throw new Fault(FaultCode.INVALID_PARAMS, 'objects.release takes an array of refs or [ref, count] pairs');
    const work: [string, number][] = [];
    for (const item of refs as unknown[]) {
      const [ref, n] = Array.isArray(item) ? (item as unknown[]) : [item, 1];
      if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new Fault(FaultCode.INVALID_PARAMS, 'a release count must be a positive integer');
      const id = refId(ref);
      const entry = this.table.get(id);
      // Released already (or expired): nothing to do, so that a batch from a finalizer never fails for it.
      if (entry === undefined) continue;
      lookup(ref, scope);
      work.push([id, n]);
    }
    let released = 0;
    this.disposals = [];
    try {
      for (const [id, n] of work) {
        const entry = this.table.get(id);
        if (entry !== undefined) released += this.table.release(entry, n);
      }
    } finally {
      const pending = this.disposals;
      this.disposals = null;
      await this.disposed(pending);
    }
    return released;
  }

  /** The disposals a release started, waited for up to disposeTimeout: a dispose that never settles must not hold the caller. */
  private async disposed(pending: Promise<void>[]): Promise<void> {
    if (pending.length === 0) return;
    let timer: ClockTimer | undefined;
    const late = new Promise<void>((resolve) => {
      timer = this.clock.setTimeout(() => {
        this.report(new Error(`objects.release answered before a dispose it started had settled (disposeTimeout ${this.disposeTimeout} ms)`));
        resolve();
      }, this.disposeTimeout);
    });
    try {
      await Promise.race([Promise.all(pending), late]);
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    }
  }

  private renew(refs: unknown, scope: Scope): number {
    if (!Array.isArray(refs)) throw new Fault(FaultCode.INVALID_PARAMS, 'objects.renew takes an array of refs');
    let renewed = 0;
    for (const ref of refs as unknown[]) {
      if (this.table.get(refId(ref)) === undefined) continue;
      lookup(ref, scope);
      renewed++;
    }
    return renewed;
  }

  private async importModule(name: unknown, scope: Scope): Promise<unknown> {
    if (typeof name !== 'string') throw new Fault(FaultCode.INVALID_PARAMS, 'objects.import takes a module name');
    const specifier = this.modules.get(name) ?? this.resolveModule?.(name);
    if (specifier === undefined) throw objectFault(ObjectFaultCode.NOT_OFFERED, `module "${name.slice(0, 100)}" is not offered`);
    let loading = this.imported.get(name);
    if (loading === undefined) {
      loading = import(String(specifier)) as Promise<object>;
      this.imported.set(name, loading);
      // A failed import is tried again next time.
      loading.catch(() => this.imported.delete(name));
    }
    const namespace = await loading;
    for (const value of Object.values(namespace)) if (typeof value === 'function') this.constructible.add(value);
    this.remember(scope.url);
    return toWire(namespace, 'ref', scope, name);
  }

  /** The object's last reference went: its Symbol.asyncDispose or Symbol.dispose runs, once; a failure is reported, never thrown at the caller. */
  private dispose(object: object): void {
    if (this.built.delete(object)) this.runDispose(object);
  }

  private runDispose(object: object): void {
    const asyncDispose = (object as { [Symbol.asyncDispose]?: unknown })[Symbol.asyncDispose];
    const syncDispose = (object as { [Symbol.dispose]?: unknown })[Symbol.dispose];
    const fn = typeof asyncDispose === 'function' ? asyncDispose : typeof syncDispose === 'function' ? syncDispose : undefined;
    if (fn === undefined) return;
    let done: Promise<void>;
    try {
      done = Promise.resolve(fn.call(object) as unknown).then(
        () => undefined,
        (err: unknown) => this.report(err),
      );
    } catch (err) {
      this.report(err);
      return;
    }
    this.disposals?.push(done);
  }

  private report(err: unknown): void {
    try {
      this.onError(err);
    } catch {
      /* a failing logger must not take the server down */
    }
  }
}

function returnMode(options: unknown): ReturnMode {
  if (options === undefined || options === null) return 'auto';
  if (typeof options !== 'object' || Array.isArray(options))
    throw new Fault(FaultCode.INVALID_PARAMS, 'options must be a struct { return: "auto" | "ref" | "copy" }');
  const mode = (options as { return?: unknown }).return;
  if (mode === undefined) return 'auto';
  if (mode === 'auto' || mode === 'ref' || mode === 'copy') return mode;
  throw new Fault(FaultCode.INVALID_PARAMS, 'options.return must be "auto", "ref" or "copy"');
}

function argList(args: unknown, method: string): unknown[] {
  if (args === undefined) return [];
  if (!Array.isArray(args)) throw new Fault(FaultCode.INVALID_PARAMS, `${method} takes its arguments as an array`);
  return args as unknown[];
}

function refId(ref: unknown): string {
  const id = typeof ref === 'object' && ref !== null ? (ref as Record<string, unknown>).__ref__ : undefined;
  if (typeof id !== 'string') throw new Fault(FaultCode.INVALID_PARAMS, 'each item must be a reference struct (or [ref, count])');
  return id;
}

function count(name: string, value: number | undefined, fallback: number): number {
  return value === undefined ? fallback : positiveInteger(name, value);
}

function defaultOnError(err: unknown): void {
  const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
  process.stderr.write(`xmlrpc object server: dispose failed: ${text}\n`);
}
