// What crosses between a worker and the pool: the task message, the reply,
// and a thrown value made cloneable. Structured clone keeps an Error's
// message and stack but not its class, its `code` or its own properties, so a
// failure travels as a WireError and is rebuilt on the caller's side: as its
// own class when the caller knows it (built-ins, the error catalogue, the
// pool's `errorClasses`), else as an OffloadError carrying the same name,
// message, code and properties.

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
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** `code` when the error has one (own or inherited, as DOMException's). */
  readonly code: unknown;
  /** Own enumerable properties that could be cloned (others are left out). */
  readonly props: Record<string, unknown>;
  readonly cause: WireFailure | undefined;
  readonly hasCause: boolean;
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

/** Causes followed at most this deep (a cycle of causes ends here). */
const MAX_CAUSE_DEPTH = 8;
const SKIPPED_PROPS = new Set(['message', 'stack', 'cause']);

function cloneable(value: unknown): boolean {
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}

function describe(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** A thrown value as it can cross to the caller (worker side). */
export function toWire(thrown: unknown, depth = 0): WireFailure {
  if (!(thrown instanceof Error)) {
    const cloned = cloneable(thrown);
    return { kind: 'value', value: cloned ? thrown : undefined, cloned, description: describe(thrown) };
  }
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(thrown)) {
    if (SKIPPED_PROPS.has(key)) continue;
    const value = (thrown as unknown as Record<string, unknown>)[key];
    if (cloneable(value)) props[key] = value;
  }
  const code = (thrown as { code?: unknown }).code;
  const hasCause = 'cause' in thrown && depth < MAX_CAUSE_DEPTH;
  return {
    kind: 'error',
    className: typeof thrown.constructor === 'function' ? thrown.constructor.name : 'Error',
    name: String(thrown.name),
    message: String(thrown.message),
    stack: typeof thrown.stack === 'string' ? thrown.stack : undefined,
    code: cloneable(code) ? code : undefined,
    props,
    cause: hasCause ? toWire(thrown.cause, depth + 1) : undefined,
    hasCause,
  };
}

/**
 * The IPC serializer's "could not be cloned" Error (a plain Error) as the
 * DataCloneError that structuredClone, and so thread mode, throws.
 */
export function asDataCloneError(err: unknown): unknown {
  return err instanceof Error && err.name === 'Error' && / could not be cloned\.$/.test(err.message) ? new DOMException(err.message, 'DataCloneError') : err;
}

/** Error classes a pool rebuilds by name, whatever its `errorClasses` add. */
export const BUILTIN_ERROR_CLASSES: readonly (new (...args: never[]) => Error)[] = [
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
];

/**
 * The caller's copy of what a task threw. `callerStack` (the stack of the
 * `run()` call, without its first line) is joined under the worker's frames.
 */
export function fromWire(wire: WireFailure, classes: ReadonlyMap<string, new (...args: never[]) => Error>, callerStack: string): Error {
  if (wire.kind === 'value') {
    const err = new OffloadError(`the task threw a non-Error: ${wire.description}`, { nonError: true, value: wire.value });
    err.stack = joinStacks(`${err.name}: ${err.message}`, callerStack);
    return err;
  }
  const Class = classes.get(wire.className);
  let err: Error;
  if (Class !== undefined && Class.name === wire.className) {
    // Built without running the constructor, whose parameters are the class's own business.
    err = Object.create(Class.prototype as object) as Error;
    Object.defineProperty(err, 'message', { value: wire.message, writable: true, configurable: true, enumerable: false });
    Object.assign(err, wire.props);
    if (wire.code !== undefined && !('code' in wire.props) && (err as { code?: unknown }).code !== wire.code) {
      Object.defineProperty(err, 'code', { value: wire.code, writable: true, configurable: true, enumerable: true });
    }
    if (err.name !== wire.name) Object.defineProperty(err, 'name', { value: wire.name, writable: true, configurable: true, enumerable: false });
  } else {
    err = new OffloadError(wire.message, { name: wire.name, code: wire.code });
    for (const [key, value] of Object.entries(wire.props)) {
      if (key === 'code' || key === 'name') continue;
      Object.defineProperty(err, key, { value, writable: true, configurable: true, enumerable: true });
    }
  }
  if (wire.hasCause && wire.cause !== undefined) {
    const cause = wire.cause.kind === 'value' ? (wire.cause.cloned ? wire.cause.value : wire.cause.description) : fromWire(wire.cause, classes, '');
    Object.defineProperty(err, 'cause', { value: cause, writable: true, configurable: true, enumerable: false });
  }
  Object.defineProperty(err, 'stack', {
    value: joinStacks(wire.stack ?? `${wire.name}: ${wire.message}`, callerStack),
    writable: true,
    configurable: true,
    enumerable: false,
  });
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
