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
import { OffloadErrorCode, WorkerPoolError } from '../errors.js';
import { integerIn, nonNegative, positiveInteger, timeoutMs } from '../options.js';
import { defaultPoolSize, ThreadEngine, type EngineOptions, type OffloadEngine } from './engine.js';
import { ProcessEngine } from './process-engine.js';
import { BUILTIN_ERROR_CLASSES, framesOf, fromWire, joinStacks, type TaskReply } from './wire.js';

type ErrorClass = new (...args: never[]) => Error;

export interface WorkerPoolOptions {
  /** Workers at most. Default: os.availableParallelism(). */
  size?: number;
  /** Workers kept when idle, 1 to `size` (they start with the pool). Default: `size`. */
  minSize?: number;
  /** Tasks waiting for a worker at most; one more is refused at once with ERR_OFFLOAD_QUEUE_FULL. Default: Infinity. */
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
   * Error classes to rebuild by name when a task throws them (built-ins and
   * the classes of lib/errors.ts always are); any other class comes back as
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

interface Task {
  readonly id: number;
  /** The caller's promise is settled. */
  settled: boolean;
  /** Settles at the engine (after a stop, once the worker has let the task go). */
  engineDone: Promise<void>;
  /** Fails the caller's promise (no-op once settled); the engine is left to the caller of fail. */
  fail(err: WorkerPoolError): void;
  /** The caller's signal or timeout fired: fail, then drop or stop the task. */
  stop(err: WorkerPoolError): void;
}

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
  private readonly tasks = new Map<number, Task>();
  private nextId = 0;
  private completed = 0;
  private failed = 0;
  private closed = false;
  private destroyed: Promise<void> | null = null;

  constructor(options: WorkerPoolOptions = {}) {
    const isolation = options.isolation ?? 'thread';
    if (isolation !== 'thread' && isolation !== 'process') throw new RangeError(`isolation must be 'thread' or 'process', got ${String(isolation)}`);
    this.size = positiveInteger('size', options.size ?? defaultPoolSize());
    const minSize = integerIn('minSize', options.minSize ?? this.size, 1, this.size);
    this.maxQueue = nonNegative('maxQueue', options.maxQueue ?? Infinity, true);
    if (this.maxQueue !== Infinity && !Number.isInteger(this.maxQueue)) throw new RangeError(`maxQueue must be an integer or Infinity, got ${this.maxQueue}`);
    const idleTimeout = options.idleTimeout === undefined || options.idleTimeout === Infinity ? Infinity : timeoutMs('idleTimeout', options.idleTimeout);
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
      for (const task of this.tasks.values()) task.fail(new WorkerPoolError(OffloadErrorCode.ABORTED, 'the pool was closed with force'));
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
    const stamped = <E extends Error>(err: E): E => {
      err.stack = joinStacks(`${err.name}: ${err.message}`, framesOf(caller.stack));
      return err;
    };
    if (this.closed) throw stamped(new WorkerPoolError(OffloadErrorCode.CLOSED, 'the pool is closed'));
    if (signal?.aborted === true) throw stamped(aborted(signal));
    // piscina does not count tasks that carry a signal against its maxQueue
    // (they wait in its skip queue), so the bound is kept here: every task
    // the engine holds is running on one of `size` workers or queued.
    if (this.tasks.size >= this.size + this.maxQueue)
      throw stamped(new WorkerPoolError(OffloadErrorCode.QUEUE_FULL, `the pool is busy and its queue is full (maxQueue ${this.maxQueue})`));

    // Ids fit the worker's Int32 cell; one in flight for 2^31 tasks would be the only clash.
    const id = (this.nextId = (this.nextId % 0x7fffffff) + 1);
    // Only a task that can be stopped needs a signal for the engine (a
    // signal costs piscina a listener and a slower queue path).
    const controller = signal !== undefined || timeout !== Infinity ? new AbortController() : null;
    let timer: ClockTimer | null = null;
    let grace: ClockTimer | null = null;
    let resolve!: (value: R) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<R>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const onAbort = () => task.stop(stamped(aborted(signal!)));
    const settle = (err: Error | null, value?: unknown) => {
      if (task.settled) return;
      task.settled = true;
      if (timer !== null) this.clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (err === null) {
        this.completed++;
        resolve(value as R);
      } else {
        this.failed++;
        reject(err);
      }
    };
    const task: Task = {
      id,
      settled: false,
      engineDone: null!,
      fail: (err) => settle(err),
      stop: (err) => {
        if (task.settled) return;
        settle(err);
        const running = this.engine.isRunning(id);
        if (running) this.engine.requestStop(id, err);
        if (!running || this.abortGrace === 0) controller!.abort(err);
        else grace = this.clock.setTimeout(() => controller!.abort(err), this.abortGrace);
      },
    };
    this.tasks.set(id, task);
    /** The engine is done with the task: it no longer holds a worker or a queue place. */
    const released = () => {
      if (grace !== null) this.clock.clearTimeout(grace);
      this.tasks.delete(id);
    };
    task.engineDone = this.engine.submit({ id, module, exportName, args }, { signal: controller?.signal, transfer }).then(
      (reply: TaskReply) => {
        released();
        if (reply.ok) settle(null, reply.value);
        else settle(fromWire(reply.error, this.classes, framesOf(caller.stack)));
      },
      (err: unknown) => {
        released();
        settle(err instanceof WorkerPoolError ? stamped(err) : (err as Error));
      },
    );
    if (timeout !== Infinity) {
      timer = this.clock.setTimeout(
        () => task.stop(stamped(new WorkerPoolError(OffloadErrorCode.TIMEOUT, `the task took longer than ${timeout} ms (timeout)`))),
        timeout,
      );
      timer.unref();
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    return promise;
  }
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
