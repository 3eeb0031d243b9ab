// What crosses between a worker and the pool: the task message, the reply,
// and a thrown value made cloneable. Structured clone keeps an Error's
// message and stack but not its class, its `code` or its own properties, so a
// failure travels as a WireError and is rebuilt on the caller's side: as its
// own class when the caller knows it (built-ins, the error catalogue, the
// pool's `errorClasses`), else as an OffloadError carrying the same name,
// message, code and properties.

import * as catalogue from '../errors.js';
import { OffloadError, type OffloadErrorCodeValue } from '../errors.js';

/** One task, as the worker receives it. */
export interface TaskMessage {
  readonly id: number;
  /** A file: URL of the ES module to import. */
  readonly module: string;
  readonly exportName: string;
  readonly args: readonly unknown[];
}

/**
 * The key of the one message a worker posts when it starts: `{ [SLOT]: {
 * threadId, slot } }`, a shared cell holding the id of the task it runs (0
 * when idle). Read by the pool on demand, so a task costs no message to say
 * it started.
 */
export const SLOT = 'medusa-xmlrpc:offload-slot';

/** What every worker of a pool is started with. */
export interface WorkerData {
  /** The name of the pool's BroadcastChannel, on which it posts `{ abort: id, code, message }`. */
  readonly channel: string;
}

/** What the pool sends a child process (isolation: 'process') over IPC. */
export type ToChild =
  | { readonly type: 'task'; readonly task: TaskMessage }
  /** Aborts the taskSignal() of running task `id` with a WorkerPoolError of `code`. */
  | { readonly type: 'stop'; readonly id: number; readonly code: OffloadErrorCodeValue; readonly message: string };

/** What a child process sends the pool. */
export type FromChild =
  /** The child listens for tasks (and its parent-death watchdog runs). */
  | { readonly type: 'ready' }
  | { readonly type: 'reply'; readonly id: number; readonly reply: TaskReply }
  /** An exception nothing caught, sent just before the child exits. */
  | { readonly type: 'crash'; readonly error: WireFailure };

export type TaskReply = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: WireFailure };

export interface WireError {
  readonly kind: 'error';
  /** The constructor's name: the key the caller rebuilds the class by. */
  readonly className: string;
  /**
   * The constructor IS the built-in or catalogue class of that name (in the
   * worker, as the caller imports it): only then is it rebuilt as that class,
   * so a task's own `class DecodeError` never comes back as the codec's.
   */
  readonly known: boolean;
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** `code` when the error has one (own or inherited, as DOMException's). */
  readonly code: unknown;
  /** Own enumerable properties that could be cloned (others are left out). */
  readonly props: Record<string, unknown>;
  /** What the error's `toOffload()` returned (its private state), when it has one and it could be cloned. */
  readonly state: unknown;
  readonly cause: WireFailure | undefined;
  readonly hasCause: boolean;
  /** An AggregateError's `errors`, each made cloneable (undefined for other errors). */
  readonly errors: readonly WireFailure[] | undefined;
}

export interface WireValue {
  readonly kind: 'value';
  /** The value, when it can be cloned. */
  readonly value: unknown;
  readonly cloned: boolean;
  /** `String(value)`, for the message. */
  readonly description: string;
}

export type WireFailure = WireError | WireValue;

/**
 * What an `errorClasses` class's `static fromOffload(fields)` is given to
 * rebuild an error a task threw (the pool sets the joined stack afterwards).
 */
export interface OffloadedErrorFields {
  readonly name: string;
  readonly message: string;
  readonly code: unknown;
  /** Own enumerable properties that could be cloned. */
  readonly props: Readonly<Record<string, unknown>>;
  /** What the thrown error's `toOffload()` returned in the worker (undefined without one). */
  readonly state: unknown;
  /** The rebuilt cause, when the error had one. */
  readonly cause?: unknown;
  /** An AggregateError's rebuilt `errors`. */
  readonly errors?: readonly unknown[];
}

type ErrorClass = new (...args: never[]) => Error;

/** Causes (and nested AggregateError errors) followed at most this deep (a cycle ends here). */
const MAX_CAUSE_DEPTH = 8;
/** Errors carried at most for one thrown value, counting causes and AggregateError entries. */
const MAX_WIRE_ERRORS = 256;
const SKIPPED_PROPS = new Set(['message', 'stack', 'cause']);
const UNREAD = Symbol('unread');

/** Error classes a pool rebuilds by name, whatever its `errorClasses` add. */
export const BUILTIN_ERROR_CLASSES: readonly ErrorClass[] = [
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
  DOMException,
];

/**
 * The classes both sides hold the same copy of, by name: built-ins, and the
 * error catalogue as lib/errors.ts exports it. An error is rebuilt as one of
 * these only when the worker saw its constructor was that very class.
 */
const KNOWN = new Map<string, ErrorClass>();
for (const Class of BUILTIN_ERROR_CLASSES) KNOWN.set(Class.name, Class);
for (const value of Object.values(catalogue) as unknown[]) {
  if (typeof value === 'function' && value.prototype instanceof Error) KNOWN.set(value.name, value as ErrorClass);
}

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

/** `String(value)`, never throwing (a hostile value gets what can still be said of it). */
function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return `a value of type ${typeof value}`;
    }
  }
}

