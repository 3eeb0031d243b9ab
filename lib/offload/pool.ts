// WorkerPool: CPU-bound work off the event loop. A task is an export of an
// ES module, called in a worker with cloned arguments; the pool keeps the
// policy piscina (the engine, engine.ts) does not: a per-task timeout through
// the Clock seam, abort with a grace for a cooperative stop, what a task
// threw rebuilt with its class, code and properties and a stack joining the
// worker's frames to the caller's, typed errors for a worker that died, and
// close() that drains or forces and resolves once every worker has exited.

import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ResourceLimits, TransferListItem } from 'node:worker_threads';
import { systemClock, type Clock, type ClockTimer } from '../clock.js';
import * as catalogue from '../errors.js';
import { OffloadErrorCode, WorkerPoolError, type OffloadErrorCodeValue } from '../errors.js';
import { integerIn, nonNegative, positiveInteger, timeoutMs } from '../options.js';
import { defaultPoolSize, ThreadEngine, type EngineOptions, type OffloadEngine } from './engine.js';
import { ProcessEngine } from './process-engine.js';
import { BUILTIN_ERROR_CLASSES, framesOf, fromWire, joinStacks, type TaskReply } from './wire.js';

type ErrorClass = new (...args: never[]) => Error;

export interface WorkerPoolOptions {
  /** Workers at most. Default: os.availableParallelism(). */
  size?: number;
  /** Workers kept when idle, 1 to `size` (they start with the pool). Default: `size`, or 1 when `idleTimeout` is given. */
  minSize?: number;
  /**
   * Tasks waiting for a worker at most; one more is refused at once with
   * ERR_OFFLOAD_QUEUE_FULL (Infinity: unbounded). Default: 1024, so that a
   * burst is refused rather than held in memory without limit.
   */
  maxQueue?: number;
  /** How long a worker above `minSize` stays idle before it exits, ms. Default: Infinity (until close). */
  idleTimeout?: number;
  /** Per-worker limits (`maxOldGenerationSizeMb` caps the heap); past them the task fails with ERR_OFFLOAD_WORKER_OUT_OF_MEMORY. */
  resourceLimits?: ResourceLimits;
  /** Default timeout of each task, ms, from `run()` (queued time counts). Default: none. */
  timeout?: number;
  /**
   * After an abort or a timeout of a running task, how long the task has to
   * stop on its own (it sees `taskSignal()` abort) before its worker is
   * terminated and replaced, ms. The caller's promise rejects at once either
   * way. Default: 0 (terminate at once).
   */
  abortGrace?: number;
  /**
   * 'thread' (worker_threads, the default) or 'process' (child processes,
   * for code that may crash its process or must not share memory: each task
   * runs in a forked child; `transfer` copies; children kill themselves if
   * this process dies). Default: 'thread'.
   */
  isolation?: 'thread' | 'process';
  /**
   * isolation 'process' only: the node flags of each child (resourceLimits
   * are added to them as V8 flags). Default: this process's flags, less
   * those that run code or wait for a debugger (-e, -p, --inspect...).
   */
  execArgv?: readonly string[];
  /**
   * Error classes to rebuild by constructor name when a task throws them,
   * without calling their constructor, or through their `static
   * fromOffload(fields)` when they have one (`fields.state` is what the
   * thrown error's `toOffload()` returned in the worker). Built-ins and the
   * classes of lib/errors.ts come back as themselves only when the thrown
   * error's constructor is that very class; a listed class never takes their
   * place. Any other class, or one whose copy cannot be read, comes back as
   * an OffloadError carrying its name, message, code and properties.
   */
  errorClasses?: readonly ErrorClass[];
  /** The clock for task timeouts and the abort grace (tests pass a ManualClock). */
  clock?: Clock;
}

export interface RunOptions {
  /** Aborts the task: removed from the queue, or its worker stopped; the promise rejects with ERR_OFFLOAD_ABORTED. */
  signal?: AbortSignal;
  /** This task's timeout, ms (overrides the pool's; Infinity: none). ERR_OFFLOAD_TIMEOUT. */
  timeout?: number;
  /** ArrayBuffers (or ports) in `args` to move to the worker instead of copying; they are detached here. With isolation 'process' they are copied (memory cannot move to another process) and stay usable. */
  transfer?: readonly TransferListItem[];
}

export interface WorkerPoolStats {
  /** Workers at most (`size`). */
  size: number;
  /** Workers running a task. */
  busy: number;
  /** Workers alive and waiting for one. */
  idle: number;
  /** Tasks waiting for a worker. */
  queued: number;
  /** Tasks whose promise resolved. */
  completed: number;
  /** Tasks whose promise rejected (threw, timed out, aborted, refused, lost their worker). */
  failed: number;
}

