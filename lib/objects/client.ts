// ObjectClient: the client side of remote objects (issue 11). It speaks the
// wire of wire.ts through a ServerProxy, so TLS, credentials in the URL,
// timeouts, abort and every transport option work as for any call; its
// session token goes in the `X-Object-Session` header of every request
// (Transport's `headers`, through a ServerProxy view: nothing in lib/client
// had to change).
//
// Lifetimes. Each reference received is one Handle, shared by every proxy
// made from it. Explicit release (`$release`, `await using`) is the plan; a
// FinalizationRegistry is the backstop: when no proxy of a handle is left,
// its reference joins a batch sent as ONE objects.release after the current
// turn. A call in flight keeps its handle in `#inFlight` until it settles,
// so a proxy is never released while a call on it is pending, whatever the
// caller still holds (comlink's failure).

import { randomBytes } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { RequestOptions } from '../client/request.js';
import { ServerProxy, type ServerProxyOptions } from '../client/proxy.js';
import { Fault, RemoteObjectError, RemoteObjectErrorCode, TransportError, TransportErrorCode } from '../errors.js';
import { positiveInteger } from '../options.js';
import { isRefStruct, METHODS, ObjectFaultCode, REF, type RefStruct, type ReturnMode } from './wire.js';
import { makeProxy, proxyNode, type Handle, type ObjectProxy, type ProxyHost, type ProxyNode } from './proxy.js';

export interface ObjectClientOptions extends ServerProxyOptions {
  /** The session token sent as `X-Object-Session` (16-64 of [A-Za-z0-9_-]). Default: 192 random bits, base64url. */
  session?: string;
  /** Release forgotten proxies through a FinalizationRegistry. Default true. */
  releaseOnGc?: boolean;
  /**
   * Options for the client of another owner, one a reference in a result
   * names (its `url`). Default: this client's options for an owner at the
   * same origin (scheme, host and port); for any other origin, the same
   * options without `headers` and without the TLS client credentials
   * (`cert`, `key`, `pfx`, `passphrase`), so a token meant for this owner
   * never goes to a host it names.
   */
  peerOptions?: (url: string) => ObjectClientOptions | undefined;
  /** Other owners this client keeps a client for (default 64); past it, a result naming a new one fails with TOO_MANY_OWNERS. */
  maxPeers?: number;
}

export interface ObjectClientStats {
  /** References held (received, not yet released). */
  live: number;
  /** Calls in flight. */
  pending: number;
  /** References released after their proxies were collected, and in how many objects.release calls. */
  gcReleased: number;
  gcBatches: number;
}

/** The header's name as sent (wire.ts has it lower-cased, as the server reads it). */
const SESSION_HEADER_NAME = 'X-Object-Session';

export class ObjectClient implements ProxyHost {
  /** The URL without credentials: a reference whose `url` is this one (query and fragment aside) belongs to this client. */
  readonly url: string;
  readonly session: string;
  readonly #server: ServerProxy;
  /** The clients of the owners met in results; shared with those clients. */
  #owners: Owners;
  readonly #registry: FinalizationRegistry<RefStruct> | null;
  /** Each call in flight, with the handles it holds: its target's and those of the proxies it passes as arguments. */
  readonly #inFlight = new Map<number, Handle[]>();
  #callIds = 0;
  /** Set once the owner has answered: a later connect failure means it went away (OWNER_GONE). */
  #answered = false;
  /** Aborted by ownerGone(): every call carries its signal, so calls in flight fail at once. */
  readonly #gone = new AbortController();
  #live = 0;
  #doomed: RefStruct[] = [];
  #flushScheduled = false;
  #flushing: Promise<unknown> = Promise.resolve();
  #gcReleased = 0;
  #gcBatches = 0;

