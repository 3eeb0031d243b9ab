// WorkerPool with isolation: 'process' (lib/offload/process-engine.ts,
// child.ts): the same API and error typing as threads, on forked children;
// children that die, timeouts, aborts, the queue bound, close, stats, and
// children that kill themselves when the pool's process dies by SIGKILL.
// Tasks that must be held talk to the test over a loopback server (a
// BroadcastChannel does not cross processes): order comes from lines the
// test sees and releases, never from sleeps. Timeouts and the grace run on
// a ManualClock.

import t from 'tap';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { OffloadError, OffloadErrorCode, WorkerPoolError } from '../lib/errors.js';
import { WorkerPool, type WorkerPoolOptions } from '../lib/offload/pool.js';
import { childExecArgv } from '../lib/offload/process-engine.js';
import { leftSince, ManualClock, orphansAfterParentKill, pollUntil, processGone, turns } from './support.js';
import { Inbox, rejection, running, settled, TASKS } from './offload-support.js';
import { QuotaError } from './fixtures/offload-tasks.js';

const GATED = new URL('./fixtures/offload-process-tasks.js', import.meta.url);
const ORPHANS = fileURLToPath(new URL('./fixtures/offload-orphans.js', import.meta.url));

type Teardown = { teardown(fn: () => unknown): void };

// The children do not need the test runner's flags (its TypeScript loader
// and hooks take seconds to load in each child): tasks are compiled.
const execArgv: string[] = [];

/** A process pool closed (forcefully) when the test ends, whatever happened. */
function pool(t: Teardown, options: WorkerPoolOptions = {}): WorkerPool {
  const p = new WorkerPool({ size: 1, isolation: 'process', execArgv, ...options });
  t.teardown(() => p.close({ force: true }));
  return p;
}

/** The test's loopback server the gated tasks connect to: lines they said, and 'open <tag>' to all. */
async function gates(t: Teardown) {
  const sockets = new Set<net.Socket>();
  const inbox = new Inbox<string>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const lines = text.split('\n');
      text = lines.pop()!;
      inbox.push(...lines);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    seen: inbox.seen,
    open: (tag: string) => {
      for (const socket of sockets) socket.write(`open ${tag}\n`);
    },
    /** Resolves with the first line matching `pattern`. */
    until: (pattern: RegExp, ms?: number) => inbox.until((line) => pattern.test(line), `line matching ${String(pattern)}`, ms),
  };
}

/** What this process writes to stderr until the test ends (kept from the terminal). */
function captureStderr(t: Teardown): string[] {
  const written: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  t.teardown(() => void (process.stderr.write = write));
  return written;
}

const gone = processGone;

t.test('runs sync and async exports in a child process, not in this one, and counts them in stats', async (t) => {
  const p = pool(t);
  t.equal(await p.run(TASKS, 'add', [2, 3]), 5);
  t.equal(await p.run(TASKS.href, 'addLater', [4, 5]), 9);
  t.equal(await p.run(fileURLToPath(TASKS), 'add', [1, 1]), 2);
  t.equal(await p.run('data:text/javascript,export const twice = (x) => 2 * x', 'twice', [21]), 42);
  t.not(await p.run(GATED, 'whichPid'), process.pid);
  t.match(p.stats(), { size: 1, busy: 0, idle: 1, queued: 0, completed: 5, failed: 0 });
  t.equal(p.workers(), 1);
});

t.test('arguments and results cross by structured clone: Buffers, typed arrays, Date, Map, bigint, Error causes', async (t) => {
  const p = pool(t);
  const value = {
    buffer: Buffer.from('bytes'),
    floats: new Float64Array([1.5, -2]),
    date: new Date(86_400_000),
    map: new Map<string, bigint>([['big', 2n ** 70n]]),
    error: new RangeError('outer', { cause: new TypeError('inner') }),
  };
  const back = await p.run<typeof value>(GATED, 'echo', [value]);
  t.same(Buffer.from(back.buffer), Buffer.from('bytes'));
  t.ok(back.floats instanceof Float64Array);
  t.same([...back.floats], [1.5, -2]);
  t.ok(back.date instanceof Date);
  t.equal(back.date.getTime(), 86_400_000);
  t.equal(back.map.get('big'), 2n ** 70n);
  t.ok(back.error instanceof RangeError);
  t.equal((back.error.cause as Error).message, 'inner');
});

