// The entry of a WorkerPool child process (isolation: 'process'), forked by
// ProcessEngine (compiled to dist/lib/offload/child.js) with an IPC channel
// using the 'advanced' (structured clone) serialization. It runs one task at
// a time (run-task.ts) as the pool sends them, and answers over IPC.
//
// It must not outlive the pool's process, even one killed by SIGKILL while a
// task here is in a synchronous loop: then this main thread never sees the
// IPC 'disconnect'. A small watchdog thread, which no task can block, checks
// every WATCH_MS whether the parent is still this process's parent, and
// kills this process (SIGKILL: a task's signal handlers cannot keep it) when
// it is not. Tasks are taken only once the watchdog runs.

import { Worker } from 'node:worker_threads';
import { taskRunner } from './run-task.js';
import { asDataCloneError, toWire, type FromChild, type ToChild, type TaskReply } from './wire.js';

const WATCH_MS = 250;

// CommonJS, run by the watchdog thread (eval). A dead parent's children are
// handed to another process (process.ppid changes; on Linux at once, even
// while the parent is a zombie); where ppid does not change (Windows), the
// parent's pid stops answering signal 0.
const WATCHDOG = `
const { workerData } = require('node:worker_threads');
function orphaned() {
  if (process.ppid !== workerData.parent) return true;
  try {
    process.kill(workerData.parent, 0);
    return false;
  } catch (err) {
    return err.code === 'ESRCH';
  }
}
setInterval(() => {
  if (orphaned()) process.kill(process.pid, 'SIGKILL');
}, workerData.every);
`;

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

// No flags: the loaders a task may need are not the watchdog's.
const watchdog = new Worker(WATCHDOG, { eval: true, execArgv: [], workerData: { parent, every: WATCH_MS } });
watchdog.unref();
watchdog.once('online', () => send({ type: 'ready' }));
