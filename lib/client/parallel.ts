// Parallel calls on the event loop: one method on many servers
// (ParallelServerProxy), or a batch of different calls (runJobs). No thread,
// no process per request: every call is a Transport call (the same steps:
// headers, auth, gzip, TLS, response decoding) on a connection chosen by the
// scheduler (scheduler.ts), and every outcome is a `[result, error]` pair, so
// that one target failing, timing out or answering a fault never hides the
// others.
//
// Targets, in any mix:
//   'http://host:8182/RPC2'       a URL (http or https), through a transport
//                                 made from the options, one per scheme
//   new ServerProxy(url, ...)     its URL, credentials, transport and
//                                 withOptions() options
//   target(url, { transport })    a URL through a given Transport (a subclass
//                                 with its own steps, say)
//   target(x, { strategy })       any target with its own strategy
//   { uname() { ... } }           a local object: its method is called
//                                 directly (sync or async); a throw is the
//                                 error of its pair
//
// Strategies (per proxy, per call, per target):
//   concurrent  a connection per call in flight (at most
//               maxConnectionsPerHost per host): no call waits behind another
//   pipelined   calls to one host:port share a keep-alive connection and are
//               written before any response is read (pipeline.ts), up to
//               pipelineDepth per connection
//   hybrid      pipelined for loopback targets, concurrent for the others

import { inspect } from 'node:util';
import { EncodeError, Fault, FaultCode } from '../errors.js';
import { dumps } from '../xmlrpc/encode.js';
import type { Outcome } from '../async/concurrency.js';
import { systemClock } from '../clock.js';
import { isLoopback, parseHost, parseUrl } from './endpoint.js';
import { ServerProxy, methodsProxyHandler, proxyTarget, type RemoteCallable } from './proxy.js';
import type { RequestOptions } from './request.js';
import { Scheduler, type LocalTask, type RemoteTask, type SchedulerStats, type Task } from './scheduler.js';
import { Transport, type TransportOptions } from './transport.js';
import type { HasApi, MethodName, ParamsOf, ResultOf, TypedMethods } from './typed.js';
import { positiveInteger, timeoutMs } from '../options.js';

export type Strategy = 'concurrent' | 'pipelined' | 'hybrid';

/** The transport options of the transports made for URL targets. */
export type ParallelTransportOptions = Pick<
  TransportOptions,
  'tls' | 'headers' | 'userAgent' | 'keepAlive' | 'connectTimeout' | 'gzipRequests' | 'maxResponseBytes' | 'wrapDoubles' | 'maxDepth' | 'clock'
>;

/** Options of one parallel call (ParallelServerProxy.withOptions, runJobs). */
export interface ParallelCallOptions {
  /** How calls reach the servers. Default 'hybrid'. */
  strategy?: Strategy;
  /** Calls of this batch in flight at most. Default Infinity (the connection limits still apply). */
  concurrency?: number;
  /**
   * Per call, from its start to its result, ms; 0: none. Not counted: its
   * wait for a slot (concurrency, connection limits), nor the time a
   * pipelined call is held back behind others on its connection (see
   * pipeline.ts). Default: the transport's `timeout` (none for the
   * transports made for URL targets; a ServerProxy target keeps its own).
   */
  timeout?: number;
  /** Aborts the batch: queued calls fail at once (not sent), calls in flight are cancelled. */
  signal?: AbortSignal;
  /** Headers for every remote call of this batch. */
  headers?: Record<string, string>;
}

/** Connection limits, shared by every call of a ParallelServerProxy (or one runJobs). */
export interface ParallelLimits {
  /** Sockets per host:port (scheme included) at most. Default 8. */
  maxConnectionsPerHost?: number;
  /** Sockets in total at most; an idle one is closed to make room for another host. Default 256. */
  maxConnections?: number;
  /** Pipelined calls on one connection at most. Default 32. */
  pipelineDepth?: number;
  /** An unused connection is closed after this many ms. Default 4000. */
  idleTimeout?: number;
  /** A new pipelined connection carries one call until a response shows keep-alive. Default true. */
  waitForKeepAlive?: boolean;
}

export interface ParallelOptions extends ParallelTransportOptions, ParallelLimits, Omit<ParallelCallOptions, 'signal' | 'headers'> {}

