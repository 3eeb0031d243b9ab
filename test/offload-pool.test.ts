// WorkerPool (lib/offload): results, what a task throws, workers that die,
// timeouts, aborts, the queue bound, close, stats, and that nothing is left
// behind. Tasks are in test/fixtures/offload-tasks.ts; a task that must be
// held tells the test it started and waits for 'open' on a BroadcastChannel,
// so order comes from events the test sees and releases, never from sleeps.
// Timeouts and the abort grace run on a ManualClock.

import t from 'tap';
import { getEventListeners } from 'node:events';
import { fileURLToPath } from 'node:url';
import { BroadcastChannel } from 'node:worker_threads';
import { Fault, OffloadError, OffloadErrorCode, WorkerPoolError } from '../lib/errors.js';
import { mapConcurrent, MORE, waitFor } from '../lib/async/concurrency.js';
import { WorkerPool, type WorkerPoolOptions } from '../lib/offload/pool.js';
import { ManualClock } from './support.js';
import { Inbox, rejection, running, settled } from './offload-support.js';
import { QuotaError } from './fixtures/offload-tasks.js';

const TASKS = new URL('./fixtures/offload-tasks.js', import.meta.url);
let channels = 0;

type Teardown = { teardown(fn: () => unknown): void };

/** A pool closed (forcefully) when the test ends, whatever happened. */
function pool(t: Teardown, options: WorkerPoolOptions = {}): WorkerPool {
  const p = new WorkerPool({ size: 1, ...options });
  t.teardown(() => p.close({ force: true }));
  return p;
}

/** The test's end of a BroadcastChannel the tasks talk on. */
function listen(t: Teardown) {
  const name = `offload-test-${process.pid}-${++channels}`;
  const channel = new BroadcastChannel(name);
  const inbox = new Inbox<unknown>();
  channel.onmessage = (event) => inbox.push((event as { data: unknown }).data);
  t.teardown(() => channel.close());
  return {
    name,
    seen: inbox.seen,
    close: () => channel.close(),
    open: (tag: string) => channel.postMessage(`open ${tag}`),
    /** Resolves once `message` has come. */
    until: (message: string, ms?: number) => inbox.until((m) => m === message, `'${message}'`, ms),
  };
}

t.test('runs a sync and an async export, from a URL or an absolute path, and counts them in stats', async (t) => {
  const p = pool(t);
  t.equal(await p.run(TASKS, 'add', [2, 3]), 5);
  t.equal(await p.run(TASKS.href, 'addLater', [4, 5]), 9);
  t.equal(await p.run(fileURLToPath(TASKS), 'add', [1, 1]), 2);
  t.equal(await p.run('data:text/javascript,export const twice = (x) => 2 * x', 'twice', [21]), 42);
  t.match(p.stats(), { size: 1, busy: 0, idle: 1, queued: 0, completed: 4, failed: 0 });
});

t.test('transfer moves an ArrayBuffer to the worker instead of copying it', async (t) => {
  const p = pool(t);
  const buffer = new ArrayBuffer(1024);
  t.equal(await p.run(TASKS, 'byteLength', [buffer], { transfer: [buffer] }), 1024);
  t.equal(buffer.byteLength, 0, 'detached on the caller side');
});

t.test('bad calls are refused: a relative module, an empty export name, a missing export', async (t) => {
  const p = pool(t);
  await t.rejects(p.run('./fixtures/offload-tasks.js', 'add'), TypeError);
  await t.rejects(p.run(TASKS, ''), TypeError);
  const missing = await rejection(p.run(TASKS, 'noSuchExport'));
  t.ok(missing instanceof TypeError);
  t.match(missing.message, /has no exported function noSuchExport/);
  t.throws(() => p.task('relative.js', 'add'), TypeError);
});

t.test('values that cannot be cloned: arguments and results fail the task, and the pool goes on', async (t) => {
  const p = pool(t);
  const M = 'data:text/javascript,export const fn = () => () => 1; export const deep = () => ({ f() {} }); export const id = (x) => x';
  t.equal((await rejection(p.run(M, 'id', [() => 1]))).name, 'DataCloneError');
  t.equal((await rejection(p.run(M, 'fn'))).name, 'DataCloneError');
  t.equal((await rejection(p.run(M, 'deep'))).code, OffloadErrorCode.WORKER_CRASHED);
  t.equal(await p.run(M, 'id', [5]), 5);
});

