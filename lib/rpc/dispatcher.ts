// A ready XmlRpcHandler that dispatches to registered functions and objects
// (Python's SimpleXMLRPCDispatcher: register_function / register_instance),
// with the system.* methods: introspection, multicall, capabilities.

import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { Fault, FaultCode, OffloadErrorCode, WorkerPoolError } from '../errors.js';
import { timeoutMs } from '../options.js';
import type { Request } from '../server/request.js';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { XmlRpcHandler, type XmlRpcHandlerOptions } from './handler.js';
import { markClasses, restoreClasses, type Marked } from './marks.js';
import type { XmlRpcValue } from '../xmlrpc/values.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type XmlRpcFunction = (...params: any[]) => unknown;

export interface MethodInfo {
  /** Returned by system.methodHelp. */
  help?: string;
  /**
   * Returned by system.methodSignature: each signature is
   * `[returnType, ...paramTypes]` with XML-RPC type names (`int`, `i4`, `i8`,
   * `boolean`, `string`, `double`, `dateTime.iso8601`, `base64`, `struct`,
   * `array`, `nil`), checked at registration. When given, calls whose parameter count
   * matches no signature get fault -32602.
   */
  signatures?: string[][];
}

/**
 * The type names a signature may hold: introspection clients (xmlrpc-c's
 * spec, conformance suites) refuse anything else, such as `any`. A method
 * that takes any type lists one signature per type, or declares none
 * (system.methodSignature then answers `undef`).
 */
const SIGNATURE_TYPES: ReadonlySet<string> = new Set([
  'int',
  'i4',
  'i8',
  'boolean',
  'string',
  'double',
  'dateTime.iso8601',
  'base64',
  'struct',
  'array',
  'nil',
]);

/**
 * What registerOffloaded needs of a pool: WorkerPool (lib/offload) has it.
 * Typed by shape so that this layer does not import the offload layer.
 */
export interface OffloadRunner {
  run(module: string | URL, exportName: string, args: readonly unknown[], options?: { timeout?: number; signal?: AbortSignal }): Promise<unknown>;
}

export interface OffloadedMethodInfo extends MethodInfo {
  /** The pool the method runs on. */
  pool: OffloadRunner;
  /** This method's timeout, ms (default: the pool's). Past it the call answers fault -32002 (FaultCode.TIMEOUT). */
  timeout?: number;
}

export interface InstanceOptions {
  /** Resolve `a.b.c` through nested objects (Python's allow_dotted_names). */
  allowDottedNames?: boolean;
  /**
   * Help and signatures of the instance's methods, by method name (as it is
   * called, `a.b.c` with dotted names). Default: the static `help` and
   * `signatures` maps of the instance's class, if it has them.
   */
  methods?: Readonly<Record<string, MethodInfo>>;
}

/**
 * What a class may declare for registerInstance: `static help = { add: '...' }`
 * and `static signatures = { add: [['int', 'int', 'int']] }`, keyed by method name.
 */
export interface DocumentedClass {
  help?: Readonly<Record<string, string>>;
  signatures?: Readonly<Record<string, string[][]>>;
}

export interface XmlRpcDispatcherOptions extends XmlRpcHandlerOptions {
  /**
   * Offer system.listMethods, system.methodHelp, system.methodSignature and
   * system.getCapabilities (default true; Python's register_introspection_functions).
   */
  registerIntrospectionFunctions?: boolean;
  /** Offer system.multicall (default true; Python's register_multicall_functions). */
  registerMulticallFunctions?: boolean;
}

interface Registered {
  invoke(params: XmlRpcValue[], request: Request | undefined): unknown;
  /** The parameters a call needs at least, when no signatures say (a function's `length`). */
  minParams: number;
  info: MethodInfo;
}

function plainFunction(fn: XmlRpcFunction, info: MethodInfo): Registered {
  // One or two params, the common calls, without a spread (a CallWithSpread builtin, about 200 instructions a call).
  const invoke = (params: XmlRpcValue[]): unknown => (params.length === 2 ? fn(params[0], params[1]) : params.length === 1 ? fn(params[0]) : fn(...params));
  return { invoke, minParams: fn.length, info };
}

/** An object may take over dispatch entirely, as in Python. */
interface SelfDispatching {
  _dispatch(method: string, params: XmlRpcValue[], request?: Request): unknown;
}