t.test('transfer is accepted, and the buffer is copied (memory cannot move to another process)', async (t) => {
  const p = pool(t);
  const buffer = new ArrayBuffer(1024);
  t.equal(await p.run(TASKS, 'byteLength', [buffer], { transfer: [buffer] }), 1024);
  t.equal(buffer.byteLength, 1024, 'still usable on the caller side');
});

t.test('values that cannot be cloned fail the task with a DataCloneError; the child is kept', async (t) => {
  const p = pool(t);
  const first = await p.run(GATED, 'whichPid');
  const M = 'data:text/javascript,export const fn = () => () => 1; export const deep = () => ({ f() {} }); export const id = (x) => x';
  t.equal((await rejection(p.run(M, 'id', [() => 1]))).name, 'DataCloneError');
  t.equal((await rejection(p.run(M, 'fn'))).name, 'DataCloneError');
  t.equal((await rejection(p.run(M, 'deep'))).name, 'DataCloneError', 'deeper down too (threads lose the worker here)');
  t.equal(await p.run(M, 'id', [5]), 5);
  t.equal(await p.run(GATED, 'whichPid'), first);
});

t.test('what a task throws comes back typed: built-in class, unknown class, errorClasses, non-Error', async (t) => {
  const p = pool(t, { errorClasses: [] });
  const type = await rejection(p.run(TASKS, 'throwTypeError'));
  t.ok(type instanceof TypeError);
  t.equal(type.code, 'ERR_NOT_NUMBER');
  t.same((type as unknown as { detail: unknown }).detail, { got: 'x' });
  const unknown = await rejection(p.run(TASKS, 'throwQuota'));
  t.ok(unknown instanceof OffloadError);
  t.equal(unknown.name, 'QuotaError');
  t.equal(unknown.code, 'EQUOTA');
  t.equal((unknown as unknown as QuotaError).limit, 3);
  t.ok(unknown.cause instanceof RangeError);
  const known = pool(t, { errorClasses: [QuotaError] });
  const quota = await rejection(known.run(TASKS, 'throwQuota'));
  t.ok(quota instanceof QuotaError);
  t.equal((quota as QuotaError).limit, 3);
  t.equal(((quota as QuotaError).cause as Error).message, 'inner cause');
  const value = await rejection(p.run(TASKS, 'throwValue', [{ reason: 'x' }]));
  t.ok(value instanceof OffloadError);
  t.equal(value.code, 'ERR_OFFLOAD_NON_ERROR');
  t.same((value as OffloadError).value, { reason: 'x' });
});

t.test("the stack shows the child's frames, then the caller's", async (t) => {
  const p = pool(t);
  async function offloadFromHere(): Promise<unknown> {
    return p.run(TASKS, 'callsDeep');
  }
  const stack = (await rejection(offloadFromHere())).stack ?? '';
  const child = stack.indexOf('deepInWorker');
  t.ok(child > 0, 'a frame of the child');
  t.ok(stack.indexOf('--- offloaded to a worker from ---') > child);
  t.ok(stack.indexOf('offloadFromHere') > child, 'the caller frame follows');
  t.match(stack, /offload-process\.test\.[jt]s/);
});

