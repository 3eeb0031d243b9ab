// The seam between WorkerPool and what runs its tasks. WorkerPool keeps the
// policy (timeouts through the Clock, abort, grace, joined stacks, rebuilt
// errors, close); an engine only runs a task somewhere and says how it ended.
// ThreadEngine: worker_threads through piscina. ProcessEngine
// (process-engine.ts, isolation: 'process'): forked child processes.

import { availableParallelism } from 'node:os';
import { once } from 'node:events';
import { BroadcastChannel, type Worker, type ResourceLimits, type TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { OffloadErrorCode, WorkerPoolError } from '../errors.js';
import { MAX_TIMEOUT_MS } from '../options.js';
import { SLOT, type TaskMessage, type TaskReply, type WorkerData } from './wire.js';

export interface EngineOptions {
  /** Workers at most. */
  size: number;
  /** Workers kept even when idle (the rest leave after `idleTimeout`). */
  minSize: number;
  /** How long a worker above `minSize` stays idle before it exits, ms (Infinity: until close). */
  idleTimeout: number;
  resourceLimits: ResourceLimits | undefined;
}

export interface OffloadEngine {
  /**
   * Runs `task` (or queues it: the queue's bound is the caller's). Resolves
   * to the worker's reply (which may carry what the task threw); rejects
   * with a WorkerPoolError when the engine failed the task (WORKER_EXITED, WORKER_CRASHED, WORKER_OUT_OF_MEMORY,
   * ABORTED when destroyed). Once `signal` aborts, a queued task is dropped
   * and a running one has its worker stopped (and replaced); the promise
   * then rejects with anything.
   */
  submit(task: TaskMessage, options: { signal: AbortSignal | undefined; transfer: readonly TransferListItem[] }): Promise<TaskReply>;
  /** The task is running in a worker (not queued, not yet sent, not finished). */
  isRunning(id: number): boolean;
  /** Workers running a task (a stopped task still counts until its worker lets it go). */
  busy(): number;
  /** Aborts the taskSignal() of a running task with (a copy of) `reason` (a cooperative stop: the worker is left alone). */
  requestStop(id: number, reason: WorkerPoolError): void;
  /** Workers alive. */
  threads(): number;
  /** Worker threads not yet exited, those being stopped included. */
  alive(): number;
  /** Stops every worker now (queued and running tasks reject, ABORTED); resolves once all have exited. */
  destroy(): Promise<void>;
}

let pools = 0;

/** worker_threads through piscina: one worker entry (worker.js) that imports the task's module. */
export class ThreadEngine implements OffloadEngine {
  private readonly piscina: Piscina;
  private readonly channel: BroadcastChannel;
  private readonly onMessage: (message: unknown) => void;
  /**
   * Every worker thread until its 'exit': piscina forgets a worker when it
   * starts terminating it (an aborted task's, say) and its destroy() waits
   * only for those it still knows.
   */
  private readonly living = new Set<Worker>();
  /** Each live worker's cell: the id of the task it runs, 0 when idle (see SLOT). */
  private readonly slots = new Map<number, Int32Array>();
  private readonly scan = () => {
    for (const worker of this.piscina.threads) {
      if (this.living.has(worker) || worker.threadId === -1) continue;
      this.living.add(worker);
      const { threadId } = worker;
      worker.once('exit', () => {
        this.living.delete(worker);
        this.slots.delete(threadId);
        this.checkAlive();
      });
    }
  };
  /** Rejecters of the tasks submitted and not yet settled. */
  private readonly pending = new Set<(err: unknown) => void>();
  /** Why no worker can start any more, once piscina has given up. */
  private broken: WorkerPoolError | null = null;
  private lastWorkerError: Error | null = null;
  private destroying = false;

  constructor(options: EngineOptions) {
    const workerData: WorkerData = { channel: `medusa-xmlrpc-offload:${process.pid}:${++pools}:${Math.random().toString(36).slice(2)}` };
    this.channel = new BroadcastChannel(workerData.channel);
    this.channel.unref();
    this.piscina = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      maxThreads: options.size,
      minThreads: options.minSize,
      // The queue bound is WorkerPool's (piscina's misses tasks that carry a signal).
      maxQueue: Infinity,
      // piscina takes Infinity as "never"; a finite value is a real timer.
      idleTimeout: options.idleTimeout,
      resourceLimits: options.resourceLimits,
      workerData,
      // Idle workers wait on their port, not in Atomics.wait(): a task's
      // leftover timers still run (and can crash it, which we report), and
      // abort messages are read.
      atomics: 'disabled',
      stricterFIFO: true,
      recordTiming: false,
      // Drain is done by WorkerPool; piscina's close() is not used.
      closeTimeout: MAX_TIMEOUT_MS,
    });
    this.onMessage = (message: unknown) => {
      if (typeof message !== 'object' || message === null || !(SLOT in message)) return;
      const { threadId, slot } = (message as Record<typeof SLOT, { threadId: number; slot: Int32Array }>)[SLOT];
      this.scan();
      // A worker that exited before its message was read must not come back.
      if ([...this.living].some((worker) => worker.threadId === threadId)) this.slots.set(threadId, slot);
    };
    this.piscina.on('message', this.onMessage);
    this.piscina.on('workerCreate', this.scan);
    this.piscina.on('workerDestroy', this.scan);
    this.scan();
    // A worker that fails with no task on it: no caller to tell, but the
    // reason if it turns out that no worker can start.
    this.piscina.on('error', (err: Error) => (this.lastWorkerError = err));
  }

  submit(task: TaskMessage, options: { signal: AbortSignal | undefined; transfer: readonly TransferListItem[] }): Promise<TaskReply> {
    if (this.broken !== null) return Promise.reject(this.broken);
    return new Promise<TaskReply>((resolve, reject) => {
      // Also called by checkAlive() when no worker can start, piscina then leaving the task queued forever.
      const fail = (err: unknown) => {
        this.pending.delete(fail);
        reject(options.signal?.aborted === true || err instanceof WorkerPoolError ? err : engineFailure(err));
      };
      this.pending.add(fail);
      const transferList = options.transfer.length === 0 ? undefined : ([...options.transfer] as never);
      (this.piscina.run(task, { signal: options.signal ?? null, transferList }) as Promise<TaskReply>).then((reply) => {
        this.pending.delete(fail);
        resolve(reply);
      }, fail);
      this.scan();
    });
  }

  /**
   * piscina stops starting workers for good once one fails before it is
   * ready (a heap cap too small to boot, say), and then leaves queued tasks
   * waiting forever. A worker that exits leaving none behind, piscina having
   * started no replacement, is that case: fail what waits, and refuse from
   * now on.
   */
  private checkAlive(): void {
    if (this.destroying || this.piscina.threads.length > 0) return;
    const cause = this.lastWorkerError;
    const oom = (cause as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
    this.broken = new WorkerPoolError(
      oom ? OffloadErrorCode.WORKER_OUT_OF_MEMORY : OffloadErrorCode.WORKER_CRASHED,
      `no worker can start${cause === null ? '' : `: ${cause.message}`}`,
      { cause },
    );
    for (const fail of this.pending) fail(this.broken);
  }

  isRunning(id: number): boolean {
    for (const slot of this.slots.values()) if (Atomics.load(slot, 0) === id) return true;
    return false;
  }

  busy(): number {
    let busy = 0;
    for (const slot of this.slots.values()) if (Atomics.load(slot, 0) !== 0) busy++;
    return busy;
  }

  requestStop(id: number, reason: WorkerPoolError): void {
    this.channel.postMessage({ abort: id, code: reason.code, message: reason.message });
  }

  threads(): number {
    return this.piscina.threads.length;
  }

  alive(): number {
    return this.living.size;
  }

  async destroy(): Promise<void> {
    this.destroying = true;
    try {
      this.scan();
      await this.piscina.destroy();
      await Promise.all([...this.living].filter((worker) => worker.threadId !== -1).map((worker) => once(worker, 'exit')));
    } finally {
      this.piscina.off('workerCreate', this.scan);
      this.piscina.off('workerDestroy', this.scan);
      this.piscina.off('message', this.onMessage);
      this.channel.close();
    }
  }
}

