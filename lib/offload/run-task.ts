// Running one task, shared by the two worker entries (worker.ts for threads,
// child.ts for child processes): import the task's module (once per worker:
// the promise is kept), call the named export in its own async context so
// `taskSignal()` answers this task's signal, and answer a TaskReply. It never
// throws: what the task throws is answered as a WireError, so a failure the
// pool hears of otherwise means the worker itself failed.

import { WorkerPoolError, type OffloadErrorCodeValue } from '../errors.js';
import { runAsTask } from './task.js';
import { toWire, type TaskMessage, type TaskReply } from './wire.js';

export interface TaskRunner {
  /** Runs `task`; `started` is called first (the pool counts the task as running from then). */
  run(task: TaskMessage): Promise<TaskReply>;
  /** Aborts the taskSignal() of running task `id` (a cooperative stop), with a WorkerPoolError of `code`. */
  stop(id: number, code: OffloadErrorCodeValue, message: string): void;
}

export function taskRunner(started: (id: number) => void): TaskRunner {
  const modules = new Map<string, Promise<Record<string, unknown>>>();
  const running = new Map<number, AbortController>();

  function load(url: string): Promise<Record<string, unknown>> {
    let module = modules.get(url);
    if (module === undefined) {
      module = import(url) as Promise<Record<string, unknown>>;
      modules.set(url, module);
      // A module that failed to load is tried again by the next task.
      module.catch(() => modules.delete(url));
    }
    return module;
  }

  return {
    async run(task) {
      const controller = new AbortController();
      running.set(task.id, controller);
      started(task.id);
      try {
        const module = await load(task.module);
        const fn = module[task.exportName];
        if (typeof fn !== 'function') throw new TypeError(`${task.module} has no exported function ${task.exportName}`);
        const value: unknown = await runAsTask(controller.signal, () => (fn as (...args: unknown[]) => unknown)(...task.args));
        // The common uncloneable results fail as a DataCloneError the task threw;
        // one deeper in the result is the entry's to deal with.
        if (typeof value === 'function' || typeof value === 'symbol') structuredClone(value);
        return { ok: true, value };
      } catch (err) {
        return { ok: false, error: toWire(err) };
      } finally {
        running.delete(task.id);
      }
    },
    stop(id, code, message) {
      running.get(id)?.abort(new WorkerPoolError(code, message));
    },
  };
}
