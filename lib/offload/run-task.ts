// Running one task, shared by the two worker entries (worker.ts for threads,
// child.ts for child processes): import the task's module (once per worker:
// the promise is kept), call the named export in its own async context so
// `taskSignal()` answers this task's signal, and answer a TaskReply. It never
// throws: what the task throws is answered as a WireError, so a failure the
// pool hears of otherwise means the worker itself failed.
//
// A task may return piscina's `Piscina.move(x)` (or any object with its
// transferable/value symbols): the thread entry then transfers its buffers
// to the caller instead of copying them (the rpc layer's large encodings);
// a child process copies them, as it must.

import type { TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { WorkerPoolError, type OffloadErrorCodeValue } from '../errors.js';
import { runAsTask, TaskStop } from './task.js';
import { toWire, type TaskMessage, type TaskReply } from './wire.js';

export interface Answer {
  readonly reply: TaskReply;
  /** Buffers of the result the task asked to move (Piscina.move), if any. */
  readonly transfer: readonly TransferListItem[] | null;
}

export interface TaskRunner {
  /** Runs `task`; `running` is told its id first, and 0 once it has settled. */
  run(task: TaskMessage): Promise<Answer>;
  /** Aborts the taskSignal() of running task `id` (a cooperative stop), with a WorkerPoolError of `code`. */
  stop(id: number, code: OffloadErrorCodeValue, message: string): void;
}

export function taskRunner(running: (id: number) => void): TaskRunner {
  const stops = new Map<number, TaskStop>();

  /** Modules loaded, by URL: a task of one of them starts without waiting a turn. */
  const loaded = new Map<string, Record<string, unknown>>();
  const loading = new Map<string, Promise<Record<string, unknown>>>();

  function load(url: string): Promise<Record<string, unknown>> {
    let module = loading.get(url);
    if (module === undefined) {
      module = import(url) as Promise<Record<string, unknown>>;
      loading.set(url, module);
      module.then(
        (namespace) => loaded.set(url, namespace),
        // A module that failed to load is tried again by the next task.
        () => loading.delete(url),
      );
    }
    return module;
  }

  return {
    async run(task) {
      const stop = new TaskStop();
      stops.set(task.id, stop);
      running(task.id);
      try {
        const module = loaded.get(task.module) ?? (await load(task.module));
        const fn = module[task.exportName];
        if (typeof fn !== 'function') throw new TypeError(`${task.module} has no exported function ${task.exportName}`);
        const value: unknown = await runAsTask(stop, () => (fn as (...args: unknown[]) => unknown)(...task.args));
        // The common uncloneable results fail as a DataCloneError the task threw;
        // one deeper in the result is the entry's to deal with.
        if (typeof value === 'function' || typeof value === 'symbol') structuredClone(value);
        if (isMoved(value))
          return { reply: { ok: true, value: value[Piscina.valueSymbol] }, transfer: value[Piscina.transferableSymbol] as TransferListItem[] };
        return { reply: { ok: true, value }, transfer: null };
      } catch (err) {
        return { reply: { ok: false, error: toWire(err) }, transfer: null };
      } finally {
        stops.delete(task.id);
        running(0);
      }
    },
    stop(id, code, message) {
      stops.get(id)?.stop(new WorkerPoolError(code, message));
    },
  };
}

type Moved = { [key: symbol]: unknown };

function isMoved(value: unknown): value is Moved {
  return typeof value === 'object' && value !== null && Piscina.transferableSymbol in value && Piscina.valueSymbol in value;
}