/** Python's introspection hooks on an instance: what it dispatches for itself, and its help. */
interface SelfDescribing {
  _listMethods?(): unknown;
  _methodHelp?(method: string): unknown;
}

/** registerOffloaded's task (codec-tasks.ts): the user's export, with the XML-RPC classes kept across the clone both ways. */
const CALL_TASK = new URL('./codec-tasks.js', import.meta.url);
const NO_MARKS = { objects: [], kinds: '' };

const CAPABILITIES = {
  xmlrpc: { specUrl: 'http://www.xmlrpc.com/spec', specVersion: 1 },
  faults_interop: { specUrl: 'http://xmlrpc-epi.sourceforge.net/specs/rfc.fault_codes.php', specVersion: 20010516 },
  introspection: { specUrl: 'http://xmlrpc-c.sourceforge.net/introspection.html', specVersion: 1 },
  multicall: { specUrl: 'http://www.xmlrpc.com/discuss/msgReader$1208', specVersion: 1 },
  nil: { specUrl: 'http://www.ontosys.com/xml-rpc/extensions.php', specVersion: 20010518 },
};

/** What system.getCapabilities answers: only what this dispatcher does. */
function capabilities(multicall: boolean, nil: boolean): Partial<typeof CAPABILITIES> {
  const { multicall: m, nil: n, ...always } = CAPABILITIES;
  return { ...always, ...(multicall ? { multicall: m } : {}), ...(nil ? { nil: n } : {}) };
}

export class XmlRpcDispatcher extends XmlRpcHandler {
  private readonly functions = new Map<string, Registered>();
  private instance: object | null = null;
  private instanceOptions: InstanceOptions = {};
  /** The instance's help and signatures, checked at registration. */
  private instanceInfo = new Map<string, MethodInfo>();

  constructor(options: XmlRpcDispatcherOptions = {}) {
    const { registerIntrospectionFunctions = true, registerMulticallFunctions = true, ...handlerOptions } = options;
    super(handlerOptions);
    const system = (name: string, fn: XmlRpcFunction, info: MethodInfo) =>
      this.functions.set(`system.${name}`, plainFunction(fn, checkedInfo(`system.${name}`, info)));
    if (registerIntrospectionFunctions) this.registerIntrospection(system);
    if (registerMulticallFunctions) {
      // Given the request, so that the calls it makes see it too (an offloaded one is cancelled when the client leaves).
      this.functions.set('system.multicall', {
        invoke: (params, request) => this.multicall(params[0], request),
        minParams: 1,
        info: checkedInfo('system.multicall', {
          help: 'Runs an array of {methodName, params} calls; each result is [value] or a fault struct.',
          signatures: [['array', 'array']],
        }),
      });
    }
  }

  private registerIntrospection(system: (name: string, fn: XmlRpcFunction, info: MethodInfo) => void): void {
    system('listMethods', this.listMethods.bind(this), {
      help: 'Lists the names of the methods this server offers.',
      signatures: [['array']],
    });
    system('methodHelp', this.methodHelp.bind(this), {
      help: "Returns a method's documentation string, or '' when it has none.",
      signatures: [['string', 'string']],
    });
    system('methodSignature', this.methodSignature.bind(this), {
      help: "Returns a method's signatures, each [returnType, paramTypes...], or 'undef' when unknown.",
      signatures: [['array', 'string']],
    });
    system('getCapabilities', () => capabilities(this.functions.has('system.multicall'), this.allowNone), {
      help: 'Lists the XML-RPC extensions this server supports.',
      signatures: [['struct']],
    });
  }

  /** Exposes `fn` as `name` (default: the function's own name). */
  registerFunction(fn: XmlRpcFunction, name: string = fn.name, info: MethodInfo = {}): this {
    if (name === '') throw new TypeError('registerFunction needs a name for an anonymous function');
    this.functions.set(name, plainFunction(fn, checkedInfo(name, info)));
    return this;
  }

