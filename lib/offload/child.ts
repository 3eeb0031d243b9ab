// The entry of a WorkerPool child process (isolation: 'process'), forked by
// ProcessEngine (compiled to dist/lib/offload/child.js) with an IPC channel
// using the 'advanced' (structured clone) serialization. It runs one task at
// a time (run-task.ts) as the pool sends them, and answers over IPC.
//
// It must not outlive the pool's process, even one killed by SIGKILL while a
// task here is in a synchronous loop: then this main thread never sees the
// IPC 'disconnect'. The watchdog thread of lib/fork/watchdog.ts, which no
// task can block, kills this process when the parent is gone. Tasks are
// taken only once the watchdog runs.

import { startParentWatchdog } from '../fork/watchdog.js';
import { taskRunner } from './run-task.js';
import { asDataCloneError, toWire, type FromChild, type ToChild, type TaskReply } from './wire.js';

if (process.send === undefined) throw new Error('child.js is the entry of a WorkerPool child process (isolation: process), forked with an IPC channel');

const parent = Number(process.argv[2]);
// A send to a parent that has gone is not an error worth dying of: 'disconnect' ends the child.
const ignore = () => {};
const send = (message: FromChild, done: (err: Error | null) => void = ignore) => process.send!(message, undefined, undefined, done);
// The engine knows which task each child runs (it sent it): nothing to tell.
const runner = taskRunner(() => {});

process.on('message', (message: ToChild) => {
  if (message.type === 'stop') runner.stop(message.id, message.code, message.message);
  else if (message.type === 'task') void runner.run(message.task).then(({ reply }) => answer(message.task.id, reply));
});

function answer(id: number, reply: TaskReply): void {
  try {
    send({ type: 'reply', id, reply });
  } catch (err) {
    // A result holding something that cannot be cloned: the task fails with it, the child lives on.
    send({ type: 'reply', id, reply: { ok: false, error: toWire(asDataCloneError(err)) } });
  }
}

process.on('disconnect', () => process.exit(0));

// Said to the pool before dying, so the task here fails with WORKER_CRASHED
// and this as its cause (a thread's worker dies the same way).
process.on('uncaughtException', (err) => {
  if (!process.connected) process.exit(1);
  try {
    send({ type: 'crash', error: toWire(err) }, () => process.exit(1));
  } catch {
    process.exit(1);
  }
});

const watchdog = startParentWatchdog(parent);
watchdog.once('online', () => send({ type: 'ready' }));
