// ObjectProxy: a remote object as a JavaScript Proxy (issue 11, client side).
// A proxy is a path from a reference: property reads extend the path and
// send nothing, so `w.child.method(1)` is ONE objects.call with the path
// 'child.method', and awaiting `w.child.num` is ONE objects.get of
// 'child.num' (a member read is a thenable; the root proxy is not, so that
// `await objs.create(...)` resolves to it). The `$` names are the proxy's
// own helpers: a remote member whose name starts with `$` is reached with
// `$call`/`$get`. The proxy knows its client only through ProxyHost
// (client.ts implements it), so this module imports no client.

import { inspect } from 'node:util';
import type { RequestOptions } from '../client/request.js';
import { RemoteObjectError } from '../errors.js';
import type { RefStruct, ReturnMode } from './wire.js';

/** One reference held by this side: shared by every proxy made from it, and by each call pending on it. */
export interface Handle {
  readonly ref: RefStruct;
  readonly host: ProxyHost;
  released: boolean;
}

/** One proxy: a reference, a path under it, and its per-call options (`$with`). */
export interface ProxyNode {
  readonly handle: Handle;
  readonly path: string;
  readonly options: RequestOptions | undefined;
}

/** What a proxy needs of its ObjectClient. */
export interface ProxyHost {
  call(node: ProxyNode, path: string, args: unknown[]): Promise<unknown>;
  get(node: ProxyNode, path: string, mode: ReturnMode): Promise<unknown>;
  set(node: ProxyNode, path: string, value: unknown): Promise<void>;
  release(handle: Handle, options: RequestOptions | undefined): Promise<void>;
}

const NODE = Symbol('ObjectProxy.node');

function ignoreGone(err: unknown): void {
  if (err instanceof RemoteObjectError) return;
  throw err;
}

type Target = (() => void) & { [NODE]: ProxyNode };

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function describeNode(node: ProxyNode): string {
  const { ref } = node.handle;
  return `[ObjectProxy ${ref.type} ${ref.__ref__}${node.path === '' ? '' : ` .${node.path}`}${node.handle.released ? ' (released)' : ''}]`;
}

const HANDLER: ProxyHandler<Target> = {
  get(target, prop) {
    const node = target[NODE];
    const { handle, path } = node;
    const host = handle.host;
    if (typeof prop === 'symbol') {
      if (prop === NODE) return node;
      // At the end of a scope the reference being gone already (released, or its owner stopped) is no error.
      if (prop === Symbol.asyncDispose && path === '') return () => host.release(handle, node.options).catch(ignoreGone);
      if (prop === inspect.custom) return () => describeNode(node);
      return undefined;
    }
    switch (prop) {
      case 'then':
        // The root is not thenable: awaiting a proxy gives the proxy.
        if (path === '') return undefined;
        return (resolve: (v: unknown) => unknown, reject: (e: unknown) => unknown) => host.get(node, path, 'auto').then(resolve, reject);
      case '$call':
        return (name: string, ...args: unknown[]) => host.call(node, join(path, name), args);
      case '$get':
        return (name: string, mode: ReturnMode = 'auto') => host.get(node, join(path, name), mode);
      case '$set':
        return (name: string, value: unknown) => host.set(node, join(path, name), value);
      case '$copy':
        // The empty path is the object itself (wire.ts): a copy of its public data.
        return () => host.get(node, path, 'copy');
      case '$ref':
        return handle.ref;
      case '$path':
        return path;
      case '$released':
        return handle.released;
      case '$release':
        if (path !== '') return undefined;
        return () => host.release(handle, node.options);
      case '$with':
        return (options: RequestOptions) => makeProxy(handle, path, { ...node.options, ...options });
      case 'toJSON':
        return () => handle.ref;
      case 'toString':
        return () => describeNode(node);
      default:
        return makeProxy(handle, join(path, prop), node.options);
    }
  },
  apply(target, _this, args) {
    const node = target[NODE];
    if (node.path === '') return Promise.reject(new TypeError(`${describeNode(node)} is not a function: call one of its methods`));
    return node.handle.host.call(node, node.path, args);
  },
  set() {
    throw new TypeError('an ObjectProxy member is written with `await proxy.$set(name, value)`');
  },
  has(target, prop) {
    return prop === NODE || prop in target;
  },
};