t.test('process.exit in a task fails it with WORKER_EXITED and its code; the child is replaced, the task beside it unaffected', async (t) => {
  const p = pool(t, { size: 2 });
  const g = await gates(t);
  const beside = p.run(GATED, 'held', [g.port, 'beside']);
  await g.until(/^started beside /);
  const err = await rejection(p.run(TASKS, 'exitProcess', [7]));
  t.ok(err instanceof WorkerPoolError);
  t.equal(err.code, OffloadErrorCode.WORKER_EXITED);
  t.equal((err as WorkerPoolError).exitCode, 7);
  t.equal(await p.run(TASKS, 'add', [1, 2]), 3, 'a replacement runs the next task');
  g.open('beside');
  t.equal(await beside, 'beside');
  t.equal(p.workers(), 2);
});

t.test('a child killed by a signal, or by an uncaught exception, fails its task with WORKER_CRASHED; queued tasks still run', async (t) => {
  const p = pool(t);
  const killed = p.run(GATED, 'killSelf', ['SIGKILL']);
  const crashed = p.run(TASKS, 'crashInTimer');
  const queued = p.run(TASKS, 'add', [2, 2]);
  const k = await rejection(killed);
  t.equal(k.code, OffloadErrorCode.WORKER_CRASHED);
  t.match(k.message, /SIGKILL/);
  const c = await rejection(crashed);
  t.equal(c.code, OffloadErrorCode.WORKER_CRASHED);
  t.ok(c.cause instanceof Error);
  t.equal((c.cause as Error).message, 'boom from a timer');
  t.equal(await queued, 4);
});

t.test('a child past maxOldGenerationSizeMb (--max-old-space-size) fails its task with WORKER_OUT_OF_MEMORY and is replaced', async (t) => {
  t.same(childExecArgv(['--enable-source-maps', '-e', 'x', '--inspect=0'], { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 6 }), [
    '--enable-source-maps',
    '--max-old-space-size=48',
    '--max-semi-space-size=2',
  ]);
  const p = pool(t, { resourceLimits: { maxOldGenerationSizeMb: 32 } });
  const stderr = captureStderr(t);
  const err = await rejection(p.run(TASKS, 'eatMemory'));
  t.equal(err.code, OffloadErrorCode.WORKER_OUT_OF_MEMORY);
  t.match(stderr.join(''), /JavaScript heap out of memory/, "V8's banner went through to stderr");
  t.equal(await p.run(TASKS, 'add', [3, 4]), 7);
});

t.test('a heap cap too small for a child to start fails tasks with WORKER_OUT_OF_MEMORY instead of leaving them queued forever', async (t) => {
  const p = pool(t, { resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 } });
  captureStderr(t);
  const errors = [await rejection(p.run(TASKS, 'add', [1, 2])), await rejection(p.run(TASKS, 'add', [1, 2]))];
  t.same(
    errors.map((err) => err.code),
    [OffloadErrorCode.WORKER_OUT_OF_MEMORY, OffloadErrorCode.WORKER_OUT_OF_MEMORY],
  );
  await p.close();
  t.equal(p.workers(), 0);
});

t.test("a child's stderr reaches this process's stderr", async (t) => {
  const p = pool(t);
  const written = captureStderr(t);
  const marker = `from the child ${process.pid}\n`;
  await p.run(GATED, 'writeStderr', [marker]);
  await pollUntil(() => written.join('').includes(marker), 'the child’s stderr', 20_000);
  t.pass('seen');
});

t.test('timeout: a running task past it fails with TIMEOUT, its child is killed and replaced (ManualClock)', async (t) => {
  const clock = new ManualClock();
  const p = pool(t, { clock, timeout: 1000 });
  const g = await gates(t);
  const spinning = p.run(GATED, 'spin', [g.port]);
  const pid = Number((await g.until(/^started \d+$/)).split(' ')[1]);
  await running(p, 1);
  const alongside = p.run(TASKS, 'add', [1, 1], { timeout: 5000 });
  clock.advance(999);
  t.notOk(await settled(spinning), 'not before the timeout');
  clock.advance(1);
  const err = await rejection(spinning);
  t.ok(err instanceof WorkerPoolError);
  t.equal(err.code, OffloadErrorCode.TIMEOUT);
  t.equal(await alongside, 2, 'the task queued behind it ran on the replacement');
  t.not(await p.run(GATED, 'whichPid'), pid, 'a new child');
  await pollUntil(() => gone(pid), 'the timed-out child to be gone', 20_000);
  t.equal(clock.pending, 0, 'no timer left');
});