export interface RunJobsOptions extends ParallelOptions {
  signal?: AbortSignal;
}

export const DEFAULT_PARALLEL_OPTIONS = Object.freeze({
  strategy: 'hybrid' as Strategy,
  concurrency: Infinity,
  maxConnectionsPerHost: 8,
  maxConnections: 256,
  pipelineDepth: 32,
  idleTimeout: 4000,
  waitForKeepAlive: true,
});

const STRATEGIES: ReadonlySet<string> = new Set(['concurrent', 'pipelined', 'hybrid']);

// ---------------------------------------------------------------------------
// Targets

export interface TargetOptions {
  /** This target's strategy, over the proxy's and the call's. */
  strategy?: Strategy;
  /** For a URL: the Transport to call it through (its `secure` must match the URL). */
  transport?: Transport;
}

/** A target with options of its own: made by `target()`. */
export class TargetSpec {
  readonly where: unknown;
  readonly strategy: Strategy | undefined;
  readonly transport: Transport | undefined;

  constructor(where: unknown, options: TargetOptions = {}) {
    if (where instanceof TargetSpec) throw new TypeError('target(): the target is already a target()');
    if (options.strategy !== undefined) checkStrategy(options.strategy);
    if (options.transport !== undefined && !(options.transport instanceof Transport)) throw new TypeError('target(): transport must be a Transport');
    this.where = where;
    this.strategy = options.strategy;
    this.transport = options.transport;
    Object.freeze(this);
  }
}

/** A target with its own strategy or transport: `target('https://a/RPC2', { strategy: 'concurrent' })`. */
export function target(where: string | URL | ServerProxy | object, options: TargetOptions = {}): TargetSpec {
  return new TargetSpec(where, options);
}

/** A URL, a ServerProxy, a target(), or a local object with methods. */
export type Target = string | URL | ServerProxy | TargetSpec | object;

interface LocalTarget {
  readonly kind: 'local';
  readonly object: object;
  readonly url: string;
}

interface RemoteTarget {
  readonly kind: 'remote';
  readonly transport: Transport;
  readonly host: string;
  readonly path: string;
  readonly url: string;
  readonly endpointKey: string;
  readonly loopback: boolean;
  readonly strategy: Strategy | undefined;
  /** A ServerProxy's withOptions() options. */
  readonly callOptions: RequestOptions;
}

type Resolved = LocalTarget | RemoteTarget;

/** Turns targets into Resolved ones; makes (and shares) one transport per scheme for URLs. */
class TargetResolver {
  readonly #transports = new Map<boolean, Transport>();
  readonly #options: ParallelTransportOptions;

  constructor(options: ParallelTransportOptions) {
    this.#options = options;
    new Transport(options); // checks the options now, not at the first https target
  }

  resolve(where: unknown): Resolved {
    if (where instanceof TargetSpec) {
      const base = this.#base(where.where, where.transport);
      return base.kind === 'remote' && where.strategy !== undefined ? { ...base, strategy: where.strategy } : base;
    }
    return this.#base(where, undefined);
  }

  #base(where: unknown, transport: Transport | undefined): Resolved {
    if (typeof where === 'string' || where instanceof URL) {
      const parsed = parseUrl(String(where));
      const t = transport ?? this.#transport(parsed.secure);
      if (t.secure !== parsed.secure) {
        throw new TypeError(`target ${parsed.display}: the transport is ${t.secure ? '' : 'not '}secure but the URL is ${parsed.secure ? 'https' : 'http'}`);
      }
      return remote(t, parsed.host, parsed.path, parsed.display, {});
    }
    if (where instanceof ServerProxy) {
      if (transport !== undefined) throw new TypeError('target(): a ServerProxy brings its own transport');
      const { host, path, callOptions } = proxyTarget(where as ServerProxy);
      return remote(where.transport, host, path, where.url, callOptions);
    }
    if (where instanceof Transport) {
      throw new TypeError('a Transport is not a target by itself: give the URL it should call, target(url, { transport })');
    }
    if (where !== null && (typeof where === 'object' || typeof where === 'function')) {
      if (transport !== undefined) throw new TypeError('target(): a local object takes no transport');
      return { kind: 'local', object: where, url: `local:${localName(where)}` };
    }
    throw new TypeError(`not a target: ${inspect(where)} (a URL, a ServerProxy, target(), or an object with methods)`);
  }

  #transport(secure: boolean): Transport {
    let t = this.#transports.get(secure);
    if (t === undefined) this.#transports.set(secure, (t = new Transport({ ...this.#options, secure })));
    return t;
  }
}