/** One run() call, from the call until the engine has let it go. */
class PooledTask {
  /** The caller's promise is settled (the engine may still hold the task: a stopped one in its grace). */
  settled = false;
  /** Settles once the engine has let the task go (it holds no worker and no queue place). */
  engineDone: Promise<void> = Promise.resolve();
  timer: ClockTimer | null = null;
  grace: ClockTimer | null = null;
  readonly promise: Promise<unknown>;
  resolve!: (value: unknown) => void;
  reject!: (err: Error) => void;

  constructor(
    readonly id: number,
    readonly signal: AbortSignal | undefined,
    /** Stops the task at the engine: set when it has a signal or a timeout (an engine signal costs piscina a listener and a slower queue path). */
    readonly controller: AbortController | null,
    /** Where run() was called: joined to the stack of what the task failed with. */
    readonly caller: { stack?: string },
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  stamped<E extends Error>(err: E): E {
    return stamped(err, this.caller);
  }
}

/** The tasks that watch one signal, and its one listener (a signal shared by many tasks gets one, not one each). */
interface Watched {
  readonly tasks: Set<PooledTask>;
  readonly onAbort: () => void;
}

const DEFAULT_MAX_QUEUE = 1024;

const REBUILT_CATALOGUE: ErrorClass[] = [];
for (const value of Object.values(catalogue) as unknown[]) {
  if (typeof value === 'function' && value.prototype instanceof Error) REBUILT_CATALOGUE.push(value as ErrorClass);
}

export class WorkerPool {
  private readonly engine: OffloadEngine;
  private readonly clock: Clock;
  private readonly size: number;
  private readonly timeout: number;
  private readonly abortGrace: number;
  private readonly maxQueue: number;
  private readonly classes = new Map<string, ErrorClass>();
  private readonly tasks = new Map<number, PooledTask>();
  private readonly watched = new WeakMap<AbortSignal, Watched>();
  private nextId = 0;
  private completed = 0;
  private failed = 0;
  private closed = false;
  private destroyed: Promise<void> | null = null;

  constructor(options: WorkerPoolOptions = {}) {
    const isolation = options.isolation ?? 'thread';
    if (isolation !== 'thread' && isolation !== 'process') throw new RangeError(`isolation must be 'thread' or 'process', got ${String(isolation)}`);
    this.size = positiveInteger('size', options.size ?? defaultPoolSize());
    const idleTimeout = options.idleTimeout === undefined || options.idleTimeout === Infinity ? Infinity : timeoutMs('idleTimeout', options.idleTimeout);
    // An idle timeout means workers may leave: all `size` kept would make it inert.
    const minSize = integerIn('minSize', options.minSize ?? (idleTimeout === Infinity ? this.size : 1), 1, this.size);
    this.maxQueue = nonNegative('maxQueue', options.maxQueue ?? DEFAULT_MAX_QUEUE, true);
    if (this.maxQueue !== Infinity && !Number.isInteger(this.maxQueue)) throw new RangeError(`maxQueue must be an integer or Infinity, got ${this.maxQueue}`);
    this.timeout = taskTimeout('timeout', options.timeout);
    this.abortGrace = timeoutMs('abortGrace', options.abortGrace ?? 0);
    if (options.resourceLimits !== undefined && (typeof options.resourceLimits !== 'object' || options.resourceLimits === null)) {
      throw new TypeError('resourceLimits must be an object');
    }
    for (const Class of [...BUILTIN_ERROR_CLASSES, ...REBUILT_CATALOGUE, ...(options.errorClasses ?? [])]) {
      if (typeof Class !== 'function' || !(Class === Error || Class.prototype instanceof Error)) throw new TypeError('errorClasses must be Error classes');
      this.classes.set(Class.name, Class);
    }
    this.clock = options.clock ?? systemClock;
    if (options.execArgv !== undefined && (!Array.isArray(options.execArgv) || !options.execArgv.every((flag) => typeof flag === 'string')))
      throw new TypeError('execArgv must be an array of strings');
    const engineOptions: EngineOptions = {
      size: this.size,
      minSize,
      idleTimeout,
      resourceLimits: options.resourceLimits,
    };
    this.engine = isolation === 'process' ? new ProcessEngine(engineOptions, options.execArgv) : new ThreadEngine(engineOptions);
  }

