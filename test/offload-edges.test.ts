// WorkerPool and registerOffloaded at their edges, as a hostile or careless
// caller meets them: bad signals and transfers, shared signals, ids that
// wrap, errors that cannot be read or rebuilt, classes that clash with the
// catalogue's names, refusals counted, idle workers that leave, a pool no
// worker can start, multicall's request (found in a review of issue 10).
// No sleeps: order comes from the pool's own counters (pollUntil) and from
// a ManualClock; every pool is closed with force when its test ends.

import t from 'tap';
import { getEventListeners } from 'node:events';
import { Fault, OffloadErrorCode, WorkerPoolError } from '../lib/errors.js';
import { WorkerPool, type WorkerPoolOptions } from '../lib/offload/pool.js';
import { XmlRpcDispatcher, type OffloadRunner } from '../lib/rpc/dispatcher.js';
import type { Request } from '../lib/server/request.js';
import { ManualClock, pollUntil, turns } from './support.js';
import { PrivateCodeError, PrivateDetailError } from './fixtures/offload-edge-tasks.js';

const TASKS = new URL('./fixtures/offload-edge-tasks.js', import.meta.url);
const HELD = new URL('./fixtures/offload-tasks.js', import.meta.url);

type Teardown = { teardown(fn: () => unknown): void };

function pool(t: Teardown, options: WorkerPoolOptions = {}): WorkerPool {
  const p = new WorkerPool({ size: 1, ...options });
  t.teardown(() => p.close({ force: true }));
  return p;
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: unknown; exitCode?: unknown; value?: unknown }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: unknown };
  }
  throw new Error('expected a rejection');
}

/** `promise`, or 'unsettled' after `ms` (a bound for a failing test, not a measure). */
async function within<T>(promise: Promise<T>, ms = 15_000): Promise<T | 'unsettled'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'unsettled'>((resolve) => (timer = setTimeout(() => resolve('unsettled'), ms)));
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

t.test('stats().failed counts the calls refused at once (queue full, closed, already aborted), as its doc says', async (t) => {
  const p = pool(t, { maxQueue: 0 });
  const spinning = p.run(HELD, 'spin', ['offload-edges-unused']).catch(() => 'stopped');
  await rejection(p.run(TASKS, 'id', [1])); // QUEUE_FULL
  await rejection(p.run(TASKS, 'id', [1], { signal: AbortSignal.abort() })); // ABORTED before it started
  await p.close({ force: true });
  await spinning;
  await rejection(p.run(TASKS, 'id', [1])); // CLOSED
  t.equal(p.stats().failed, 4, 'the spinning task and the three refused calls');
});

t.test("an error whose message getter throws is still the task's failure, not a worker crash, and the worker is kept", async (t) => {
  const p = pool(t);
  const before = await p.run(HELD, 'whichThread');
  const err = await rejection(p.run(TASKS, 'throwMessageGetterThrows'));
  t.not(err.code, OffloadErrorCode.WORKER_CRASHED, `got ${String(err.code)}: ${err.message}`);
  t.equal(await p.run(HELD, 'whichThread'), before, 'same worker');
});

t.test("a thrown Proxy whose traps throw is the task's failure, not a worker crash", async (t) => {
  const p = pool(t);
  const err = await rejection(p.run(TASKS, 'throwProxy'));
  t.not(err.code, OffloadErrorCode.WORKER_CRASHED, `got ${String(err.code)}: ${err.message}`);
});

t.test('an AggregateError comes back as one, with its errors', async (t) => {
  const p = pool(t);
  const err = await rejection(p.run(TASKS, 'throwAggregate'));
  t.ok(err instanceof AggregateError, `got ${err.constructor.name}`);
  const errors = (err as Partial<AggregateError>).errors;
  t.equal(errors?.length, 2, 'errors kept');
  t.ok(errors?.[0] instanceof TypeError);
});

t.test('a class of errorClasses with a private field is rebuilt so that its methods work', async (t) => {
  const p = pool(t, { errorClasses: [PrivateDetailError] });
  const err = await rejection(p.run(TASKS, 'throwPrivateDetail'));
  t.ok(err instanceof PrivateDetailError);
  let detail: unknown;
  t.doesNotThrow(() => (detail = (err as PrivateDetailError).detail), 'reading a getter over #detail');
  t.equal(detail, 'kept');
});

t.test("a task's own class that shares a name with the catalogue (DecodeError) is not rebuilt as the codec's Fault", async (t) => {
  const p = pool(t);
  const err = await rejection(p.run(TASKS, 'throwOwnDecodeError'));
  t.notOk(err instanceof Fault, 'an XML-RPC Fault would go out to the client as is');
  t.equal(err.message, 'my own DecodeError, not the codec one');
});