t.test('the options are checked', async (t) => {
  t.throws(() => new WorkerPool({ isolation: 'fork' as 'thread' }), RangeError);
  t.throws(() => new WorkerPool({ size: 0 }), RangeError);
  t.throws(() => new WorkerPool({ size: 2, minSize: 3 }), RangeError);
  t.throws(() => new WorkerPool({ size: 1, maxQueue: -1 }), RangeError);
  t.throws(() => new WorkerPool({ size: 1, timeout: NaN }), RangeError);
  t.throws(() => new WorkerPool({ size: 1, errorClasses: [Object as never] }), TypeError);
});

t.test('a thrown built-in error comes back as its class with its code and own properties', async (t) => {
  const p = pool(t);
  const err = await rejection(p.run(TASKS, 'throwTypeError'));
  t.ok(err instanceof TypeError);
  t.equal(err.name, 'TypeError');
  t.equal(err.message, 'not a number');
  t.equal(err.code, 'ERR_NOT_NUMBER');
  t.same((err as unknown as { detail: unknown }).detail, { got: 'x' });
  t.equal(p.stats().failed, 1);
});

t.test('a class the caller does not know comes back as an OffloadError carrying name, message, code, properties and cause', async (t) => {
  const p = pool(t);
  const err = await rejection(p.run(TASKS, 'throwQuota'));
  t.ok(err instanceof OffloadError);
  t.equal(err.name, 'QuotaError');
  t.equal(err.message, 'over quota');
  t.equal(err.code, 'EQUOTA');
  t.equal((err as unknown as QuotaError).limit, 3);
  t.notOk('notCloneable' in err, 'a property that cannot be cloned is left out');
  t.ok(err.cause instanceof RangeError);
  t.equal((err.cause as Error).message, 'inner cause');
});

t.test('a class registered in errorClasses, and the catalogue’s Fault, come back as themselves', async (t) => {
  const p = pool(t, { errorClasses: [QuotaError] });
  const err = await rejection(p.run(TASKS, 'throwQuota'));
  t.ok(err instanceof QuotaError);
  t.equal(err.name, 'QuotaError');
  t.equal(err.code, 'EQUOTA');
  t.equal((err as QuotaError).limit, 3);
  t.ok(err.cause instanceof RangeError);
  const fault = await rejection(p.run(TASKS, 'throwFault'));
  t.ok(fault instanceof Fault);
  t.equal((fault as Fault).faultCode, 4);
  t.equal((fault as Fault).faultString, 'Too many parameters.');
});

t.test('a thrown non-Error is wrapped in an OffloadError with the value kept', async (t) => {
  const p = pool(t);
  const number = await rejection(p.run(TASKS, 'throwValue', [42]));
  t.ok(number instanceof OffloadError);
  t.equal(number.code, 'ERR_OFFLOAD_NON_ERROR');
  t.equal((number as OffloadError).value, 42);
  const object = await rejection(p.run(TASKS, 'throwValue', [{ reason: 'x' }]));
  t.same((object as OffloadError).value, { reason: 'x' });
  const fn = await rejection(p.run(TASKS, 'throwNonCloneable'));
  t.equal((fn as OffloadError).value, undefined, 'a value that cannot be cloned is described only');
  t.match(fn.message, /a function thrown/);
});

t.test("the stack shows the worker's frames, then the caller's", async (t) => {
  const p = pool(t);
  async function offloadFromHere(): Promise<unknown> {
    return p.run(TASKS, 'callsDeep');
  }
  const err = await rejection(offloadFromHere());
  const stack = err.stack ?? '';
  const worker = stack.indexOf('deepInWorker');
  const caller = stack.indexOf('offloadFromHere');
  t.ok(worker > 0, 'a worker frame');
  t.match(stack, /offload-tasks\.[jt]s/);
  t.ok(caller > worker, 'the caller frame follows');
  t.match(stack, /offload-pool\.test\.[jt]s/);
});

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

t.test('a full queue refuses a task at once with QUEUE_FULL', async (t) => {
  const p = pool(t, { maxQueue: 1 });
  const ch = listen(t);
  const a = p.run(TASKS, 'held', [ch.name, 'a']);
  await ch.until('started a');
  const b = p.run(TASKS, 'held', [ch.name, 'b']);
  const refused = await rejection(p.run(TASKS, 'add', [1, 1]));
  t.ok(refused instanceof WorkerPoolError);
  t.equal(refused.code, OffloadErrorCode.QUEUE_FULL);
  t.notOk(await settled(a), 'refused while the others still wait');
  ch.open('a');
  await ch.until('started b');
  ch.open('b');
  t.same(await Promise.all([a, b]), ['a', 'b']);
});