  /**
   * Calls `exportName` of the ES module `module` (a URL, or an absolute path)
   * in a worker with `args` (structured-cloned; `transfer` moves buffers), and
   * resolves to what it returns (or its promise resolves to). A failure
   * rejects: what the task threw (see OffloadError), or a WorkerPoolError.
   */
  run<R = unknown>(module: string | URL, exportName: string, args: readonly unknown[] = [], options: RunOptions = {}): Promise<R> {
    // Captured here, formatted only if the task fails: V8 formats a stack on
    // first read, and formatting costs about as much as the capture (~10 µs).
    const caller: { stack?: string } = {};
    // eslint-disable-next-line @typescript-eslint/unbound-method -- only the frame to cut the stack at, never called
    Error.captureStackTrace(caller, this.run);
    try {
      return this.start<R>(moduleUrl(module), exportName, args, options, caller);
    } catch (err) {
      // Refused at once (closed, full, aborted already, bad arguments): it never ran.
      this.failed++;
      return Promise.reject(err as Error);
    }
  }

  /** `(...args) => pool.run(module, exportName, args)`: an export as an async function (inparallel's `@task`). */
  task<A extends unknown[] = unknown[], R = unknown>(module: string | URL, exportName: string): (...args: A) => Promise<R> {
    const url = moduleUrl(module);
    checkExportName(exportName);
    return (...args: A): Promise<R> => this.run<R>(url, exportName, args);
  }

  stats(): WorkerPoolStats {
    const threads = this.engine.threads();
    const busy = Math.min(this.engine.busy(), this.tasks.size);
    return {
      size: this.size,
      busy,
      idle: Math.max(0, threads - busy),
      queued: Math.max(0, this.tasks.size - busy),
      completed: this.completed,
      failed: this.failed,
    };
  }

  /** Worker threads (or child processes) that have not exited yet (those being stopped included); 0 once close() has resolved. */
  workers(): number {
    return this.engine.alive();
  }

  /**
   * Stops taking tasks. Without `force`, queued and running tasks finish
   * first; with it, every unfinished task fails at once with
   * ERR_OFFLOAD_ABORTED and running workers are terminated. Resolves when
   * every worker has exited.
   */
  async close(options: { force?: boolean } = {}): Promise<void> {
    this.closed = true;
    if (options.force === true) {
      for (const task of this.tasks.values()) this.settle(task, new WorkerPoolError(OffloadErrorCode.ABORTED, 'the pool was closed with force'));
    } else {
      await Promise.all([...this.tasks.values()].map((task) => task.engineDone));
    }
    this.destroyed ??= this.engine.destroy();
    await this.destroyed;
  }

  private start<R>(module: string, exportName: string, args: readonly unknown[], options: RunOptions, caller: { stack?: string }): Promise<R> {
    checkExportName(exportName);
    if (!Array.isArray(args)) throw new TypeError('args must be an array');
    const timeout = options.timeout === undefined ? this.timeout : taskTimeout('timeout', options.timeout);
    const { signal, transfer = [] } = options;
    // Checked before anything runs: a bad one found later would fail a task that had already run.
    if (signal !== undefined && !isAbortSignal(signal)) throw new TypeError('signal must be an AbortSignal');
    if (!Array.isArray(transfer)) throw new TypeError('transfer must be an array of ArrayBuffers or ports');
    const stamp = <E extends Error>(err: E): E => stamped(err, caller);
    if (this.closed) throw stamp(new WorkerPoolError(OffloadErrorCode.CLOSED, 'the pool is closed'));
    if (signal?.aborted === true) throw stamp(aborted(signal));
    // piscina does not count tasks that carry a signal against its maxQueue
    // (they wait in its skip queue), so the bound is kept here: every task
    // the engine holds is running on one of `size` workers or queued (a
    // stopped task in its grace still holds its worker, so it counts).
    if (this.tasks.size >= this.size + this.maxQueue)
      throw stamp(new WorkerPoolError(OffloadErrorCode.QUEUE_FULL, `the pool is busy and its queue is full (maxQueue ${this.maxQueue})`));

    const controller = signal !== undefined || timeout !== Infinity ? new AbortController() : null;
    const task = new PooledTask(this.takeId(), signal, controller, caller);
    this.tasks.set(task.id, task);
    task.engineDone = this.engine.submit({ id: task.id, module, exportName, args }, { signal: controller?.signal, transfer }).then(
      (reply: TaskReply) => {
        this.release(task);
        if (reply.ok) return this.settle(task, null, reply.value);
        let err: Error;
        try {
          err = fromWire(reply.error, this.classes, framesOf(caller.stack));
        } catch (cause) {
          // Never leave the caller waiting (nor an unhandled rejection) for an error we could not rebuild.
          err = task.stamped(new WorkerPoolError(OffloadErrorCode.WORKER_CRASHED, 'what the task threw could not be rebuilt', { cause }));
        }
        this.settle(task, err);
      },
      (err: unknown) => {
        this.release(task);
        this.settle(task, err instanceof WorkerPoolError ? task.stamped(ownCopy(err)) : (err as Error));
      },
    );
    if (timeout !== Infinity) {
      task.timer = this.clock.setTimeout(
        () => this.stop(task, task.stamped(new WorkerPoolError(OffloadErrorCode.TIMEOUT, `the task took longer than ${timeout} ms (timeout)`))),
        timeout,
      );
      task.timer.unref();
    }
    if (signal !== undefined) this.watch(task, signal);
    return task.promise as Promise<R>;
  }