t.test('timeout and abort of a queued task: removed, never starts', async (t) => {
  const clock = new ManualClock();
  const p = pool(t, { clock });
  const g = await gates(t);
  const held = p.run(GATED, 'held', [g.port, 'a']);
  await g.until(/^started a /);
  await running(p, 1);
  const timed = p.run(GATED, 'held', [g.port, 'b'], { timeout: 500 });
  const controller = new AbortController();
  const aborted = p.run(GATED, 'held', [g.port, 'c'], { signal: controller.signal });
  t.equal(p.stats().queued, 2);
  clock.advance(500);
  controller.abort(new Error('no longer wanted'));
  t.equal((await rejection(timed)).code, OffloadErrorCode.TIMEOUT);
  const err = await rejection(aborted);
  t.equal(err.code, OffloadErrorCode.ABORTED);
  t.equal((err.cause as Error).message, 'no longer wanted');
  g.open('a');
  t.equal(await held, 'a');
  t.equal(await p.run(TASKS, 'add', [1, 1]), 2);
  t.notOk(
    g.seen.some((line) => /^started [bc] /.test(line)),
    'neither started',
  );
  t.equal(clock.pending, 0);
});

t.test('abort: a running task in a synchronous loop has its child killed and replaced', async (t) => {
  const p = pool(t);
  const g = await gates(t);
  const controller = new AbortController();
  const spinning = p.run(GATED, 'spin', [g.port], { signal: controller.signal });
  const pid = Number((await g.until(/^started \d+$/)).split(' ')[1]);
  controller.abort();
  t.equal((await rejection(spinning)).code, OffloadErrorCode.ABORTED);
  t.not(await p.run(GATED, 'whichPid'), pid);
  await pollUntil(() => gone(pid), 'the aborted child to be gone', 20_000);
});

t.test('abortGrace: the task sees taskSignal() abort (requestStop over IPC) and, stopping in time, keeps its child', async (t) => {
  const clock = new ManualClock();
  const p = pool(t, { clock, abortGrace: 1000 });
  const g = await gates(t);
  const first = await p.run(GATED, 'whichPid');
  const controller = new AbortController();
  const watching = p.run(GATED, 'watchSignal', [g.port], { signal: controller.signal });
  await g.until(/^started$/);
  await running(p, 1);
  controller.abort();
  t.equal((await rejection(watching)).code, OffloadErrorCode.ABORTED, 'the caller hears at once');
  await g.until(new RegExp(`^saw abort ${OffloadErrorCode.ABORTED}$`));
  t.equal(await p.run(GATED, 'whichPid'), first, 'the same child');
  t.equal(clock.pending, 0, 'the grace timer is gone');
});

t.test('a full queue refuses a task at once with QUEUE_FULL', async (t) => {
  const p = pool(t, { maxQueue: 1 });
  const g = await gates(t);
  const a = p.run(GATED, 'held', [g.port, 'a']);
  await g.until(/^started a /);
  const b = p.run(GATED, 'held', [g.port, 'b']);
  const refused = await rejection(p.run(TASKS, 'add', [1, 1]));
  t.equal(refused.code, OffloadErrorCode.QUEUE_FULL);
  g.open('a');
  await g.until(/^started b /);
  g.open('b');
  t.same(await Promise.all([a, b]), ['a', 'b']);
});