  /**
   * Exposes export `exportName` of the ES module `module` (a URL or an
   * absolute path) as `name`, run on `info.pool`: params are decoded here and
   * cloned to the worker, the result cloned back and encoded here, so the
   * event loop keeps answering other requests meanwhile. A `Fault` thrown in
   * the task goes out as that fault; a full queue answers -32001 (server
   * busy) at once, a timeout -32002; anything else -32500 with its name and
   * message, as for any method. With no `signatures`, arity is not checked.
   * Params reach the export as they were decoded (Buffer, Double, structs
   * with a null prototype) and a Double, I8 or DateTime in its result comes
   * back as that class: the task runs through codec-tasks.ts's `callExport`.
   */
  registerOffloaded(name: string, module: string | URL, exportName: string, info: OffloadedMethodInfo): this {
    if (typeof name !== 'string' || name === '') throw new TypeError('registerOffloaded needs a name');
    const { pool, timeout, ...methodInfo } = info;
    if (typeof pool?.run !== 'function') throw new TypeError(`${name}: registerOffloaded needs a pool (a WorkerPool)`);
    // Checked here, so that a bad timeout fails the registration, not every call.
    const options = timeout === undefined ? {} : { timeout: timeout === Infinity ? Infinity : timeoutMs(`${name}: timeout`, timeout) };
    const url = moduleUrl(name, module);
    if (typeof exportName !== 'string' || exportName === '') throw new TypeError(`${name}: exportName must be the name of a function the module exports`);
    // The request's signal cancels the task when the client leaves: queued, it never starts; running, its worker is stopped.
    const invoke = (params: XmlRpcValue[], request: Request | undefined) =>
      pool
        .run(
          CALL_TASK,
          'callExport',
          [url, exportName, { value: params, marks: markClasses(params) ?? NO_MARKS }],
          request === undefined ? options : { ...options, signal: request.signal },
        )
        .then((reply) => {
          const marked = reply as Marked;
          restoreClasses(marked.marks);
          return marked.value;
        }, offloadFault);
    this.functions.set(name, { invoke, minParams: 0, info: checkedInfo(name, methodInfo) });
    return this;
  }

  /**
   * Exposes the methods of `instance` (own or inherited from its class, never
   * from Object.prototype, never a name starting with `_`). Registered
   * functions win over the instance. One instance at a time, as in Python.
   * Their help and signatures: `options.methods`, else the class's static
   * `help` and `signatures` maps (DocumentedClass), checked here.
   */
  registerInstance(instance: object, options: InstanceOptions = {}): this {
    const info = instanceInfo(instance, options);
    this.instance = instance;
    this.instanceOptions = options;
    this.instanceInfo = info;
    return this;
  }

  override call(method: string, params: XmlRpcValue[], request?: Request): unknown {
    const registered = this.functions.get(method);
    if (registered !== undefined) {
      checkArity(method, registered, params);
      return registered.invoke(params, request);
    }
    const instance = this.instance;
    if (instance !== null) {
      if (typeof (instance as Partial<SelfDispatching>)._dispatch === 'function') {
        return (instance as SelfDispatching)._dispatch(method, params, request);
      }
      const found = resolveMethod(instance, method, this.instanceOptions.allowDottedNames === true);
      if (found !== undefined) {
        checkArity(method, { minParams: found.fn.length, info: this.instanceInfo.get(method) ?? NO_INFO }, params);
        return found.fn.apply(found.self, params);
      }
    }
    throw new Fault(FaultCode.METHOD_NOT_FOUND, `method "${method}" is not supported`);
  }

  /** system.listMethods: every dispatchable name, sorted. */
  listMethods(): string[] {
    const names = new Set(this.functions.keys());
    const instance = this.instance as (object & SelfDescribing) | null;
    if (instance !== null) {
      for (const name of instanceMethodNames(instance)) names.add(name);
      // As in Python: an instance with _dispatch names the methods it answers.
      if (typeof instance._listMethods === 'function') {
        const listed = instance._listMethods();
        if (Array.isArray(listed)) for (const name of listed) if (typeof name === 'string') names.add(name);
      }
    }
    return [...names].sort();
  }

  /** system.methodHelp */
  methodHelp(name: unknown): string {
    if (typeof name !== 'string') throw new Fault(FaultCode.INVALID_PARAMS, 'system.methodHelp takes a method name');
    const help = this.infoOf(name)?.help;
    if (help !== undefined) return help;
    // As in Python: the instance's _methodHelp(name) for what no registration documents.
    const instance = this.instance as (object & SelfDescribing) | null;
    if (typeof instance?._methodHelp === 'function' && !this.functions.has(name)) {
      const text = instance._methodHelp(name);
      if (typeof text === 'string') return text;
    }
    return '';
  }