  /** A fresh id: it fits the worker's Int32 cell, and is never one still in flight. */
  private takeId(): number {
    do this.nextId = (this.nextId % 0x7fffffff) + 1;
    while (this.tasks.has(this.nextId));
    return this.nextId;
  }

  /** Settles the caller's promise (once); the engine is left alone. */
  private settle(task: PooledTask, err: Error | null, value?: unknown): void {
    if (task.settled) return;
    task.settled = true;
    if (task.timer !== null) this.clock.clearTimeout(task.timer);
    if (task.signal !== undefined) this.unwatch(task, task.signal);
    if (err === null) {
      this.completed++;
      task.resolve(value);
    } else {
      this.failed++;
      task.reject(err);
    }
  }

  /** The caller's signal or the timeout fired: the caller is told at once; a queued task is dropped, a running one stopped (after the grace). */
  private stop(task: PooledTask, err: WorkerPoolError): void {
    if (task.settled) return;
    this.settle(task, err);
    const running = this.engine.isRunning(task.id);
    if (running) this.engine.requestStop(task.id, err);
    if (!running || this.abortGrace === 0) task.controller!.abort(err);
    else task.grace = this.clock.setTimeout(() => task.controller!.abort(err), this.abortGrace);
  }

  /** The engine is done with the task: it no longer holds a worker or a queue place. */
  private release(task: PooledTask): void {
    if (task.grace !== null) this.clock.clearTimeout(task.grace);
    this.tasks.delete(task.id);
  }

  private watch(task: PooledTask, signal: AbortSignal): void {
    let watched = this.watched.get(signal);
    if (watched === undefined) {
      const tasks = new Set<PooledTask>();
      const onAbort = () => {
        for (const each of [...tasks]) this.stop(each, each.stamped(aborted(signal)));
      };
      watched = { tasks, onAbort };
      this.watched.set(signal, watched);
      signal.addEventListener('abort', onAbort, { once: true });
    }
    watched.tasks.add(task);
  }

  private unwatch(task: PooledTask, signal: AbortSignal): void {
    const watched = this.watched.get(signal);
    if (watched === undefined || !watched.tasks.delete(task) || watched.tasks.size > 0) return;
    signal.removeEventListener('abort', watched.onAbort);
    this.watched.delete(signal);
  }
}

/** An engine's error as this caller's own object (an engine may give one error to every task it fails). */
function ownCopy(err: WorkerPoolError): WorkerPoolError {
  const cause = (err as { cause?: unknown }).cause;
  return new WorkerPoolError(err.code as OffloadErrorCodeValue, err.message, {
    ...(cause === undefined ? {} : { cause }),
    ...(err.exitCode === undefined ? {} : { exitCode: err.exitCode }),
  });
}

/** `err` with the caller's frames as its stack (a failure of the pool's own). */
function stamped<E extends Error>(err: E, caller: { stack?: string }): E {
  err.stack = joinStacks(`${err.name}: ${err.message}`, framesOf(caller.stack));
  return err;
}

/** What Node's own APIs accept as a signal (an AbortSignal, or one from another realm). */
function isAbortSignal(value: unknown): value is AbortSignal {
  return typeof value === 'object' && value !== null && 'aborted' in value && typeof (value as AbortSignal).addEventListener === 'function';
}

function aborted(signal: AbortSignal): WorkerPoolError {
  return new WorkerPoolError(OffloadErrorCode.ABORTED, 'the task was aborted', { cause: signal.reason });
}

function taskTimeout(name: string, value: number | undefined): number {
  return value === undefined || value === Infinity ? Infinity : timeoutMs(name, value);
}

function checkExportName(exportName: unknown): void {
  if (typeof exportName !== 'string' || exportName === '') throw new TypeError('exportName must be the name of a function the module exports');
}

/** The URL a worker imports: a URL as is, an absolute path as a file: URL. */
function moduleUrl(module: string | URL): string {
  if (module instanceof URL) return module.href;
  if (typeof module === 'string') {
    if (module.startsWith('file:') || module.startsWith('data:')) return new URL(module).href;
    if (isAbsolute(module)) return pathToFileURL(module).href;
  }
  throw new TypeError(`module must be a URL or an absolute path of an ES module, got ${String(module)}`);
}