t.test('stats, size, minSize and idleTimeout mean what they do with threads; workers() counts live children', async (t) => {
  const p = pool(t, { size: 2, minSize: 1, idleTimeout: 1 });
  const g = await gates(t);
  await pollUntil(() => p.workers() === 1, 'minSize children to start', 20_000);
  const a = p.run(GATED, 'held', [g.port, 'a']);
  const b = p.run(GATED, 'held', [g.port, 'b']);
  await g.until(/^started a /);
  await g.until(/^started b /);
  await running(p, 2);
  const c = p.run(GATED, 'held', [g.port, 'c']);
  t.same(p.stats(), { size: 2, busy: 2, idle: 0, queued: 1, completed: 0, failed: 0 });
  t.equal(p.workers(), 2, 'no more than size');
  g.open('a');
  g.open('b');
  await g.until(/^started c /);
  g.open('c');
  t.same(await Promise.all([a, b, c]), ['a', 'b', 'c']);
  await pollUntil(() => p.workers() === 1, 'the child above minSize to leave after idleTimeout', 20_000);
  t.match(p.stats(), { size: 2, busy: 0, idle: 1, queued: 0, completed: 3, failed: 0 });
});

t.test('close() drains: queued and running tasks finish, new ones are refused, then every child is killed', async (t) => {
  const p = new WorkerPool({ size: 2, isolation: 'process', execArgv });
  const g = await gates(t);
  const a = p.run(GATED, 'held', [g.port, 'a']);
  const b = p.run(GATED, 'held', [g.port, 'b']);
  const pids = [await g.until(/^started a /), await g.until(/^started b /)].map((line) => Number(line.split(' ')[3]));
  const c = p.run(GATED, 'held', [g.port, 'c']);
  const closing = p.close();
  t.equal((await rejection(p.run(TASKS, 'add', [1, 1]))).code, OffloadErrorCode.CLOSED);
  t.notOk(await settled(closing));
  g.open('a');
  g.open('b');
  await g.until(/^started c /);
  g.open('c');
  t.same(await Promise.all([a, b, c]), ['a', 'b', 'c']);
  await closing;
  t.equal(p.workers(), 0);
  t.ok(pids.every(gone), 'every child pid is gone (ESRCH)');
  t.match(p.stats(), { busy: 0, idle: 0, queued: 0 });
});

t.test('close({ force }) fails queued and running tasks with ABORTED and kills the children', async (t) => {
  const p = new WorkerPool({ size: 1, isolation: 'process', execArgv });
  const g = await gates(t);
  const a = p.run(GATED, 'spin', [g.port]);
  const pid = Number((await g.until(/^started \d+$/)).split(' ')[1]);
  const b = p.run(TASKS, 'add', [1, 1]);
  const failures = Promise.all([rejection(a), rejection(b)]);
  await p.close({ force: true });
  t.same(
    (await failures).map((err) => err.code),
    [OffloadErrorCode.ABORTED, OffloadErrorCode.ABORTED],
  );
  t.equal(p.workers(), 0);
  t.ok(gone(pid), 'the spinning child is gone (ESRCH)');
});

t.test('nothing is left behind: after results, throws and a child that exited, close() leaves no child and no handle', async (t) => {
  await turns(3); // the handles earlier tests closed are gone
  const before = process.getActiveResourcesInfo().sort();
  const p = new WorkerPool({ size: 2, isolation: 'process', execArgv });
  const outcomes = await Promise.allSettled([
    p.run<number>(GATED, 'whichPid'),
    p.run<number>(GATED, 'whichPid'),
    p.run(TASKS, 'exitProcess', [1]),
    p.run(TASKS, 'throwQuota'),
    p.run<number>(GATED, 'whichPid'),
  ]);
  t.same(
    outcomes.map((o) => o.status),
    ['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled'],
  );
  const pids = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value as number] : []));
  await p.close();
  t.equal(p.workers(), 0);
  t.ok(pids.every(gone), 'every child pid is gone (ESRCH)');
  t.same(leftSince(before), [], 'no handle left');
});

t.test('children exit by themselves when the pool’s process is killed with SIGKILL, even one in a synchronous loop', async (t) => {
  // Two children spinning, one idle.
  await orphansAfterParentKill(t, ORPHANS, 3, 'the pool’s children');
  t.pass('every child has exited');
});
