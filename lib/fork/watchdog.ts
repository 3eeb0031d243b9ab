// A forked child must not outlive the process that forked it, even one
// killed by SIGKILL while the child's main thread is stuck in a synchronous
// loop (then it never sees the IPC 'disconnect'). Shared by the WorkerPool's
// process children (lib/offload/child.ts) and spawnProcess's children
// (lib/process/child-main.ts): a small watchdog thread, which nothing on the
// main thread can block, checks every `every` ms whether `parent` is still
// this process's parent, and kills this process (SIGKILL: no signal handler
// of the child's code can keep it) when it is not.

import { Worker } from 'node:worker_threads';

/** How often the watchdog looks, ms: a child outlives its parent by at most about this. */
export const WATCH_MS = 250;

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

/**
 * Starts the watchdog thread (unref'd: it never keeps the process alive).
 * Wait for its 'online' event before doing work that must be covered.
 */
export function startParentWatchdog(parent: number, every = WATCH_MS): Worker {
  // No flags: the loaders the child's code may need are not the watchdog's.
  const watchdog = new Worker(WATCHDOG, { eval: true, execArgv: [], workerData: { parent, every } });
  watchdog.unref();
  return watchdog;
}
