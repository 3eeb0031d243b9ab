// The worker entry piscina loads in each thread (compiled to
// dist/lib/offload/worker.js). Its default export runs one task: it imports
// the task's module (once per worker: the promise is kept), calls the named
// export with the arguments, and answers a TaskReply. It never throws: what
// the task throws is answered as a WireError, so a rejection reaching the
// pool means the worker itself failed (exit, crash, out of memory).
//
// Cooperative abort: the pool posts `{ abort: id, code, message }` on the pool's
// BroadcastChannel; the worker aborts that task's controller, whose signal
// the task reads with taskSignal().
//
// A task may return piscina's `Piscina.move(x)` (or any object with its
// transferable/value symbols): its buffers are then transferred to the
// caller instead of copied (the rpc layer's large encodings).

import { BroadcastChannel, parentPort, threadId, workerData, type TransferListItem } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { WorkerPoolError, type OffloadErrorCodeValue } from '../errors.js';
import { runAsTask, TaskStop } from './task.js';
import { SLOT, toWire, type TaskMessage, type TaskReply, type WorkerData } from './wire.js';

const modules = new Map<string, Promise<Record<string, unknown>>>();
const running = new Map<number, TaskStop>();

// One task at a time runs in a worker (piscina's default): one cell says which.
const slot = new Int32Array(new SharedArrayBuffer(4));
parentPort?.postMessage({ [SLOT]: { threadId, slot } });

const channel = new BroadcastChannel((workerData as WorkerData).channel);
channel.unref();
channel.onmessage = (event) => {
  const { abort, code, message } = (event as { data: { abort: number; code: OffloadErrorCodeValue; message: string } }).data;
  running.get(abort)?.stop(new WorkerPoolError(code, message));
};

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

export default async function runTask(task: TaskMessage): Promise<TaskReply> {
  const stop = new TaskStop();
  running.set(task.id, stop);
  Atomics.store(slot, 0, task.id);
  try {
    const module = await load(task.module);
    const fn = module[task.exportName];
    if (typeof fn !== 'function') throw new TypeError(`${task.module} has no exported function ${task.exportName}`);
    const value: unknown = await runAsTask(stop, () => (fn as (...args: unknown[]) => unknown)(...task.args));
    // The common uncloneable results fail as a DataCloneError the task threw;
    // one deeper in the result costs the worker (reported as its crash).
    if (typeof value === 'function' || typeof value === 'symbol') structuredClone(value);
    if (isMoved(value)) return movedReply(value);
    return { ok: true, value };
  } catch (err) {
    return { ok: false, error: toWire(err) };
  } finally {
    running.delete(task.id);
    Atomics.store(slot, 0, 0);
  }
}

type Moved = { [key: symbol]: unknown };

/** A result wrapped by the task in piscina's `move()`: its buffers are transferred to the caller, not copied. */
function isMoved(value: unknown): value is Moved {
  return typeof value === 'object' && value !== null && Piscina.transferableSymbol in value && Piscina.valueSymbol in value;
}

function movedReply(value: Moved): TaskReply {
  const transfer = value[Piscina.transferableSymbol] as TransferListItem[];
  const reply: TaskReply = { ok: true, value: value[Piscina.valueSymbol] };
  return Piscina.move({
    get [Piscina.transferableSymbol]() {
      return transfer;
    },
    get [Piscina.valueSymbol]() {
      return reply;
    },
  } as unknown as Parameters<typeof Piscina.move>[0]) as unknown as TaskReply;
}