/** piscina's failure of a task, as the catalogue's error. */
function engineFailure(err: unknown): unknown {
  if (!(err instanceof Error)) {
    // A worker's uncaught error that did not survive the trip (a DataCloneError
    // from posting a result that cannot be cloned arrives as `{}`).
    return new WorkerPoolError(OffloadErrorCode.WORKER_CRASHED, 'the worker crashed (an uncaught non-Error, or a result that cannot be cloned)', {
      cause: err,
    });
  }
  const code = (err as { code?: unknown }).code;
  if (code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return new WorkerPoolError(OffloadErrorCode.WORKER_OUT_OF_MEMORY, `the worker ran out of memory (resourceLimits): ${err.message}`, { cause: err });
  }
  const exited = /^worker exited with code: (-?\d+)/.exec(err.message);
  if (exited !== null) {
    const exitCode = Number(exited[1]);
    return new WorkerPoolError(OffloadErrorCode.WORKER_EXITED, `the worker exited with code ${exitCode} while running the task`, { exitCode });
  }
  if (err.message === 'Terminating worker thread') return new WorkerPoolError(OffloadErrorCode.ABORTED, 'the pool was closed', { cause: err });
  // Arguments that cannot be cloned (or a result, which also costs the worker).
  if (err.name === 'DataCloneError') return err;
  return new WorkerPoolError(OffloadErrorCode.WORKER_CRASHED, `the worker crashed: ${err.message}`, { cause: err });
}

export function defaultPoolSize(): number {
  return availableParallelism();
}