/** `get()`, or `fallback` when reading threw. */
function or<T>(get: () => T, fallback: T): T {
  try {
    return get();
  } catch {
    return fallback;
  }
}

/** `get()`, or a note of what could not be read and why. */
function said(what: string, get: () => string): string {
  try {
    return get();
  } catch (err) {
    return `<${what} could not be read: ${describe(err)}>`;
  }
}

interface Budget {
  left: number;
}

/**
 * A thrown value as it can cross to the caller (worker side). It never
 * throws: a value whose getters or proxy traps throw is carried with a note
 * of what could not be read, so the task fails with it and the worker is kept.
 */
export function toWire(thrown: unknown, depth = 0, budget: Budget = { left: MAX_WIRE_ERRORS }): WireFailure {
  budget.left--;
  try {
    return errorToWire(thrown, depth, budget);
  } catch (err) {
    // `instanceof` itself threw (a Proxy's getPrototypeOf trap), or what the
    // reads above do not guard (an `errors` array behind a proxy): nothing of it can be trusted.
    return {
      kind: 'error',
      className: '',
      known: false,
      name: 'Error',
      message: `the task threw a value that could not be read: ${describe(err)}`,
      stack: undefined,
      code: undefined,
      props: {},
      state: undefined,
      cause: undefined,
      hasCause: false,
      errors: undefined,
    };
  }
}

function errorToWire(thrown: unknown, depth: number, budget: Budget): WireFailure {
  if (!(thrown instanceof Error)) {
    const cloned = cloneable(thrown);
    return { kind: 'value', value: cloned ? thrown : undefined, cloned, description: describe(thrown) };
  }
  const error = thrown as Error & Record<string, unknown>;
  const props: Record<string, unknown> = {};
  or(() => {
    for (const key of Object.keys(error)) {
      if (SKIPPED_PROPS.has(key)) continue;
      const value = or(() => error[key], UNREAD);
      if (value !== UNREAD && cloneable(value)) props[key] = value;
    }
  }, undefined);
  const Class = or(() => error.constructor, undefined);
  const className = or(() => (typeof Class === 'function' ? String(Class.name) : 'Error'), 'Error');
  const code = or(() => error.code, undefined);
  const toOffload = or(() => error.toOffload, undefined);
  const state = typeof toOffload === 'function' ? or(() => (toOffload as () => unknown).call(error), undefined) : undefined;
  const hasCause = or(() => 'cause' in error, false) && depth < MAX_CAUSE_DEPTH && budget.left > 0;
  const errors = or(() => (error instanceof AggregateError ? error.errors : undefined), undefined);
  return {
    kind: 'error',
    className,
    known: typeof Class === 'function' && KNOWN.get(className) === Class,
    name: or(() => String(error.name), 'Error'),
    message: said('message', () => String(error.message)),
    stack: or(() => (typeof error.stack === 'string' ? error.stack : undefined), undefined),
    code: cloneable(code) ? code : undefined,
    props,
    state: cloneable(state) ? state : undefined,
    cause: hasCause ? toWire(readCause(error), depth + 1, budget) : undefined,
    hasCause,
    errors: Array.isArray(errors) && depth < MAX_CAUSE_DEPTH ? wireErrors(errors, depth + 1, budget) : undefined,
  };
}

function readCause(error: Error): unknown {
  try {
    return error.cause;
  } catch (err) {
    return `<cause could not be read: ${describe(err)}>`;
  }
}

function wireErrors(errors: unknown[], depth: number, budget: Budget): WireFailure[] {
  const wired: WireFailure[] = [];
  for (let i = 0; i < errors.length && budget.left > 0; i++) wired.push(toWire(errors[i], depth, budget));
  return wired;
}

/**
 * The IPC serializer's "could not be cloned" Error (a plain Error) as the
 * DataCloneError that structuredClone, and so thread mode, throws.
 */
export function asDataCloneError(err: unknown): unknown {
  return err instanceof Error && err.name === 'Error' && / could not be cloned\.$/.test(err.message) ? new DOMException(err.message, 'DataCloneError') : err;
}

/**
 * The class `wire` is rebuilt as, if any. A built-in or catalogue name only
 * when the worker saw that very class; any other name from `classes` (the
 * pool's `errorClasses`), which may not shadow a built-in or catalogue class.
 */