  /** system.methodSignature */
  methodSignature(name: unknown): string[][] | string {
    if (typeof name !== 'string') {
      throw new Fault(FaultCode.INVALID_PARAMS, 'system.methodSignature takes a method name');
    }
    return this.infoOf(name)?.signatures ?? 'undef';
  }

  /** A registered function's info, else the instance's for that name. */
  private infoOf(name: string): MethodInfo | undefined {
    return this.functions.get(name)?.info ?? this.instanceInfo.get(name);
  }

  /**
   * system.multicall: runs each call in order; one failing call does not
   * stop the others. A nested system.multicall is refused in its slot.
   */
  async multicall(calls: unknown, request?: Request): Promise<unknown[]> {
    if (!Array.isArray(calls)) throw new Fault(FaultCode.INVALID_PARAMS, 'system.multicall takes an array of calls');
    const results: unknown[] = [];
    for (const entry of calls) {
      try {
        const { methodName, params } = multicallEntry(entry);
        results.push([await this.call(methodName, params, request)]);
      } catch (err) {
        const fault = this.toFault(err);
        results.push({ faultCode: fault.faultCode, faultString: fault.faultString });
      }
    }
    return results;
  }
}

/** A pool's refusal or timeout as the fault a client can act on; what the task threw is left to the fault policy. */
function offloadFault(err: unknown): never {
  const code = err instanceof WorkerPoolError ? err.code : undefined;
  if (code === OffloadErrorCode.QUEUE_FULL) throw new Fault(FaultCode.SERVER_BUSY, 'server busy: try again later');
  if (code === OffloadErrorCode.TIMEOUT) throw new Fault(FaultCode.TIMEOUT, 'the method timed out');
  throw err;
}

/** The URL a worker imports: a URL as is, an absolute path as a file: URL (checked at registration). */
function moduleUrl(name: string, module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module === 'string') {
    if (module.startsWith('file:') || module.startsWith('data:')) return new URL(module).href;
    if (isAbsolute(module)) return pathToFileURL(module).href;
  }
  throw new TypeError(`${name}: module must be a URL or an absolute path of an ES module, got ${String(module)}`);
}

function multicallEntry(entry: unknown): { methodName: string; params: XmlRpcValue[] } {
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
    throw new Fault(FaultCode.INVALID_XMLRPC, 'system.multicall: each call must be a struct');
  }
  const { methodName, params } = entry as { methodName?: unknown; params?: unknown };
  if (typeof methodName !== 'string') throw new Fault(FaultCode.INVALID_XMLRPC, 'system.multicall: methodName must be a string');
  if (!Array.isArray(params)) throw new Fault(FaultCode.INVALID_XMLRPC, 'system.multicall: params must be an array');
  if (methodName === 'system.multicall') throw new Fault(FaultCode.INVALID_XMLRPC, 'system.multicall cannot be nested');
  return { methodName, params: params as XmlRpcValue[] };
}

const NO_INFO: MethodInfo = Object.freeze({});

/**
 * An instance's method info: `options.methods`, else its class's static
 * `help` and `signatures` maps; checked like registerFunction's, and a name
 * the instance does not answer is refused (a typo would otherwise document
 * nothing), unless it dispatches for itself.
 */
function instanceInfo(instance: object, options: InstanceOptions): Map<string, MethodInfo> {
  const merged = new Map<string, MethodInfo>();
  if (options.methods !== undefined) {
    for (const [name, info] of Object.entries(options.methods)) merged.set(name, { ...info });
  } else {
    const cls = (instance as { constructor?: unknown }).constructor;
    const { help, signatures } = (typeof cls === 'function' && cls !== Object ? cls : {}) as DocumentedClass;
    for (const [name, text] of Object.entries(help ?? {})) merged.set(name, { help: text });
    for (const [name, list] of Object.entries(signatures ?? {})) merged.set(name, { ...merged.get(name), signatures: list });
  }
  const selfDispatching = typeof (instance as Partial<SelfDispatching>)._dispatch === 'function';
  const checked = new Map<string, MethodInfo>();
  for (const [name, info] of merged) {
    if (info.help !== undefined && typeof info.help !== 'string') throw new TypeError(`${name}: help must be a string`);
    if (!selfDispatching && resolveMethod(instance, name, options.allowDottedNames === true) === undefined) {
      throw new TypeError(`${name}: help or signatures for a method the instance does not offer`);
    }
    checked.set(name, checkedInfo(name, info));
  }
  return checked;
}

