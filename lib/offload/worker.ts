// The worker entry piscina loads in each thread (compiled to
// dist/lib/offload/worker.js). Its default export runs one task (run-task.ts);
// a result that cannot be cloned deeper down fails piscina's postMessage and
// costs the worker (reported as its crash).
//
// Cooperative abort: the pool posts `{ abort: id, code, message }` on the pool's
// BroadcastChannel; the worker aborts that task's controller, whose signal
// the task reads with taskSignal().

import { BroadcastChannel, parentPort, workerData } from 'node:worker_threads';
import type { OffloadErrorCodeValue } from '../errors.js';
import { taskRunner } from './run-task.js';
import { STARTED, type TaskMessage, type TaskReply, type WorkerData } from './wire.js';

const runner = taskRunner((id) => parentPort?.postMessage({ [STARTED]: id }));

const channel = new BroadcastChannel((workerData as WorkerData).channel);
channel.unref();
channel.onmessage = (event) => {
  const { abort, code, message } = (event as { data: { abort: number; code: OffloadErrorCodeValue; message: string } }).data;
  runner.stop(abort, code, message);
};

export default function runTask(task: TaskMessage): Promise<TaskReply> {
  return runner.run(task);
}