t.test('through registerOffloaded, that error answers the generic -32500 fault, not a Fault with no faultCode', async (t) => {
  const p = pool(t);
  const rpc = new XmlRpcDispatcher().registerOffloaded('own', TASKS, 'throwOwnDecodeError', { pool: p });
  const err = await rejection(Promise.resolve(rpc.call('own', [])));
  t.notOk(err instanceof Fault && typeof (err as Fault).faultCode !== 'number', `a Fault whose faultCode is ${String((err as Partial<Fault>).faultCode)}`);
});

t.test('a DOMException a task throws comes back as a DOMException (README: built-ins keep their class)', async (t) => {
  const p = pool(t);
  const err = await rejection(p.run(TASKS, 'throwDomException'));
  t.equal(err.name, 'AbortError');
  t.ok(err instanceof DOMException, `got ${err.constructor.name}`);
});

t.test('a result that is a function rejects with the same kind of DataCloneError as an argument that is one', async (t) => {
  const p = pool(t);
  const M = 'data:text/javascript,export const fn = () => () => 1; export const id = (x) => x';
  const fromArgs = await rejection(p.run(M, 'id', [() => 1]));
  const fromResult = await rejection(p.run(M, 'fn'));
  t.ok(fromArgs instanceof DOMException, 'the argument case is a DOMException');
  t.ok(fromResult instanceof DOMException, `the result case is a ${fromResult.constructor.name} (README: "rejects with a DataCloneError")`);
});

t.test('a signal that is not an AbortSignal is refused before the task runs (nothing runs, nothing counted as completed)', async (t) => {
  const p = pool(t);
  const err = await rejection(p.run(TASKS, 'id', [1], { signal: {} as AbortSignal }));
  t.ok(err instanceof TypeError);
  await p.close();
  t.match(p.stats(), { completed: 0, failed: 1 }, 'the caller was told it failed, so it must not have run');
});

t.test('a transfer that is not an array is a TypeError, not a worker crash', async (t) => {
  const p = pool(t);
  const err = await rejection(p.run(TASKS, 'id', [1], { transfer: {} as never }));
  t.not(err.code, OffloadErrorCode.WORKER_CRASHED, `got ${String(err.code)}: ${err.message}`);
  t.ok(err instanceof TypeError);
});

t.test('one signal shared by 20 queued tasks raises no MaxListenersExceededWarning', async (t) => {
  const p = pool(t);
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  t.teardown(() => process.off('warning', onWarning));
  const controller = new AbortController();
  const runs = Array.from({ length: 20 }, (_, i) => p.run(TASKS, 'id', [i], { signal: controller.signal }));
  t.same(
    await Promise.all(runs),
    Array.from({ length: 20 }, (_, i) => i),
  );
  await turns(3);
  t.equal(getEventListeners(controller.signal, 'abort').length, 0, 'every listener removed');
  t.same(
    warnings.map((w) => w.name),
    [],
    'no warning',
  );
});

t.test('system.multicall passes the request (and its signal) to the offloaded calls it makes', async (t) => {
  const seen: (AbortSignal | undefined)[] = [];
  const fake: OffloadRunner = {
    run: (_module, _name, _args, options) => {
      seen.push(options?.signal);
      // What registerOffloaded's task (callExport) answers: the value and its class marks.
      return Promise.resolve({ value: 1, marks: { objects: [], kinds: [] } });
    },
  };
  const rpc = new XmlRpcDispatcher().registerOffloaded('heavy', TASKS, 'id', { pool: fake });
  const signal = new AbortController().signal;
  const request = { signal } as unknown as Request;
  await rpc.call('heavy', [1], request);
  await rpc.call('system.multicall', [[{ methodName: 'heavy', params: [1] }]], request);
  t.equal(seen[0], signal, 'a direct call gets the signal');
  t.equal(seen[1], signal, 'a call inside system.multicall: a client that leaves should cancel it too');
});

t.test("a class of errorClasses whose code getter reads a private field: the caller's promise settles, no unhandled rejection", async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));
  const p = pool(t, { errorClasses: [PrivateCodeError] });
  const outcome = await within(
    p.run(TASKS, 'throwPrivateCode').then(
      () => 'resolved',
      (err: Error) => err,
    ),
  );
  t.not(outcome, 'unsettled', "the caller's promise must settle");
  await pollUntil(() => p.stats().queued === 0 && p.stats().busy === 0, 'the pool to let the task go', 20_000);
  await turns(3);
  t.same(unhandled.map(String), [], 'no unhandled rejection (it would end a process that has no handler)');
});

t.test("DOMException listed in errorClasses: the caller's promise settles, no unhandled rejection", async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));
  const p = pool(t, { errorClasses: [DOMException] });
  const outcome = await within(
    p.run(TASKS, 'throwDomException').then(
      () => 'resolved',
      (err: Error) => err,
    ),
  );
  t.not(outcome, 'unsettled', "the caller's promise must settle");
  await pollUntil(() => p.stats().queued === 0 && p.stats().busy === 0, 'the pool to let the task go', 20_000);
  await turns(3);
  t.same(unhandled.map(String), [], 'no unhandled rejection');
});

