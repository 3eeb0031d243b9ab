// ServerProxy: Python's xmlrpc.client.ServerProxy for JavaScript. Any
// property is a remote method (`await proxy.add(40, 2)`), and a method is
// itself a namespace for dotted names (`proxy.system.listMethods()`). Names
// the proxy needs for itself are never remote: its own members (`call`,
// `withOptions`, `close`, `url`, `transport`, `toString`, `toJSON`),
// Object.prototype's, symbols, `then` and `inspect`, so that `await proxy`,
// JSON.stringify and console.log see an ordinary object.
// `proxy.call(name, ...params)` reaches any name.

import { inspect } from 'node:util';
import { dumps } from '../xmlrpc/encode.js';
import type { XmlRpcValue } from '../xmlrpc/values.js';
import { parseUrl } from './endpoint.js';
import type { RequestOptions } from './request.js';
import { Transport, type TransportOptions } from './transport.js';
import type { HasApi, MethodName, ParamsOf, ResultOf, TypedMethods } from './typed.js';

export interface ServerProxyOptions extends Omit<TransportOptions, 'secure'> {
  /** A transport to use (and share) instead of one made from the options; its `secure` must match the URL. */
  transport?: Transport;
}

/** A remote method: call it, or read a property for a dotted name. */
export interface RemoteMethod {
  (...params: unknown[]): Promise<XmlRpcValue>;
  readonly [name: string]: RemoteMethod;
}

/** Never remote methods: what promise, JSON and inspection machinery probe. */
const NOT_METHODS = new Set(['then', 'toJSON', 'inspect']);
/** On a method, these stay the function's own: a dotted name ending in one needs proxy.call(). */
const FUNCTION_OWN = new Set(['apply', 'call', 'bind', 'toString', 'valueOf', 'constructor']);

/** Remote methods kept per proxy, at most (then forgotten all at once). */
const MAX_KEPT_METHODS = 256;

/** Internal state, under a symbol so that no property name is taken from the remote namespace. */
const STATE = Symbol('ServerProxy.state');

interface ProxyState {
  /** The URL as given (credentials included): for views made by withOptions. */
  readonly rawUrl: string;
  readonly host: string;
  readonly path: string;
  readonly callOptions: RequestOptions;
}

class ServerProxyBase {
  /** The URL without credentials. */
  readonly url: string;
  readonly transport: Transport;
  declare readonly [STATE]: ProxyState;

  /** `callOptions` is internal (withOptions); the exported constructor type has two parameters. */
  constructor(url: string, options: ServerProxyOptions = {}, callOptions: RequestOptions = {}) {
    const parsed = parseUrl(url);
    const { transport, ...transportOptions } = options;
    if (transport !== undefined) {
      if (!(transport instanceof Transport)) throw new TypeError('transport must be a Transport');
      if (Object.values(transportOptions).some((v) => v !== undefined)) {
        throw new TypeError('ServerProxy: give either a transport or transport options, not both');
      }
      if (transport.secure !== parsed.secure) {
        throw new TypeError(`ServerProxy: the transport is ${transport.secure ? '' : 'not '}secure but the URL is ${parsed.secure ? 'https' : 'http'}`);
      }
      this.transport = transport;
    } else {
      this.transport = new Transport({ ...transportOptions, secure: parsed.secure });
    }
    this.url = parsed.display;
    Object.defineProperty(this, STATE, {
      value: {
        rawUrl: url,
        host: parsed.host,
        path: parsed.path,
        callOptions,
      } satisfies ProxyState,
    });
    return new Proxy(this, PROXY_HANDLER);
  }

