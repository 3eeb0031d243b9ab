// The worker entry piscina loads in each thread (compiled to
// dist/lib/offload/worker.js). Its default export runs one task
// (run-task.ts) and answers a TaskReply, its moved buffers transferred.
//
// Cooperative abort: the pool posts `{ abort: id, code, message }` on the pool's
// BroadcastChannel; the worker aborts that task's taskSignal().

import { BroadcastChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { OffloadErrorCodeValue } from '../errors.js';
import { taskRunner } from './run-task.js';
import { SLOT, type TaskMessage, type TaskReply, type WorkerData } from './wire.js';

// One task at a time runs in a worker (piscina's default): one cell says which.
const slot = new Int32Array(new SharedArrayBuffer(4));
parentPort?.postMessage({ [SLOT]: { threadId, slot } });
const runner = taskRunner((id) => Atomics.store(slot, 0, id));

const channel = new BroadcastChannel((workerData as WorkerData).channel);
channel.unref();
channel.onmessage = (event) => {
  const { abort, code, message } = (event as { data: { abort: number; code: OffloadErrorCodeValue; message: string } }).data;
  runner.stop(abort, code, message);
};

export default async function runTask(task: TaskMessage): Promise<TaskReply> {
  const { reply, transfer } = await runner.run(task);
  if (transfer === null) return reply;
  // piscina transfers what a returned "movable" names: the reply is wrapped as one.
  return Piscina.move({
    get [Piscina.transferableSymbol]() {
      return transfer;
    },
    get [Piscina.valueSymbol]() {
      return reply;
    },
  } as unknown as Parameters<typeof Piscina.move>[0]) as unknown as TaskReply;
}