t.test('stats: busy, idle and queued workers and tasks, completed and failed', async (t) => {
  const p = pool(t, { size: 2 });
  const ch = listen(t);
  const a = p.run(TASKS, 'held', [ch.name, 'a']);
  const b = p.run(TASKS, 'held', [ch.name, 'b']);
  await ch.until('started a');
  await ch.until('started b');
  await running(p, 2);
  const c = p.run(TASKS, 'held', [ch.name, 'c']);
  t.same(p.stats(), { size: 2, busy: 2, idle: 0, queued: 1, completed: 0, failed: 0 });
  ch.open('a');
  ch.open('b');
  await ch.until('started c');
  ch.open('c');
  await Promise.all([a, b, c]);
  await t.rejects(p.run(TASKS, 'throwValue', [1]));
  t.same(p.stats(), { size: 2, busy: 0, idle: 2, queued: 0, completed: 3, failed: 1 });
});

t.test('close() drains: queued and running tasks finish, new ones are refused, every worker exits', async (t) => {
  const p = pool(t);
  const ch = listen(t);
  const a = p.run(TASKS, 'held', [ch.name, 'a']);
  await ch.until('started a');
  const b = p.run(TASKS, 'held', [ch.name, 'b']);
  const closing = p.close();
  t.equal((await rejection(p.run(TASKS, 'add', [1, 1]))).code, OffloadErrorCode.CLOSED);
  t.notOk(await settled(closing));
  ch.open('a');
  await ch.until('started b');
  ch.open('b');
  t.same(await Promise.all([a, b]), ['a', 'b']);
  await closing;
  t.equal(p.workers(), 0);
  t.match(p.stats(), { busy: 0, idle: 0, queued: 0 });
});

t.test('close({ force }) fails queued and running tasks with ABORTED and terminates the workers', async (t) => {
  const p = pool(t, { size: 1 });
  const ch = listen(t);
  const a = p.run(TASKS, 'spin', [ch.name]);
  await ch.until('started');
  const b = p.run(TASKS, 'add', [1, 1]);
  const failures = Promise.all([rejection(a), rejection(b)]);
  await p.close({ force: true });
  t.same(
    (await failures).map((err) => err.code),
    [OffloadErrorCode.ABORTED, OffloadErrorCode.ABORTED],
  );
  t.equal(p.workers(), 0);
});

t.test('nothing is left behind: after crashes, aborts and timeouts, close() leaves no worker, timer or port', async (t) => {
  const before = process.getActiveResourcesInfo().sort();
  const clock = new ManualClock();
  const p = new WorkerPool({ size: 2, clock, abortGrace: 10 });
  const ch = listen(t);
  const controller = new AbortController();
  const spinning = p.run(TASKS, 'spin', [ch.name], { signal: controller.signal });
  await ch.until('started');
  controller.abort();
  const outcomes = await Promise.allSettled([
    spinning,
    p.run(TASKS, 'exitProcess', [1]),
    p.run(TASKS, 'throwQuota'),
    p.run(TASKS, 'held', [ch.name, 'never opened'], { timeout: 5 }),
    Promise.resolve().then(() => clock.advance(10)),
  ]);
  outcomes.pop();
  t.same(
    outcomes.map((o) => o.status),
    ['rejected', 'rejected', 'rejected', 'rejected'],
  );
  await p.close();
  ch.close();
  t.equal(p.workers(), 0, 'every worker thread has exited');
  t.equal(clock.pending, 0, 'no timer armed');
  t.same(process.getActiveResourcesInfo().sort(), before, 'no handle left');
});

t.test('task() makes an export an async function that works with mapConcurrent and waitFor', async (t) => {
  const p = pool(t, { size: 2 });
  const double = p.task<[number], number>('data:text/javascript,export const double = (x) => 2 * x', 'double');
  const hosts = Array.from({ length: 12 }, (_, i) => i);
  const pairs = await mapConcurrent(hosts, (host) => double(host), { concurrency: 3 });
  t.same(
    pairs.map(([result]) => result),
    hosts.map((h) => 2 * h),
  );
  const inFlight: Promise<number>[] = [];
  const queue = [...hosts];
  const results: number[] = [];
  let most = 0;
  for await (const done of waitFor(inFlight, { concurrency: 3 })) {
    if (done === MORE) {
      if (queue.length > 0) inFlight.push(double(queue.shift()!));
      most = Math.max(most, inFlight.length);
    } else if (done.status === 'fulfilled') results.push(done.value);
  }
  t.same(
    results.sort((x, y) => x - y),
    hosts.map((h) => 2 * h),
  );
  t.equal(most, 3, 'three in flight at most');
});
