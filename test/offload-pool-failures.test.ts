// WorkerPool (lib/offload), threads: workers that die, timeouts, aborts and
// the abort grace. Timeouts and the grace run on a ManualClock; held tasks
// wait for the test's 'open' (offload-support.ts).

import t from 'tap';
import { getEventListeners } from 'node:events';
import { OffloadErrorCode, WorkerPoolError } from '../lib/errors.js';
import { ManualClock } from './support.js';
import { rejection, running, settled, TASKS, taskChannel as listen, threadPool as pool } from './offload-support.js';

t.test('process.exit in a task fails it with WORKER_EXITED; the worker is replaced and the task beside it is unaffected', async (t) => {
  const p = pool(t, { size: 2 });
  const ch = listen(t);
  const beside = p.run(TASKS, 'held', [ch.name, 'beside']);
  await ch.until('started beside');
  const err = await rejection(p.run(TASKS, 'exitProcess', [7]));
  t.ok(err instanceof WorkerPoolError);
  t.equal(err.code, OffloadErrorCode.WORKER_EXITED);
  t.equal((err as WorkerPoolError).exitCode, 7);
  t.equal(await p.run(TASKS, 'add', [1, 2]), 3, 'a replacement runs the next task');
  ch.open('beside');
  t.equal(await beside, 'beside');
});

t.test('an uncaught exception in a timer fails the task with WORKER_CRASHED and the error as cause; queued tasks still run', async (t) => {
  const p = pool(t);
  const crashed = p.run(TASKS, 'crashInTimer');
  const queued = p.run(TASKS, 'add', [2, 2]);
  const err = await rejection(crashed);
  t.equal(err.code, OffloadErrorCode.WORKER_CRASHED);
  t.match((err.cause as Error).message, 'boom from a timer');
  t.equal(await queued, 4);
});

t.test('a worker past its heap cap fails its task with WORKER_OUT_OF_MEMORY and is replaced', async (t) => {
  const p = pool(t, { resourceLimits: { maxOldGenerationSizeMb: 64 } });
  const err = await rejection(p.run(TASKS, 'eatMemory'));
  t.equal(err.code, OffloadErrorCode.WORKER_OUT_OF_MEMORY);
  t.equal(await p.run(TASKS, 'add', [3, 4]), 7);
});

t.test('a heap cap too small for a worker to start fails tasks instead of leaving them queued forever', async (t) => {
  const p = pool(t, { resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } });
  const errors = [await rejection(p.run(TASKS, 'add', [1, 2])), await rejection(p.run(TASKS, 'add', [1, 2]))];
  t.same(
    errors.map((err) => err.code),
    [OffloadErrorCode.WORKER_OUT_OF_MEMORY, OffloadErrorCode.WORKER_OUT_OF_MEMORY],
  );
  await p.close();
  t.equal(p.workers(), 0);
});

t.test('timeout: a running task past it fails with TIMEOUT and its worker is replaced (ManualClock)', async (t) => {
  const clock = new ManualClock();
  const p = pool(t, { clock, timeout: 1000 });
  const ch = listen(t);
  const first = await p.run(TASKS, 'whichThread');
  const spinning = p.run(TASKS, 'spin', [ch.name]);
  await ch.until('started');
  clock.advance(999);
  t.notOk(await settled(spinning), 'not before the timeout');
  const watched = new AbortController();
  const alongside = p.run(TASKS, 'add', [1, 1], { signal: watched.signal, timeout: 5000 });
  t.equal(getEventListeners(watched.signal, 'abort').length, 1);
  clock.advance(1);
  const err = await rejection(spinning);
  t.ok(err instanceof WorkerPoolError);
  t.equal(err.code, OffloadErrorCode.TIMEOUT);
  t.not(await p.run(TASKS, 'whichThread'), first, 'a new worker');
  t.equal(await alongside, 2, 'the task queued behind it ran on the replacement');
  t.equal(getEventListeners(watched.signal, 'abort').length, 0, 'its abort listener is removed');
  t.equal(clock.pending, 0, 'no timer left');
});