  constructor(url: string, options: ObjectClientOptions = {}) {
    const { session, releaseOnGc, peerOptions, maxPeers, ...proxyOptions } = options;
    this.session = session ?? randomBytes(24).toString('base64url');
    if (!/^[A-Za-z0-9_-]{16,64}$/.test(this.session)) throw new TypeError('session must be 16 to 64 characters of [A-Za-z0-9_-]');
    const base = new ServerProxy(url, proxyOptions);
    // Every call in flight listens to it: no MaxListeners warning past ten.
    setMaxListeners(0, this.#gone.signal);
    this.#server = base.withOptions({ headers: { [SESSION_HEADER_NAME]: this.session }, signal: this.#gone.signal });
    this.url = base.url;
    this.#owners = {
      root: this,
      byUrl: new Map([[ownerKey(this.url), this]]),
      max: maxPeers === undefined ? 64 : positiveInteger('maxPeers', maxPeers),
      options: (to) => peerOptions?.(to) ?? defaultPeerOptions(options, this.url, to),
    };
    this.#registry = releaseOnGc === false ? null : new FinalizationRegistry((ref) => this.#collected(ref));
  }

  /** Creates an instance of `className` on the owner (one the server offers). */
  async create<T = unknown>(className: string, ...args: unknown[]): Promise<ObjectProxy<T>> {
    const held: Handle[] = [];
    const params = [className, this.#toWire(args, held)];
    return this.#expectRef(await this.#holding(held, this.#request(METHODS.create, params, undefined, '')), 'objects.create') as ObjectProxy<T>;
  }

  /**
   * A proxy of an allow-listed module's namespace. Its classes are built on
   * the owner with `await m.Counter.new(3)` (objects.call of 'Counter.new').
   */
  async import<T = unknown>(moduleName: string): Promise<ObjectProxy<T>> {
    return this.#expectRef(await this.#request(METHODS.import, [moduleName], undefined, ''), 'objects.import') as ObjectProxy<T>;
  }

  /** A proxy for a reference struct obtained some other way (it then counts as received here). */
  proxy<T = unknown>(ref: RefStruct): ObjectProxy<T> {
    if (!isRefStruct(ref)) throw new TypeError('not a reference struct');
    return this.#fromWire(ref) as ObjectProxy<T>;
  }

  /** The owner's table (objects.list). */
  list(): Promise<unknown> {
    return this.#request(METHODS.list, [], undefined, '');
  }

  ping(): Promise<unknown> {
    return this.#request(METHODS.ping, [], undefined, '');
  }

  /** Class, methods and readable members of the object behind `proxy` (objects.describe). */
  describe(proxy: ObjectProxy<unknown>): Promise<unknown> {
    const node = this.#rootNode(proxy);
    const owner = node.handle.host;
    if (owner !== this && owner instanceof ObjectClient) return owner.describe(proxy);
    return this.#onHandle(node, METHODS.describe, [node.handle.ref]);
  }

  /** Renews the leases of these references (objects.renew); resolves to how many the owner renewed. */
  async renew(...proxies: ObjectProxy<unknown>[]): Promise<number> {
    // Each owner renews its own references: one objects.renew per owner.
    const byOwner = new Map<ObjectClient, RefStruct[]>();
    for (const p of proxies) {
      const { handle } = this.#rootNode(p);
      const owner = handle.host instanceof ObjectClient ? handle.host : this;
      byOwner.set(owner, [...(byOwner.get(owner) ?? []), handle.ref]);
    }
    let renewed = 0;
    for (const [owner, refs] of byOwner) renewed += Number(await owner.#request(METHODS.renew, [refs], undefined, ''));
    return renewed;
  }

  stats(): ObjectClientStats {
    return { live: this.#live, pending: this.#inFlight.size, gcReleased: this.#gcReleased, gcBatches: this.#gcBatches };
  }

  /**
   * Says the owner is gone for good (spawnProcess calls it when its child
   * exits): calls in flight fail now with OWNER_GONE, not when a timeout or
   * the socket says so, and so does every later call, without a request.
   */
  ownerGone(reason: string): void {
    if (!this.#gone.signal.aborted)
      this.#gone.abort(new RemoteObjectError(RemoteObjectErrorCode.OWNER_GONE, '', `the owner at ${this.url} is gone: ${reason}`));
  }

  /** Sends the references of collected proxies now rather than after this turn; resolves once that batch is answered. */
  flushReleases(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#sendBatch());
    return this.#flushing.then(() => undefined);
  }

  /**
   * Sends what the FinalizationRegistry queued, then closes the connections
   * of this client and of the peer clients it made. References still held
   * are not released (their session's lease ends them on the owner).
   */
  async close(): Promise<void> {
    await this.flushReleases();
    const all = [...this.#owners.byUrl.values()];
    for (const peer of all) if (peer !== this) await peer.flushReleases();
    await Promise.all(all.map((c) => c.#server.close()));
  }

  // ---- ProxyHost ----

  call(node: ProxyNode, path: string, args: unknown[]): Promise<unknown> {
    const held: Handle[] = [];
    return this.#onHandle(node, METHODS.call, [node.handle.ref, path, this.#toWire(args, held)], held);
  }

  get(node: ProxyNode, path: string, mode: ReturnMode): Promise<unknown> {
    const params: unknown[] = [node.handle.ref, path];
    if (mode !== 'auto') params.push({ return: mode });
    return this.#onHandle(node, METHODS.get, params);
  }

  async set(node: ProxyNode, path: string, value: unknown): Promise<void> {
    const held: Handle[] = [];
    await this.#onHandle(node, METHODS.set, [node.handle.ref, path, this.#toWire(value, held)], held);
  }

  async release(handle: Handle, options: RequestOptions | undefined): Promise<void> {
    if (handle.released) return;
    // Released here first: a call made from now on fails at once, without a request.
    handle.released = true;
    this.#live--;
    this.#registry?.unregister(handle);
    await this.#request(METHODS.release, [[handle.ref]], options, handle.ref[REF]);
  }

  // ---- internals ----

  /**
   * A call on a proxy's reference: refused here once released; meanwhile
   * its handle, and those of the proxies passed as arguments, stay strongly
   * held, so none of them can be collected (and released) before the answer.
   */
  #onHandle(node: ProxyNode, method: string, params: unknown[], held: Handle[] = []): Promise<unknown> {
    const handle = node.handle;
    const id = handle.ref[REF];
    if (handle.released) return Promise.reject(new RemoteObjectError(RemoteObjectErrorCode.RELEASED, id, `${handle.ref.type} ${id} was released`));
    held.push(handle);
    return this.#holding(held, this.#request(method, params, node.options, id));
  }

  /** Keeps `held` reachable from this client until `call` settles. */
  #holding(held: Handle[], call: Promise<unknown>): Promise<unknown> {
    const callId = ++this.#callIds;
    this.#inFlight.set(callId, held);
    return call.finally(() => this.#inFlight.delete(callId));
  }

  async #request(method: string, params: unknown[], options: RequestOptions | undefined, refId: string): Promise<unknown> {
    if (this.#gone.signal.aborted) throw this.#failure(this.#gone.signal.reason, refId, method);
    // A call's own signal replaces the client's in withOptions: listen to both.
    if (options?.signal !== undefined) options = { ...options, signal: AbortSignal.any([options.signal, this.#gone.signal]) };
    const server = options === undefined ? this.#server : this.#server.withOptions(options);
    let result: unknown;
    try {
      result = await server.call(method, ...params);
    } catch (err) {
      throw this.#failure(err, refId, method);
    }
    this.#answered = true;
    return this.#fromWire(result);
  }

  /** What a failed call reports: RELEASED and OWNER_GONE as RemoteObjectError, everything else as it came. */
  #failure(err: unknown, refId: string, method: string): unknown {
    if (this.#gone.signal.aborted) {
      const why = this.#gone.signal.reason as RemoteObjectError;
      return new RemoteObjectError(RemoteObjectErrorCode.OWNER_GONE, refId, `${method}: ${why.message}`, { cause: err === why ? undefined : err });
    }
    if (err instanceof Fault && err.faultCode === ObjectFaultCode.RELEASED) {
      return new RemoteObjectError(RemoteObjectErrorCode.RELEASED, refId, err.faultString, { cause: err });
    }
    if (this.#answered && err instanceof TransportError && (err.code === TransportErrorCode.CONNECT || err.code === TransportErrorCode.CONNECTION_LOST)) {
      return new RemoteObjectError(RemoteObjectErrorCode.OWNER_GONE, refId, `${method}: the owner at ${this.url} cannot be reached any more: ${err.message}`, {
        cause: err,
      });
    }
    return err;
  }

  #expectRef(value: unknown, method: string): ObjectProxy<unknown> {
    if (proxyNode(value) === undefined) throw new TypeError(`${method} answered no reference`);
    return value as ObjectProxy<unknown>;
  }

  #rootNode(proxy: ObjectProxy<unknown>): ProxyNode {
    const node = proxyNode(proxy);
    if (node === undefined || node.path !== '') throw new TypeError('not an ObjectProxy of an object (a member path was given)');
    return node;
  }

  /** Arguments out: an ObjectProxy goes as its reference struct (in arrays and plain objects too), its handle into `held`. */
  #toWire(value: unknown, held: Handle[], depth = 0): unknown {
    const node = proxyNode(value);
    if (node !== undefined) {
      if (node.path !== '') throw new TypeError(`a member path (${node.path}) cannot be passed: await it first`);
      if (node.handle.released) throw new RemoteObjectError(RemoteObjectErrorCode.RELEASED, node.handle.ref[REF], 'a released proxy was passed as an argument');
      held.push(node.handle);
      return node.handle.ref;
    }
    if (value === null || typeof value !== 'object' || depth > 64) return value;
    if (Array.isArray(value)) return value.map((v) => this.#toWire(v, held, depth + 1));
    if (!isPlainObject(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = this.#toWire(v, held, depth + 1);
    return out;
  }

  /**
   * Results in: a reference struct becomes a proxy (of its owner's client),
   * in arrays and plain objects too. Room for the new owners it names is
   * made first, so an answer over `maxPeers` fails before adopting anything.
   */
  #fromWire(value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    const fresh = new Set<string>();
    this.#newOwners(value, fresh, 0);
    if (fresh.size > 0) this.#makeRoom(fresh);
    return this.#adoptIn(value);
  }

  #adoptIn(value: unknown): unknown {
    if (value === null || typeof value !== 'object') return value;
    if (isRefStruct(value)) return this.#owner(value.url).#adopt(value);
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) value[i] = this.#adoptIn(value[i]);
      return value;
    }
    if (isPlainObject(value)) {
      const record = value as Record<string, unknown>;
      for (const k of Object.keys(record)) record[k] = this.#adoptIn(record[k]);
    }
    return value;
  }

  /** The owners (by ownerKey) that references in `value` name and no client is kept for yet. */
  #newOwners(value: unknown, into: Set<string>, depth: number): void {
    if (value === null || typeof value !== 'object' || depth > 512) return;
    if (isRefStruct(value)) {
      if (typeof value.url === 'string' && value.url !== '' && !this.#owners.byUrl.has(ownerKey(value.url))) into.add(ownerKey(value.url));
      return;
    }
    if (Array.isArray(value)) for (const item of value) this.#newOwners(item, into, depth + 1);
    else if (isPlainObject(value)) for (const item of Object.values(value)) this.#newOwners(item, into, depth + 1);
  }

  /** Room for `fresh` more owners within maxPeers: clients of idle owners (no reference held, nothing pending) go first. */
  #makeRoom(fresh: Set<string>): void {
    const owners = this.#owners;
    // The root is in the map too: maxPeers counts the others.
    const over = () => owners.byUrl.size - 1 + fresh.size > owners.max;
    if (!over()) return;
    for (const [key, peer] of owners.byUrl) {
      if (peer === owners.root || !peer.#idle()) continue;
      owners.byUrl.delete(key);
      void peer.#server.close();
    }
    if (over()) {
      const [first = ''] = fresh;
      throw new RemoteObjectError(
        RemoteObjectErrorCode.TOO_MANY_OWNERS,
        '',
        `the answer names references of ${fresh.size} new owner(s) (${first.slice(0, 200)}...) past maxPeers (${owners.max}), while every other owner's client holds references`,
      );
    }
  }

  /** The client of the owner at `url`: this one, or one per owner (kept, closed with this one), with the options `peerOptions` gives (by default no credentials for another origin). */
  #owner(url: string): ObjectClient {
    if (typeof url !== 'string' || url === '') return this;
    const owners = this.#owners;
    const key = ownerKey(url);
    const known = owners.byUrl.get(key);
    if (known !== undefined) return known;
    const peer = new ObjectClient(url, owners.options(url));
    peer.#owners = owners;
    owners.byUrl.set(key, peer);
    return peer;
  }

  /** Holds no reference and has nothing pending: its client can go. */
  #idle(): boolean {
    return this.#live === 0 && this.#inFlight.size === 0 && this.#doomed.length === 0 && !this.#flushScheduled;
  }

  #adopt(ref: RefStruct): ObjectProxy<unknown> {
    const handle: Handle = { ref: { [REF]: ref[REF], type: ref.type, url: ref.url }, host: this, released: false };
    this.#live++;
    const proxy = makeProxy(handle, '', undefined);
    // The handle, not the proxy: every proxy made from it (members, $with views) keeps it alive.
    this.#registry?.register(handle, handle.ref, handle);
    return proxy;
  }

  #collected(ref: RefStruct): void {
    this.#live--;
    this.#doomed.push(ref);
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // One batch per turn: the registry calls back once per collected handle.
    setImmediate(() => {
      this.#flushScheduled = false;
      void this.flushReleases();
    }).unref();
  }