function remote(transport: Transport, host: string, path: string, url: string, callOptions: RequestOptions): RemoteTarget {
  const endpoint = parseHost(host, transport.secure);
  return {
    kind: 'remote',
    transport,
    host,
    path,
    url,
    endpointKey: endpoint.key,
    loopback: isLoopback(endpoint.hostname),
    strategy: undefined,
    callOptions,
  };
}

function localName(object: object): string {
  const ctor = (object as { constructor?: unknown }).constructor;
  const name = typeof object === 'function' ? object.name : typeof ctor === 'function' ? ctor.name : '';
  return name === '' ? 'object' : name;
}

const OBJECT_PROTOTYPE_NAMES: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/** `a.b.c` on a local object, as Python's getattr chain; never Object.prototype's members. */
function callLocal(object: object, name: string, params: readonly unknown[], url: string): unknown {
  let holder: unknown = null;
  let value: unknown = object;
  for (const part of name.split('.')) {
    if (value === null || (typeof value !== 'object' && typeof value !== 'function') || part === '' || OBJECT_PROTOTYPE_NAMES.has(part)) {
      value = undefined;
      break;
    }
    holder = value;
    value = (value as Record<string, unknown>)[part];
  }
  if (typeof value !== 'function') throw new Fault(FaultCode.METHOD_NOT_FOUND, `${url}: no method ${name}`);
  return (value as (...args: unknown[]) => unknown).apply(holder, params as unknown[]);
}

// ---------------------------------------------------------------------------
// Options

interface CallConfig {
  strategy: Strategy;
  concurrency: number;
  /** undefined: the transport's own default. */
  timeout: number | undefined;
  signal: AbortSignal | undefined;
  headers: Record<string, string>;
}

function checkStrategy(strategy: unknown): Strategy {
  if (typeof strategy !== 'string' || !STRATEGIES.has(strategy)) {
    throw new TypeError(`strategy must be 'concurrent', 'pipelined' or 'hybrid', got ${inspect(strategy)}`);
  }
  return strategy as Strategy;
}

function callConfig(base: CallConfig, options: ParallelCallOptions): CallConfig {
  const signal = options.signal ?? base.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError('signal must be an AbortSignal');
  if (options.headers !== undefined && (options.headers === null || typeof options.headers !== 'object')) throw new TypeError('headers must be an object');
  return {
    strategy: options.strategy === undefined ? base.strategy : checkStrategy(options.strategy),
    concurrency: options.concurrency === undefined ? base.concurrency : positiveInteger('concurrency', options.concurrency, true),
    timeout: options.timeout === undefined ? base.timeout : timeoutMs('timeout', options.timeout),
    signal,
    headers: { ...base.headers, ...options.headers },
  };
}

function split(options: ParallelOptions & { signal?: AbortSignal }): {
  transport: ParallelTransportOptions;
  scheduler: Scheduler;
  call: CallConfig;
} {
  const { strategy, concurrency, timeout, maxConnectionsPerHost, maxConnections, pipelineDepth, idleTimeout, waitForKeepAlive, signal, ...transport } = options;
  const d = DEFAULT_PARALLEL_OPTIONS;
  const scheduler = new Scheduler(
    {
      maxConnectionsPerHost: positiveInteger('maxConnectionsPerHost', maxConnectionsPerHost ?? d.maxConnectionsPerHost),
      maxConnections: positiveInteger('maxConnections', maxConnections ?? d.maxConnections),
      pipelineDepth: positiveInteger('pipelineDepth', pipelineDepth ?? d.pipelineDepth),
      idleTimeout: timeoutMs('idleTimeout', idleTimeout ?? d.idleTimeout),
      waitForKeepAlive: (waitForKeepAlive ?? d.waitForKeepAlive) !== false,
    },
    transport.clock ?? systemClock,
  );
  const base: CallConfig = { strategy: d.strategy, concurrency: d.concurrency, timeout: undefined, signal: undefined, headers: {} };
  return { transport, scheduler, call: callConfig(base, { strategy, concurrency, timeout, signal }) };
}