/** A proxy for `path` under `handle` (the empty path is the object itself). */
export function makeProxy(handle: Handle, path: string, options: RequestOptions | undefined): ObjectProxy<unknown> {
  const target = function () {} as Target;
  target[NODE] = { handle, path, options };
  return new Proxy(target, HANDLER) as unknown as ObjectProxy<unknown>;
}

/** The node of `value` when it is an ObjectProxy, else undefined. */
export function proxyNode(value: unknown): ProxyNode | undefined {
  if (typeof value !== 'function') return undefined;
  return (value as Partial<Target>)[NODE];
}

/** True for an ObjectProxy (the root of a reference or a member path under one). */
export function isObjectProxy(value: unknown): value is ObjectProxy<unknown> {
  return proxyNode(value) !== undefined;
}

// ---- types ----

/** Per-call options of a proxy view: `w.$with({ timeout, signal })`. */
export type ProxyCallOptions = Pick<RequestOptions, 'timeout' | 'signal' | 'headers'>;

type Fn = (...args: never[]) => unknown;
type Ctor = abstract new (...args: never[]) => unknown;

/** The names a proxy reaches: public members (never `_`-prefixed, `constructor` or `$`-prefixed). */
type Reachable<T> = { [K in keyof T]: K extends string ? (K extends `_${string}` | `$${string}` | 'constructor' ? never : K) : never }[keyof T];

/** The data members of T (what `$set` may write and `$copy` returns). */
export type FieldNames<T> = { [K in Reachable<T>]: T[K] extends Fn ? never : K }[Reachable<T>];

/** A remote method: the same parameters (proxies accepted where objects are), an async result. */
export type RemoteMethodOf<F> = F extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;

/** A class reached through a module proxy: `await m.Counter.new(3)` constructs it on the owner. */
export interface RemoteClass<C extends Ctor> {
  readonly new: (...args: ConstructorParameters<C>) => Promise<ObjectProxy<InstanceType<C>>>;
}

/** A member read: a thenable of its value, whose own members chain (`await w.child.num`). */
export type RemoteMember<V> = PromiseLike<V> &
  (V extends object ? (V extends Date | Uint8Array | readonly unknown[] ? unknown : Members<V> & SubHelpers<V>) : unknown);

type Members<T> = {
  readonly [K in Reachable<T>]: T[K] extends Ctor ? RemoteClass<T[K]> : T[K] extends Fn ? RemoteMethodOf<T[K]> : RemoteMember<T[K]>;
};

/** The helpers of a member path (`w.child.$set('num', 1)`). */
interface SubHelpers<T> {
  $set<K extends FieldNames<T>>(name: K, value: T[K]): Promise<void>;
  $copy(): Promise<Pick<T, FieldNames<T>>>;
  /** Any member by name (one starting with `$`, say): a call. */
  $call(name: string, ...args: unknown[]): Promise<unknown>;
  /** Any member by name: a read, by copy or by reference as `mode` asks. */
  $get(name: string, mode?: ReturnMode): Promise<unknown>;
}

/** The proxy's own helpers, on the object itself. */
export interface ObjectProxyHelpers<T> extends SubHelpers<T> {
  /** The reference struct, as it goes on the wire. */
  readonly $ref: RefStruct;
  /** True once released on this side. */
  readonly $released: boolean;
  /** Releases the reference (one count); later calls on it reject with RemoteObjectError RELEASED. */
  $release(): Promise<void>;
  /** A view whose calls carry these options (timeout, signal, headers); same reference. */
  $with(options: ProxyCallOptions): ObjectProxy<T>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * A remote object of class T: methods become async methods, fields
 * thenables (`await w.num`), plus the `$` helpers. A result that travels by
 * reference (a class instance, a Map...) is an ObjectProxy at run time,
 * whatever T says: type it with `as ObjectProxy<C>`.
 */
export type ObjectProxy<T> = Members<T> & ObjectProxyHelpers<T>;