  async #sendBatch(): Promise<void> {
    if (this.#doomed.length === 0) return;
    const refs = this.#doomed;
    this.#doomed = [];
    this.#gcReleased += refs.length;
    this.#gcBatches++;
    try {
      await this.#server.call(METHODS.release, refs);
    } catch {
      // Best effort: the session's lease releases them on the owner anyway.
    }
  }
}

/** The clients of every owner met through one ObjectClient (the root), shared by it and the clients it made. */
interface Owners {
  readonly root: ObjectClient;
  /** By ownerKey(url). */
  readonly byUrl: Map<string, ObjectClient>;
  readonly max: number;
  readonly options: (url: string) => ObjectClientOptions;
}

/** An owner is its URL without query or fragment: the server names itself by its path (a client may add a query). */
function ownerKey(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/**
 * A peer gets this client's options at the same origin; at another, none
 * of its credentials: no `headers`, no TLS client certificate or key.
 */
function defaultPeerOptions(options: ObjectClientOptions, from: string, to: string): ObjectClientOptions {
  const { transport: _shared, session: _session, peerOptions: _peers, maxPeers: _max, ...rest } = options;
  if (origin(from) === origin(to) && origin(to) !== null) return rest;
  const { headers: _headers, tls, ...open } = rest;
  if (tls === undefined) return open;
  const { cert: _cert, key: _key, pfx: _pfx, passphrase: _passphrase, ...trust } = tls;
  return { ...open, tls: trust };
}

function origin(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** A struct: the decoder makes them with a null prototype, callers with Object's. */
function isPlainObject(value: object): boolean {
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