// ---------------------------------------------------------------------------
// Tasks

/** The body for `method(params)`, once per maxDepth; an EncodeError is the outcome of every remote target. */
class Bodies {
  readonly #cache = new Map<number, string | Error>();
  constructor(
    private readonly method: string,
    private readonly params: readonly unknown[],
  ) {}

  for(maxDepth: number): string | Error {
    let body = this.#cache.get(maxDepth);
    if (body === undefined) {
      try {
        body = dumps(this.params as unknown[], { methodName: this.method, maxDepth });
      } catch (err) {
        body = err instanceof Error ? err : new EncodeError(String(err));
      }
      this.#cache.set(maxDepth, body);
    }
    return body;
  }
}

function makeTask(t: Resolved, method: string, params: readonly unknown[], bodies: Bodies, config: CallConfig): Task {
  if (t.kind === 'local') {
    return { kind: 'local', url: t.url, timeout: config.timeout ?? 0, call: () => callLocal(t.object, method, params, t.url) };
  }
  const body = bodies.for(t.transport.maxDepth);
  if (body instanceof Error) {
    return { kind: 'local', url: t.url, timeout: 0, call: () => Promise.reject(body) } satisfies LocalTask;
  }
  const strategy = t.strategy ?? config.strategy;
  const pipelined = strategy === 'pipelined' || (strategy === 'hybrid' && t.loopback);
  const own = t.callOptions;
  const headers = own.headers === undefined ? config.headers : { ...config.headers, ...own.headers };
  const timeout = own.timeout ?? config.timeout;
  return {
    kind: 'remote',
    transport: t.transport,
    host: t.host,
    endpointKey: t.endpointKey,
    url: t.url,
    pipelined,
    run: (pipeline, signal) =>
      pipeline.request(t.path, body, {
        signal: own.signal === undefined ? signal : AbortSignal.any([signal, own.signal]),
        timeout,
        headers,
      }),
  } satisfies RemoteTask;
}

// ---------------------------------------------------------------------------
// ParallelServerProxy

const STATE = Symbol('ParallelServerProxy.state');

interface ProxyState {
  readonly scheduler: Scheduler;
  readonly targets: readonly Resolved[];
  readonly config: CallConfig;
}

class ParallelServerProxyBase {
  /** Each target's URL (without credentials), or `local:<name>`, in target order. */
  readonly targets: readonly string[];
  declare readonly [STATE]: ProxyState;

  /** `shared` is internal (withOptions); the exported constructor type has two parameters. */
  constructor(targets: Iterable<Target>, options: ParallelOptions = {}, shared?: ProxyState) {
    let state: ProxyState;
    if (shared !== undefined) {
      state = shared;
    } else {
      if (targets === null || typeof (targets as Iterable<Target>)[Symbol.iterator] !== 'function') {
        throw new TypeError('ParallelServerProxy needs a list of targets');
      }
      const parts = split(options);
      const resolver = new TargetResolver(parts.transport);
      state = { scheduler: parts.scheduler, targets: Array.from(targets, (t) => resolver.resolve(t)), config: parts.call };
    }
    this.targets = Object.freeze(state.targets.map((t) => t.url));
    Object.defineProperty(this, STATE, { value: state });
    return new Proxy(this, PROXY_HANDLER);
  }

  /**
   * Calls `name` (any name) with `params` on every target at once. Resolves
   * to one `[result, error]` pair per target, in target order; never
   * rejects for a target's failure.
   */
  call<T = unknown>(name: string, ...params: unknown[]): Promise<Outcome<T>[]> {
    if (typeof name !== 'string' || name === '') return Promise.reject(new TypeError('a method name must be a non-empty string'));
    const { scheduler, targets, config } = this[STATE];
    const bodies = new Bodies(name, params);
    const tasks = targets.map((t) => makeTask(t, name, params, bodies, config));
    return scheduler.run(tasks, { concurrency: config.concurrency, signal: config.signal }) as Promise<Outcome<T>[]>;
  }

