// WorkerPool (lib/offload), threads: the queue bound, stats, close (drain
// and force), that nothing is left behind, and task() with mapConcurrent
// and waitFor. Held tasks wait for the test's 'open' (offload-support.ts).

import t from 'tap';
import { OffloadErrorCode, WorkerPoolError } from '../lib/errors.js';
import { mapConcurrent, MORE, waitFor } from '../lib/async/concurrency.js';
import { WorkerPool } from '../lib/offload/pool.js';
import { leftSince, ManualClock } from './support.js';
import { rejection, running, settled, TASKS, taskChannel as listen, threadPool as pool } from './offload-support.js';

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
  t.same(leftSince(before), [], 'no handle left');
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