function classOf(wire: WireError, classes: ReadonlyMap<string, ErrorClass>): ErrorClass | undefined {
  if (wire.known) return KNOWN.get(wire.className);
  const Class = classes.get(wire.className);
  if (Class === undefined || Class.name !== wire.className || KNOWN.get(wire.className) === Class) return undefined;
  return Class;
}

/**
 * The caller's copy of what a task threw. `callerStack` (the stack of the
 * `run()` call, without its first line) is joined under the worker's frames.
 * It never throws: a class that cannot be rebuilt (its getters read private
 * fields, say) gives an OffloadError with the same name, message, code and
 * properties.
 */
export function fromWire(wire: WireFailure, classes: ReadonlyMap<string, ErrorClass>, callerStack: string): Error {
  if (wire.kind === 'value') {
    const err = new OffloadError(`the task threw a non-Error: ${wire.description}`, { nonError: true, value: wire.value });
    err.stack = joinStacks(`${err.name}: ${err.message}`, callerStack);
    return err;
  }
  const cause = wire.hasCause && wire.cause !== undefined ? rebuiltCause(wire.cause, classes) : undefined;
  const errors = wire.errors?.map((entry) => rebuiltCause(entry, classes));
  const Class = classOf(wire, classes);
  let err: Error | undefined;
  if (Class !== undefined) {
    try {
      err = rebuild(Class, wire, cause, errors);
    } catch {
      err = undefined;
    }
  }
  if (err === undefined) {
    err = new OffloadError(wire.message, { name: wire.name, code: wire.code });
    for (const [key, value] of Object.entries(wire.props)) {
      if (key === 'code' || key === 'name') continue;
      define(err, key, value, true);
    }
    if (errors !== undefined) define(err, 'errors', errors, false);
  }
  if (wire.hasCause && !Object.prototype.hasOwnProperty.call(err, 'cause')) define(err, 'cause', cause, false);
  define(err, 'stack', joinStacks(wire.stack ?? `${wire.name}: ${wire.message}`, callerStack), false);
  return err;
}

/** A cause or an AggregateError entry: an error rebuilt, a value as it was (or said, if it could not be cloned). */
function rebuiltCause(wire: WireFailure, classes: ReadonlyMap<string, ErrorClass>): unknown {
  if (wire.kind === 'value') return wire.cloned ? wire.value : wire.description;
  return fromWire(wire, classes, '');
}

function define(target: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, key, { value, writable: true, configurable: true, enumerable });
}

/** `wire` as an instance of `Class`; throws when the copy cannot be read as one. */
function rebuild(Class: ErrorClass, wire: WireError, cause: unknown, errors: unknown[] | undefined): Error {
  const hook = (Class as { fromOffload?: unknown }).fromOffload;
  if (typeof hook === 'function') {
    const fields: OffloadedErrorFields = {
      name: wire.name,
      message: wire.message,
      code: wire.code,
      props: wire.props,
      state: wire.state,
      ...(wire.hasCause ? { cause } : {}),
      ...(errors !== undefined ? { errors } : {}),
    };
    const err: unknown = (hook as (fields: OffloadedErrorFields) => unknown).call(Class, fields);
    if (!(err instanceof Class)) throw new TypeError(`${Class.name}.fromOffload did not return a ${Class.name}`);
    return err;
  }
  let err: Error;
  if (Class === DOMException) {
    // Its name, message and code are getters over internal slots: only its constructor makes one.
    err = new DOMException(wire.message, wire.name);
  } else {
    // Built without running the constructor, whose parameters are the class's own business.
    err = Object.create(Class.prototype as object) as Error;
    define(err, 'message', wire.message, false);
  }
  for (const [key, value] of Object.entries(wire.props)) define(err, key, value, true);
  if (errors !== undefined) define(err, 'errors', errors, false);
  // Read back as the caller will read it: a getter over a private field throws here, not later.
  if (wire.code !== undefined && !('code' in wire.props) && (err as { code?: unknown }).code !== wire.code) define(err, 'code', wire.code, true);
  if (err.name !== wire.name) define(err, 'name', wire.name, false);
  return err;
}

/** The worker's stack, then the frames of the caller that offloaded the task. */
export function joinStacks(workerStack: string, callerStack: string): string {
  return callerStack === '' ? workerStack : `${workerStack}\n    --- offloaded to a worker from ---\n${callerStack}`;
}

/** The frames of a captured stack, without its first ("Error: ...") line. */
export function framesOf(stack: string | undefined): string {
  if (stack === undefined) return '';
  const i = stack.indexOf('\n    at ');
  return i === -1 ? '' : stack.slice(i + 1);
}