t.test('a run() given a bad signal leaves no unhandled rejection behind (it would end the process)', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));
  const p = pool(t);
  await rejection(p.run(TASKS, 'id', [1], { signal: {} as AbortSignal }));
  await pollUntil(() => p.stats().queued === 0 && p.stats().busy === 0, 'the pool to let the task go', 20_000);
  await turns(3);
  t.same(unhandled.map(String), [], 'no unhandled rejection');
});

t.test('when ids wrap, a new task never takes the id of one still in flight', async (t) => {
  const p = pool(t, { size: 2 });
  const inside = p as unknown as { nextId: number; tasks: Map<number, unknown> };
  inside.nextId = 0;
  const first = p.run(HELD, 'spin', ['offload-edges-unused']).catch(() => 'stopped'); // id 1, runs until the pool closes
  await pollUntil(() => p.stats().busy === 1, 'the first task to run', 20_000);
  inside.nextId = 0x7fffffff; // the next id wraps to 1
  const second = p.run(TASKS, 'id', [2]);
  t.equal(inside.tasks.size, 2, 'both tasks are tracked (an abort of the second would otherwise stop the first, and close() would not wait for it)');
  t.equal(await second, 2);
  await p.close({ force: true });
  await first;
});

t.test('once no worker can start, each caller gets its own error, stamped with its own stack', async (t) => {
  const p = pool(t, { resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } });
  const one = await rejection(p.run(TASKS, 'id', [1]));
  const two = await rejection(p.run(TASKS, 'id', [2]));
  const three = await (async function thirdCaller() {
    return rejection(p.run(TASKS, 'id', [3]));
  })();
  t.equal(three.code, OffloadErrorCode.WORKER_OUT_OF_MEMORY);
  t.not(two, three, 'not one shared object whose stack the latest caller rewrites');
  t.notMatch(String(two.stack), /thirdCaller/, "the second caller's stack does not name the third caller");
  t.ok(one);
  await p.close();
});

t.test('idleTimeout given without minSize is not silently inert (minSize defaults to size)', async (t) => {
  let p: WorkerPool;
  try {
    p = pool(t, { size: 2, idleTimeout: 1 });
  } catch (err) {
    t.ok(err instanceof RangeError, 'refused, saying minSize is needed');
    return;
  }
  t.equal(await p.run(TASKS, 'id', [1]), 1);
  // A bound for the failing case, not a measure: a worker idle for 1 ms should go.
  const shrank = await pollUntil(() => p.workers() < 2, 'an idle worker to exit', 10_000).then(
    () => true,
    () => false,
  );
  t.ok(shrank, `workers() stayed ${p.workers()}`);
});

t.test('exportName __proto__, constructor, then, toString are not functions of the module', async (t) => {
  const p = pool(t);
  for (const name of ['__proto__', 'constructor', 'then', 'toString', 'hasOwnProperty']) {
    const err = await rejection(p.run(TASKS, name, [1]));
    t.ok(err instanceof TypeError, name);
    t.match(err.message, /has no exported function/, name);
  }
  t.equal(await p.run('data:text/javascript,export default (x) => x + 1', 'default', [1]), 2);
});

t.test('a module with a syntax error, a top-level throw: the error, and the next task runs', async (t) => {
  const p = pool(t);
  const syntax = await rejection(p.run('data:text/javascript,export const f = (', 'f'));
  t.ok(syntax instanceof SyntaxError);
  const top = await rejection(p.run('data:text/javascript,throw new RangeError("at the top")', 'f'));
  t.ok(top instanceof RangeError);
  t.equal(await p.run(TASKS, 'id', [3]), 3);
});

t.test('a module whose top-level await never settles is stopped by the timeout; its worker is replaced', async (t) => {
  const clock = new ManualClock();
  const p = pool(t, { clock, timeout: 1000 });
  const stuck = p.run('data:text/javascript,await new Promise(() => {}); export const f = () => 1', 'f');
  await pollUntil(() => p.stats().busy === 1, 'the task to run', 20_000);
  clock.advance(1000);
  t.equal((await rejection(stuck)).code, OffloadErrorCode.TIMEOUT);
  t.equal(await p.run(TASKS, 'id', [4]), 4);
  await p.close();
  t.equal(p.workers(), 0);
});

t.test('process.abort() in a task throws there (unsupported in workers); the worker is kept', async (t) => {
  const p = pool(t);
  const before = await p.run(HELD, 'whichThread');
  const err = await rejection(p.run(TASKS, 'callAbort'));
  t.equal(err.code, 'ERR_WORKER_UNSUPPORTED_OPERATION');
  t.equal(await p.run(HELD, 'whichThread'), before);
});