t.test('timeout: a queued task past it is removed and never starts; a per-run timeout overrides the pool’s', async (t) => {
  const clock = new ManualClock();
  const p = pool(t, { clock });
  const ch = listen(t);
  const held = p.run(TASKS, 'held', [ch.name, 'a']);
  await ch.until('started a');
  await running(p, 1);
  const queued = p.run(TASKS, 'held', [ch.name, 'b'], { timeout: 500 });
  t.equal(p.stats().queued, 1);
  clock.advance(500);
  t.equal((await rejection(queued)).code, OffloadErrorCode.TIMEOUT);
  ch.open('a');
  t.equal(await held, 'a');
  t.equal(await p.run(TASKS, 'add', [1, 1]), 2, 'the worker went on to the next task');
  t.notOk(ch.seen.includes('started b'), 'the timed-out task never started');
  t.equal(clock.pending, 0);
});

t.test('abort: a queued task is removed and never starts; a signal aborted before run() fails at once', async (t) => {
  const p = pool(t);
  const ch = listen(t);
  const held = p.run(TASKS, 'held', [ch.name, 'a']);
  await ch.until('started a');
  const controller = new AbortController();
  const queued = p.run(TASKS, 'held', [ch.name, 'b'], { signal: controller.signal });
  controller.abort(new Error('no longer wanted'));
  const err = await rejection(queued);
  t.equal(err.code, OffloadErrorCode.ABORTED);
  t.equal((err.cause as Error).message, 'no longer wanted');
  ch.open('a');
  t.equal(await held, 'a');
  t.equal(await p.run(TASKS, 'add', [1, 1]), 2);
  t.notOk(ch.seen.includes('started b'));
  t.equal((await rejection(p.run(TASKS, 'add', [1, 1], { signal: controller.signal }))).code, OffloadErrorCode.ABORTED);
});

t.test('abort: a running task has its worker terminated and replaced', async (t) => {
  const p = pool(t);
  const ch = listen(t);
  const first = await p.run(TASKS, 'whichThread');
  const controller = new AbortController();
  const spinning = p.run(TASKS, 'spin', [ch.name], { signal: controller.signal });
  await ch.until('started');
  controller.abort();
  t.equal((await rejection(spinning)).code, OffloadErrorCode.ABORTED);
  t.not(await p.run(TASKS, 'whichThread'), first);
});

t.test('abortGrace: the task sees taskSignal() abort and, stopping in time, keeps its worker', async (t) => {
  const clock = new ManualClock();
  const p = pool(t, { clock, abortGrace: 1000 });
  const ch = listen(t);
  const first = await p.run(TASKS, 'whichThread');
  const controller = new AbortController();
  const watching = p.run(TASKS, 'watchSignal', [ch.name], { signal: controller.signal });
  await ch.until('started');
  await running(p, 1);
  controller.abort();
  t.equal((await rejection(watching)).code, OffloadErrorCode.ABORTED, 'the caller hears at once');
  await ch.until(`saw abort ${OffloadErrorCode.ABORTED}`);
  t.equal(await p.run(TASKS, 'whichThread'), first, 'the same worker');
  t.equal(clock.pending, 0, 'the grace timer is gone');
});

t.test('abortGrace: a task that does not stop has its worker terminated when the grace ends', async (t) => {
  const clock = new ManualClock();
  const p = pool(t, { clock, abortGrace: 1000, timeout: 100 });
  const ch = listen(t);
  const first = await p.run(TASKS, 'whichThread');
  const spinning = p.run(TASKS, 'spin', [ch.name]);
  await ch.until('started');
  await running(p, 1);
  clock.advance(100);
  t.equal((await rejection(spinning)).code, OffloadErrorCode.TIMEOUT);
  t.equal(p.stats().busy, 1, 'still busy during the grace');
  clock.advance(1000);
  t.not(await p.run(TASKS, 'whichThread'), first, 'replaced');
  t.equal(clock.pending, 0);
});