  /** A view whose calls use `options` (signal, timeout, strategy, concurrency, headers); it shares the connections. */
  withOptions(options: ParallelCallOptions): ParallelServerProxy {
    const state = this[STATE];
    return new ParallelServerProxyBase([], {}, { ...state, config: callConfig(state.config, options) }) as ParallelServerProxy;
  }

  /** Closes the connections (idle ones now, busy ones after their calls); resolves when they are closed. */
  close(): Promise<void> {
    return this[STATE].scheduler.close();
  }

  /** `await using psp = new ParallelServerProxy(targets)` closes it at the end of the block. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Sockets open (closing ones included), idle ones, calls queued and in flight. */
  stats(): SchedulerStats {
    return this[STATE].scheduler.stats();
  }

  toString(): string {
    return `<ParallelServerProxy for ${this.targets.length} targets>`;
  }

  toJSON(): { targets: readonly string[] } {
    return { targets: this.targets };
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

const PROXY_HANDLER = methodsProxyHandler<ParallelServerProxyBase, Promise<Outcome[]>>((target, method, params) => target.call(method, ...params));

/**
 * A ParallelServerProxy: its own members, and every other name a method
 * called on every target. With an `Api`, only Api's methods, each
 * resolving to pairs of its result type.
 */
export type ParallelServerProxy<Api = never> = [Api] extends [never]
  ? ParallelServerProxyBase & { readonly [method: string]: RemoteCallable<Promise<Outcome[]>> }
  : Omit<ParallelServerProxyBase, 'call' | 'withOptions'> &
      Omit<TypedMethods<Api, 'parallel'>, keyof ParallelServerProxyBase> &
      HasApi<Api> & {
        /** Calls one of Api's methods by its (dotted) name on every target. */
        call<N extends MethodName<Api>>(name: N, ...params: ParamsOf<Api, N>): Promise<Outcome<ResultOf<Api, N>>[]>;
        /** A view whose calls use `options`; it shares the connections. */
        withOptions(options: ParallelCallOptions): ParallelServerProxy<Api>;
      };

/**
 * `new ParallelServerProxy(targets, options)`: `await psp.uname()` calls
 * `uname` on every target at once and resolves to `[result, error]` pairs.
 */
export const ParallelServerProxy = ParallelServerProxyBase as unknown as {
  new <Api = never>(targets: Iterable<Target>, options?: ParallelOptions): ParallelServerProxy<Api>;
  readonly prototype: ParallelServerProxyBase;
};

// ---------------------------------------------------------------------------
// runJobs

/** One call of a batch: `[target, method, params]`. */
export type Job = readonly [target: Target, method: string, params?: readonly unknown[]];

/**
 * Runs a batch of different calls (targets and methods) under `options`
 * (strategy, concurrency, timeout, signal, limits). Resolves to one
 * `[result, error]` pair per job, in job order, once every call has
 * settled and every connection it opened is closed. Rejects only for
 * malformed jobs or options, before any call. A result is an XmlRpcValue
 * from a remote target, whatever the function returned from a local one.
 */
export async function runJobs(jobs: Iterable<Job>, options: RunJobsOptions = {}): Promise<Outcome<unknown>[]> {
  if (jobs === null || typeof (jobs as Iterable<Job>)[Symbol.iterator] !== 'function') throw new TypeError('runJobs needs a list of jobs');
  const parts = split(options);
  const resolver = new TargetResolver(parts.transport);
  const resolved = new Map<unknown, Resolved>();
  const tasks: Task[] = [];
  let i = 0;
  for (const job of jobs) {
    if (!Array.isArray(job) || job.length < 2 || job.length > 3) throw new TypeError(`job ${i}: expected [target, method, params]`);
    const [where, method, params = []] = job as Job;
    if (typeof method !== 'string' || method === '') throw new TypeError(`job ${i}: the method must be a non-empty string`);
    if (!Array.isArray(params)) throw new TypeError(`job ${i}: params must be an array`);
    let t = resolved.get(where);
    if (t === undefined) resolved.set(where, (t = resolver.resolve(where)));
    tasks.push(makeTask(t, method, params, new Bodies(method, params), parts.call));
    i++;
  }
  try {
    return await parts.scheduler.run(tasks, { concurrency: parts.call.concurrency, signal: parts.call.signal });
  } finally {
    await parts.scheduler.close();
  }
}
