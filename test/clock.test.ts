// The clock seam: the real clock arms Node's timers, and the ManualClock the
// other tests drive timeouts with fires exactly what falls due, in order.

import t from 'tap';
import { systemClock } from '../lib/clock.js';
import { ManualClock } from './support.js';

t.test('the system clock reads Date.now() and arms real timers that can be unref-ed and cleared', async (t) => {
  const before = Date.now();
  const now = systemClock.now();
  t.ok(now >= before && now <= Date.now());
  const fired = await new Promise<string>((resolve) => {
    const cleared = systemClock.setTimeout(() => resolve('cleared timer fired'), 0);
    systemClock.clearTimeout(cleared);
    const timer = systemClock.setTimeout(() => resolve('fired'), 0);
    t.equal(timer.unref(), timer, 'unref returns the timer, as Node does');
    // unref-ed, the timer must not be what keeps the test alive: a ref-ed immediate does.
    setImmediate(() => setImmediate(() => undefined));
  });
  t.equal(fired, 'fired');
  let ticks = 0;
  await new Promise<void>((resolve) => {
    const interval = systemClock.setInterval(() => {
      if (++ticks === 3) {
        systemClock.clearInterval(interval);
        resolve();
      }
    }, 1);
  });
  t.equal(ticks, 3);
});

t.test('a manual clock fires nothing until it is advanced, then what falls due in deadline order', async (t) => {
  const clock = new ManualClock();
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b@20'), 20);
  clock.setTimeout(() => fired.push('a@10'), 10);
  const never = clock.setTimeout(() => fired.push('cleared'), 15);
  clock.clearTimeout(never);
  t.equal(clock.pending, 2);
  clock.advance(9);
  t.same(fired, [], 'nothing is due at 9');
  t.equal(clock.now(), 9);
  clock.advance(1);
  t.same(fired, ['a@10'], 'due exactly at its deadline');
  clock.advance(100);
  t.same(fired, ['a@10', 'b@20']);
  t.equal(clock.now(), 110, 'time ends where it was moved to');
  t.equal(clock.pending, 0);
});

t.test('a timer armed by a firing timer runs in the same advance when it falls due, and sees the time of its deadline', async (t) => {
  const clock = new ManualClock();
  const seen: number[] = [];
  clock.setTimeout(() => {
    seen.push(clock.now());
    clock.setTimeout(() => seen.push(clock.now()), 5);
  }, 10);
  clock.advance(30);
  t.same(seen, [10, 15]);
});

t.test('a manual interval fires once per period passed, until cleared', async (t) => {
  const clock = new ManualClock();
  let n = 0;
  const interval = clock.setInterval(() => n++, 10);
  clock.advance(35);
  t.equal(n, 3);
  clock.clearInterval(interval);
  clock.advance(100);
  t.equal(n, 3);
  t.equal(clock.pending, 0);
});
