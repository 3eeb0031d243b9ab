// For code running inside an offloaded task: the task's cooperative
// AbortSignal. The worker runs each task in its own async context, so
// `taskSignal()` answers the calling task's signal at any point of it, after
// awaits too. This module imports nothing heavy, so a task module can import
// it cheaply (it is also exported from the package's index).

import { AsyncLocalStorage } from 'node:async_hooks';

const current = new AsyncLocalStorage<TaskStop>();

/**
 * The AbortSignal of the offloaded task that calls it: aborted when the
 * caller's signal aborts or the task's timeout passes while it runs (the
 * reason is the error the caller got). A task that stops when it fires,
 * within the pool's `abortGrace`, keeps its worker; past the grace the worker
 * is terminated. A task busy in synchronous code sees it only once it awaits.
 * Outside a task (on the main thread, say) it is a signal that never aborts.
 */
export function taskSignal(): AbortSignal {
  return current.getStore()?.signal ?? NEVER;
}

const NEVER = new AbortController().signal;

/**
 * A running task's stop request. The AbortController is made only when the
 * task asks for its signal: most tasks never do, and one costs a few
 * microseconds per task.
 */
export class TaskStop {
  private controller: AbortController | null = null;
  private stopped = false;
  private reason: unknown;

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.stopped && !this.controller.signal.aborted) this.controller.abort(this.reason);
    return this.controller.signal;
  }

  stop(reason: unknown): void {
    if (this.stopped) return;
    this.stopped = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}

/** Runs `fn` as a task whose `taskSignal()` is `stop`'s signal (the worker entry's use). */
export function runAsTask<T>(stop: TaskStop, fn: () => T): T {
  return current.run(stop, fn);
}