  /**
   * Calls `name` (any name: dotted, not an identifier, or one of the
   * proxy's own). `T` types the result (`await proxy.call<number>('add', 1, 2)`);
   * nothing checks it at run time.
   */
  call<T = XmlRpcValue>(name: string, ...params: unknown[]): Promise<T> {
    // The transport's promise itself (Promise.resolve gives it back as it is): an async wrapper would
    // cost a promise and a turn per call. A throw is a rejection, as from an async method.
    try {
      const state = this[STATE];
      const body = dumps(params, { methodName: name, maxDepth: this.transport.maxDepth });
      return Promise.resolve(this.transport.request(state.host, state.path, body, state.callOptions) as Promise<T>);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /**
   * A view of this proxy whose calls carry `options` (signal, timeout,
   * headers), sharing its transport: `await proxy.withOptions({ signal }).add(1, 2)`.
   */
  withOptions(options: RequestOptions): ServerProxy {
    const state = this[STATE];
    const merged: RequestOptions = { ...state.callOptions, ...options };
    if (state.callOptions.headers !== undefined || options.headers !== undefined) {
      merged.headers = { ...state.callOptions.headers, ...options.headers };
    }
    return new ServerProxyBase(state.rawUrl, { transport: this.transport }, merged) as ServerProxy;
  }

  /** Closes the transport's connections (idle ones now, busy ones after their call). */
  close(): Promise<void> {
    return this.transport.close();
  }

  /** `await using proxy = new ServerProxy(url)` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  toString(): string {
    return `<ServerProxy for ${this.url}>`;
  }

  toJSON(): { url: string } {
    return { url: this.url };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

const PROXY_HANDLER = methodsProxyHandler<ServerProxyBase, Promise<XmlRpcValue>>((target, method, params) => target.call(method, ...params));

/**
 * The Proxy handler of an object whose own members stay its own and whose
 * every other name is a remote method (ServerProxy, MultiCall,
 * ParallelServerProxy): what promise, JSON and inspection machinery probe
 * (`then`, `toJSON`, `inspect`) is never one.
 */
export function methodsProxyHandler<T extends object, R>(invoke: (target: T, name: string, params: unknown[]) => R): ProxyHandler<T> {
  // `await proxy.add(1, 2)` reads `add` on every call: its method is made once per target (a Proxy and two properties each time otherwise).
  const made = new WeakMap<T, Map<string, RemoteCallable<R>>>();
  return {
    get(target, name, receiver) {
      if (typeof name === 'symbol' || name in target) return Reflect.get(target, name, receiver);
      if (NOT_METHODS.has(name)) return undefined;
      let methods = made.get(target);
      if (methods === undefined) made.set(target, (methods = new Map<string, RemoteCallable<R>>()));
      let method = methods.get(name);
      if (method === undefined) {
        if (methods.size >= MAX_KEPT_METHODS) methods.clear();
        method = remoteMethod(name, (m, params) => invoke(target, m, params));
        methods.set(name, method);
      }
      return method;
    },
  };
}

/**
 * A callable that invokes `name` and whose properties are the dotted names
 * under it. Shared with MultiCall, whose invoke queues instead of calling.
 */
export function remoteMethod<R>(name: string, invoke: (name: string, params: unknown[]) => R): RemoteCallable<R> {
  const fn = (...params: unknown[]): R => invoke(name, params);
  Object.defineProperty(fn, inspect.custom, { value: () => `[XML-RPC method ${name}]` });
  Object.defineProperty(fn, 'toString', { value: () => `[XML-RPC method ${name}]` });
  return new Proxy(fn, {
    get(target, prop, receiver) {
      if (typeof prop === 'symbol' || FUNCTION_OWN.has(prop)) return Reflect.get(target, prop, receiver) as unknown;
      if (NOT_METHODS.has(prop)) return undefined;
      return remoteMethod(`${name}.${prop}`, invoke);
    },
  }) as RemoteCallable<R>;
}

export interface RemoteCallable<R> {
  (...params: unknown[]): R;
  readonly [name: string]: RemoteCallable<R>;
}

/**
 * Where a ServerProxy's calls go and with what: for ParallelServerProxy,
 * which sends them through the proxy's transport (parallel.ts). Not exported
 * from the package.
 */
export function proxyTarget(proxy: ServerProxy): { host: string; path: string; callOptions: RequestOptions } {
  const state = (proxy as ServerProxyBase)[STATE];
  return { host: state.host, path: state.path, callOptions: state.callOptions };
}

/**
 * A ServerProxy: its own members, and every other name a remote method.
 * With an `Api` (an interface of methods), only Api's methods, each typed:
 * see typed.ts.
 */
export type ServerProxy<Api = never> = [Api] extends [never] ? ServerProxyBase & { readonly [method: string]: RemoteMethod } : TypedServerProxy<Api>;

/** A ServerProxy typed by `Api`: its own members, Api's methods (those not named like a member), and a `call` that takes Api's names. */
export type TypedServerProxy<Api> = Omit<ServerProxyBase, 'call' | 'withOptions'> &
  Omit<TypedMethods<Api, 'call'>, keyof ServerProxyBase> &
  HasApi<Api> & {
    /** Calls one of Api's methods by its (dotted) name: any name, one of the proxy's own included. */
    call<N extends MethodName<Api>>(name: N, ...params: ParamsOf<Api, N>): Promise<ResultOf<Api, N>>;
    /** A view of this proxy whose calls carry `options`, sharing its transport. */
    withOptions(options: RequestOptions): ServerProxy<Api>;
  };

/**
 * `new ServerProxy('http://user:pass@host:8182/RPC2', options)`, or
 * `new ServerProxy<Api>(url)` for calls typed by an interface of methods.
 */
export const ServerProxy = ServerProxyBase as unknown as {
  new <Api = never>(url: string, options?: ServerProxyOptions): ServerProxy<Api>;
  readonly prototype: ServerProxyBase;
};
