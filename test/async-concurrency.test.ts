// waitFor and mapConcurrent: the inparallel `waitfor` contract as an async
// iterator, and the common case on top of it. Promises here are settled by
// the test (deferreds), so every step is deterministic.

import t from 'tap';
import { MORE, mapConcurrent, waitFor, type Settled } from '../lib/async/concurrency.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(reason: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

t.test('without concurrency it yields each promise as it settles, removes it from the array, and ends when the array is empty', async (t) => {
  const [a, b, c] = [deferred<string>(), deferred<string>(), deferred<string>()];
  const inFlight = [a.promise, b.promise, c.promise];
  const seen: string[] = [];
  const lengths: number[] = [];
  const loop = (async () => {
    for await (const done of waitFor(inFlight)) {
      t.not(done, MORE, 'never asks for more without a concurrency');
      const settled = done as Settled<string>;
      t.equal(settled.status, 'fulfilled');
      seen.push((settled as { value: string }).value);
      lengths.push(inFlight.length);
      t.notOk(inFlight.includes(settled.promise as Promise<string>), 'the settled promise is out of the array before it is yielded');
    }
  })();
  b.resolve('b');
  await tick();
  c.resolve('c');
  await tick();
  a.resolve('a');
  await loop;
  t.same(seen, ['b', 'c', 'a'], 'settlement order, not array order');
  t.same(lengths, [2, 1, 0]);
  t.same(inFlight, []);
});

t.test('with concurrency it asks for more, one per MORE, up to the limit, and never has more in flight', async (t) => {
  const pending: Deferred<number>[] = [];
  const inFlight: Promise<number>[] = [];
  let started = 0;
  let maxInFlight = 0;
  const results: number[] = [];
  const events: string[] = [];
  const loop = (async () => {
    for await (const done of waitFor(inFlight, { concurrency: 3 })) {
      if (done === MORE) {
        events.push(`more@${inFlight.length}`);
        if (started < 7) {
          const d = deferred<number>();
          const n = started++;
          pending.push(d);
          inFlight.push(d.promise.then(() => n));
          maxInFlight = Math.max(maxInFlight, inFlight.length);
        }
        continue;
      }
      events.push('done');
      results.push((done as { value: number }).value);
    }
  })();
  // Settle whatever is in flight, oldest first, until the loop ends.
  let settledCount = 0;
  while (settledCount < 7) {
    await tick();
    const d = pending[settledCount];
    if (d === undefined) continue;
    d.resolve(0);
    settledCount++;
  }
  await loop;
  t.same(results, [0, 1, 2, 3, 4, 5, 6]);
  t.equal(maxInFlight, 3, 'never more than three in flight');
  t.same(events.slice(0, 4), ['more@0', 'more@1', 'more@2', 'done'], 'ramps up to three at once, then waits for a settlement');
  t.equal(events.at(-1), 'more@0', 'the last word is one more MORE on an empty array');
});

t.test('after a MORE that added nothing, it waits for a settlement before asking again: it never spins', async (t) => {
  const a = deferred<string>();
  const inFlight = [a.promise];
  let mores = 0;
  const loop = (async () => {
    for await (const done of waitFor(inFlight, { concurrency: 5 })) {
      if (done === MORE) mores++; // and never add anything
    }
  })();
  for (let i = 0; i < 20; i++) await tick();
  t.equal(mores, 1, 'one MORE, declined, then quiet while the promise is pending');
  a.resolve('a');
  await loop;
  t.equal(mores, 2, 'asked once more after the settlement, on the empty array, then ended');
});

t.test('work added at the last MORE, on an empty array, is run', async (t) => {
  const inFlight: Promise<string>[] = [];
  const order: string[] = [];
  let rounds = 0;
  for await (const done of waitFor(inFlight, { concurrency: 1 })) {
    if (done === MORE) {
      if (rounds++ < 3) inFlight.push(Promise.resolve(`job ${rounds}`));
      continue;
    }
    order.push((done as { value: string }).value);
  }
  t.same(order, ['job 1', 'job 2', 'job 3']);
});

t.test('a rejection is yielded, not thrown, and never reported as unhandled', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));
  const boom = new Error('boom');
  const inFlight: Promise<number>[] = [Promise.reject(boom), Promise.resolve(1)];
  const seen: Settled<number>[] = [];
  for await (const done of waitFor(inFlight)) seen.push(done as Settled<number>);
  t.same(
    seen.map((s) => s.status),
    ['rejected', 'fulfilled'],
  );
  t.equal((seen[0] as { reason: unknown }).reason, boom);
  await tick();
  t.same(unhandled, []);
});