t.test('process.exit(0) in a task is WORKER_EXITED with exitCode 0, and the worker is replaced', async (t) => {
  const p = pool(t);
  const err = await rejection(p.run(TASKS, 'exitZero'));
  t.equal(err.code, OffloadErrorCode.WORKER_EXITED);
  t.equal(err.exitCode, 0);
  t.equal(await p.run(TASKS, 'id', [5]), 5);
});

t.test('a rejection with a number, a cyclic cause', async (t) => {
  const p = pool(t);
  const num = await rejection(p.run(TASKS, 'rejectWithNumber'));
  t.match(num, { code: 'ERR_OFFLOAD_NON_ERROR', value: 42 });
  const cyclic = await rejection(p.run(TASKS, 'throwCyclicCause'));
  let depth = 0;
  for (let e: unknown = cyclic; e instanceof Error && depth < 100; e = e.cause) depth++;
  t.ok(depth > 1 && depth < 100, `cause chain cut at ${depth}`);
});

t.test('an endless microtask loop is stopped by abort; the worker is replaced; nothing left after close', async (t) => {
  const p = pool(t);
  const controller = new AbortController();
  const loop = p.run(TASKS, 'microtaskLoop', [], { signal: controller.signal });
  await pollUntil(() => p.stats().busy === 1, 'the loop to run', 20_000);
  controller.abort();
  t.equal((await rejection(loop)).code, OffloadErrorCode.ABORTED);
  t.equal(getEventListeners(controller.signal, 'abort').length, 0);
  t.equal(await p.run(TASKS, 'id', [6]), 6);
  await p.close();
  t.equal(p.workers(), 0);
  t.notOk(process.getActiveResourcesInfo().includes('MessagePort'), String(process.getActiveResourcesInfo()));
});

t.test('abort in the instant after run(), abort with the timeout in the same turn, abort after it settled', async (t) => {
  const clock = new ManualClock();
  const p = pool(t, { clock, timeout: 10 });
  const a = new AbortController();
  const instant = p.run(TASKS, 'id', [1], { signal: a.signal });
  a.abort();
  t.equal((await rejection(instant)).code, OffloadErrorCode.ABORTED);
  const b = new AbortController();
  const spin = p.run(HELD, 'spin', ['offload-edges-unused'], { signal: b.signal });
  await pollUntil(() => p.stats().busy === 1, 'the spin to run', 20_000);
  clock.advance(10);
  b.abort();
  t.equal((await rejection(spin)).code, OffloadErrorCode.TIMEOUT, 'the first of the two wins');
  const c = new AbortController();
  t.equal(await p.run(TASKS, 'id', [2], { signal: c.signal }), 2);
  c.abort();
  await turns(2);
  t.equal(p.stats().failed, 2);
  t.equal(p.stats().completed, 1);
  for (const s of [a.signal, b.signal, c.signal]) t.equal(getEventListeners(s, 'abort').length, 0);
});

t.test('close() twice, close({ force }) while a drain waits on a task that never ends, run() after close', async (t) => {
  const p = pool(t);
  const spin = p.run(HELD, 'spin', ['offload-edges-unused']);
  const spinDone = rejection(spin);
  await pollUntil(() => p.stats().busy === 1, 'the spin to run', 20_000);
  const drain1 = p.close();
  const drain2 = p.close();
  t.equal(await within(Promise.race([drain1.then(() => 'resolved'), turns(5).then(() => 'waiting')])), 'waiting', 'a drain waits for the task');
  await p.close({ force: true });
  t.equal(await within(Promise.all([drain1, drain2]).then(() => 'both')), 'both');
  t.equal((await spinDone).code, OffloadErrorCode.ABORTED);
  t.equal((await rejection(p.run(TASKS, 'id', [1]))).code, OffloadErrorCode.CLOSED);
  t.equal(p.workers(), 0);
});

t.test('a thrown error rebuilt is stamped with the worker frames, then the caller frames', async (t) => {
  const p = pool(t);
  const err = await rejection(p.run(HELD, 'callsDeep'));
  const [worker, caller] = String(err.stack).split('--- offloaded to a worker from ---');
  t.match(worker, /deepInWorker/);
  t.match(caller, /offload-edges\.test\.[jt]s/);
});

t.test('pool-made errors are WorkerPoolErrors', async (t) => {
  const p = pool(t, { maxQueue: 0 });
  const spinning = p.run(HELD, 'spin', ['offload-edges-unused']).catch(() => 'stopped');
  const full = await rejection(p.run(TASKS, 'id', [1]));
  t.ok(full instanceof WorkerPoolError);
  t.equal(full.code, OffloadErrorCode.QUEUE_FULL);
  await p.close({ force: true });
  await spinning;
});
