// WorkerPool (lib/offload), threads: results, transfer, bad calls, and
// what a task throws as it comes back. Failures (crashes, timeouts, aborts)
// are in offload-pool-failures, the queue, stats and close in
// offload-pool-lifecycle: three files, so that each stays well within the
// runner's per-file timeout on a loaded machine. Tasks are in
// test/fixtures/offload-tasks.ts; a task that must be held tells the test it
// started and waits for 'open' on a BroadcastChannel, so order comes from
// events the test sees and releases, never from sleeps.

import t from 'tap';
import { fileURLToPath } from 'node:url';
import { Fault, OffloadError, OffloadErrorCode } from '../lib/errors.js';
import { WorkerPool } from '../lib/offload/pool.js';
import { rejection, TASKS, threadPool as pool } from './offload-support.js';
import { QuotaError } from './fixtures/offload-tasks.js';

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