/** `info` with its signatures checked and copied, so that what system.methodSignature answers cannot change later. */
function checkedInfo(name: string, info: MethodInfo): MethodInfo {
  const { signatures } = info;
  if (signatures === undefined) return info;
  // An empty list would refuse every call and answer `[]` to system.methodSignature: leave `signatures` out to declare none.
  if (!Array.isArray(signatures) || signatures.length === 0) {
    throw new TypeError(`${name}: signatures must be a non-empty array of [returnType, ...paramTypes] arrays (leave it out to declare none)`);
  }
  const copies = signatures.map((signature: unknown) => {
    if (!Array.isArray(signature) || signature.length === 0) {
      throw new TypeError(`${name}: each signature must be a non-empty array [returnType, ...paramTypes], got ${JSON.stringify(signature)}`);
    }
    for (const type of signature as unknown[]) {
      if (typeof type !== 'string' || !SIGNATURE_TYPES.has(type)) {
        throw new TypeError(`${name}: ${JSON.stringify(type)} is not an XML-RPC type name (one of ${[...SIGNATURE_TYPES].join(', ')})`);
      }
    }
    return [...(signature as string[])];
  });
  return { ...info, signatures: copies };
}

function checkArity(method: string, registered: Pick<Registered, 'minParams' | 'info'>, params: XmlRpcValue[]): void {
  const signatures = registered.info.signatures;
  if (signatures !== undefined) {
    if (!signatures.some((signature) => signature.length - 1 === params.length)) {
      const counts = [...new Set(signatures.map((s) => s.length - 1))].join(' or ');
      throw new Fault(FaultCode.INVALID_PARAMS, `${method} takes ${counts} parameter(s), got ${params.length}`);
    }
    return;
  }
  // fn.length counts the parameters before the first default or rest one:
  // fewer than that can only be a mistake.
  if (params.length < registered.minParams) {
    throw new Fault(FaultCode.INVALID_PARAMS, `${method} takes at least ${registered.minParams} parameter(s), got ${params.length}`);
  }
}

/**
 * Finds a method on an instance without ever reaching Object.prototype or
 * Function.prototype (no `constructor`, `toString`, `__proto__`), never a
 * `_` name, never running a getter.
 */
function resolveMethod(instance: object, method: string, dotted: boolean): { fn: XmlRpcFunction; self: object } | undefined {
  const parts = dotted ? method.split('.') : [method];
  let self: object = instance;
  for (let i = 0; i < parts.length; i++) {
    const value = ownOrClassValue(self, parts[i]!);
    if (i === parts.length - 1) {
      return typeof value === 'function' ? { fn: value as XmlRpcFunction, self } : undefined;
    }
    if (value === null || typeof value !== 'object') return undefined;
    self = value;
  }
  return undefined;
}

/**
 * Prototypes whose methods are never remote methods: the language's and
 * Node's building blocks. An instance of a class extending EventEmitter does
 * not expose `emit`; `items.push` is not reachable through dotted names.
 */
// prettier-ignore
const BUILT_IN_PROTOTYPES: ReadonlySet<object> = new Set<object>([
  Object.prototype, Function.prototype, Array.prototype, Map.prototype, Set.prototype, WeakMap.prototype,
  WeakSet.prototype, Promise.prototype, Date.prototype, RegExp.prototype, Error.prototype, String.prototype,
  Number.prototype, Boolean.prototype, EventEmitter.prototype, Uint8Array.prototype, Buffer.prototype,
]);

function ownOrClassValue(target: object, name: string): unknown {
  if (name === '' || name.startsWith('_')) return undefined;
  for (let p: object | null = target; p !== null && !BUILT_IN_PROTOTYPES.has(p); p = Object.getPrototypeOf(p) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(p, name);
    if (descriptor !== undefined) {
      if (name === 'constructor' || !('value' in descriptor)) return undefined;
      return descriptor.value;
    }
  }
  return undefined;
}

function instanceMethodNames(instance: object): string[] {
  const names = new Set<string>();
  for (let p: object | null = instance; p !== null && !BUILT_IN_PROTOTYPES.has(p); p = Object.getPrototypeOf(p) as object | null) {
    for (const name of Object.getOwnPropertyNames(p)) {
      if (name !== 'constructor' && !name.startsWith('_') && typeof ownOrClassValue(instance, name) === 'function') {
        names.add(name);
      }
    }
  }
  return [...names];
}