t.test('leaving the loop early leaves the unsettled promises in the array; their rejections stay handled', async (t) => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  t.teardown(() => process.off('unhandledRejection', onUnhandled));
  const slow = deferred<number>();
  const inFlight = [Promise.resolve(1), slow.promise];
  for await (const done of waitFor(inFlight)) {
    t.equal((done as { value: number }).value, 1);
    break;
  }
  t.same(inFlight, [slow.promise], 'the pending one is still there');
  slow.reject(new Error('later'));
  await tick();
  t.same(unhandled, []);
});

t.test('plain values count as resolved, a promise pushed twice is yielded twice, and a promise the caller removed is skipped', async (t) => {
  const shared = Promise.resolve('s');
  const gone = deferred<string>();
  const inFlight: (string | Promise<string>)[] = ['plain', shared, shared, gone.promise];
  const seen: string[] = [];
  for await (const done of waitFor(inFlight)) {
    seen.push(String((done as { value: string }).value));
    if (inFlight.includes(gone.promise)) {
      void inFlight.splice(inFlight.indexOf(gone.promise), 1); // the caller gives up on it (resolved just below, never rejects)
      gone.resolve('never seen');
    }
  }
  t.same(seen, ['plain', 's', 's']);
});

t.test('waitFor checks its arguments', async (t) => {
  await t.rejects(waitFor(null as never).next(), TypeError);
  await t.rejects(waitFor([], { concurrency: 0 }).next(), RangeError);
  await t.rejects(waitFor([], { concurrency: 1.5 }).next(), RangeError);
});

t.test("the inparallel README's example: uname of twelve hosts, three at a time", async (t) => {
  const hosts = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'];
  let running = 0;
  let maxRunning = 0;
  const uname = async (host: string) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    await tick();
    running--;
    if (host === 'echo') throw new Error('echo is down');
    return `Linux ${host}`;
  };
  const queue = [...hosts];
  const inFlight: Promise<string>[] = [];
  const out: string[] = [];
  for await (const done of waitFor(inFlight, { concurrency: 3 })) {
    if (done === MORE) {
      if (queue.length > 0) inFlight.push(uname(queue.shift()!));
    } else if (done.status === 'fulfilled') out.push(done.value);
    else out.push(`error: ${(done.reason as Error).message}`);
  }
  t.equal(out.length, 12);
  t.ok(out.includes('error: echo is down'));
  t.equal(maxRunning, 3);
});

t.test('mapConcurrent: results in item order whatever the finishing order, failures as pairs, at most `concurrency` at once', async (t) => {
  let running = 0;
  let maxRunning = 0;
  // Turns of the event loop, not milliseconds: the items finish out of order (1 before 0, 3 before 2, ...) without a clock.
  const delays = [30, 0, 20, 0, 10, 0];
  const pairs = await mapConcurrent(
    delays,
    async (ms, i) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      for (let turn = 0; turn < ms; turn++) await tick();
      running--;
      if (i === 3) throw new Error('item 3');
      if (i === 5) throw 'not an Error'; // eslint-disable-line @typescript-eslint/only-throw-error
      return ms * 2;
    },
    { concurrency: 2 },
  );
  t.same(pairs.slice(0, 3), [
    [60, null],
    [0, null],
    [40, null],
  ]);
  t.equal(pairs[3]![1]!.message, 'item 3');
  t.equal(pairs[5]![1]!.cause, 'not an Error', 'a thrown non-Error is wrapped, its value the cause');
  t.same(pairs[4], [20, null]);
  t.equal(maxRunning, 2);
  t.same(await mapConcurrent([], () => 1, { concurrency: 3 }), []);
  t.same(
    await mapConcurrent(new Set(['a', 'b']), (s) => s.toUpperCase(), { concurrency: Infinity }),
    [
      ['A', null],
      ['B', null],
    ],
    'any iterable, sync functions, unlimited concurrency',
  );
  await t.rejects(
    mapConcurrent([1], (x) => x, { concurrency: 0 }),
    RangeError,
  );
});

t.test('mapConcurrent with a signal: an abort stops new starts, the items not started get the reason', async (t) => {
  const controller = new AbortController();
  const started: number[] = [];
  const pairs = await mapConcurrent(
    [0, 1, 2, 3, 4],
    async (n) => {
      started.push(n);
      if (n === 1) controller.abort(new Error('stop'));
      await tick();
      return n;
    },
    { concurrency: 2, signal: controller.signal },
  );
  t.same(started, [0, 1]);
  t.same(pairs.slice(0, 2), [
    [0, null],
    [1, null],
  ]);
  for (const [value, error] of pairs.slice(2)) {
    t.equal(value, null);
    t.equal(error?.message, 'stop');
  }
});
