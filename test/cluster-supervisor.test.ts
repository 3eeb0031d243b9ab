// The primary's supervisor (lib/cluster/supervisor.ts) against fake workers
// and a manual clock: back-off on a crash loop, rolling reload order, graceful
// close, stats summed over workers. No process is started here; the real
// ones are in cluster-workers.test.ts.

import t from 'tap';
import { ClusterErrorCode } from '../lib/errors.js';
import { Supervisor, type ChildEvents, type SupervisorOptions, type ToWorker, type WorkerChild } from '../lib/cluster/supervisor.js';
import type { ServerStats } from '../lib/server/server.js';
import { ManualClock } from './support.js';

interface Fake extends WorkerChild {
  slot: number;
  events: ChildEvents;
  sent: ToWorker[];
  killed: boolean;
  exited: boolean;
  ready(): void;
  exit(code?: number | null, signal?: string | null): void;
}

function fakes() {
  const all: Fake[] = [];
  let ids = 0;
  /** What every new fake does at once (the default: nothing, the test drives it). */
  let onSpawn: (fake: Fake) => void = () => {};
  const spawn = (slot: number, events: ChildEvents): WorkerChild => {
    const id = ++ids;
    const fake: Fake = {
      id,
      pid: 1000 + id,
      slot,
      events,
      sent: [],
      killed: false,
      exited: false,
      send(message) {
        if (this.exited) throw new Error('channel closed');
        this.sent.push(message);
      },
      kill() {
        this.killed = true;
        this.exit(null, 'SIGKILL');
      },
      ready() {
        events.message({ type: 'ready', port: 8182, address: '127.0.0.1', urls: [] });
      },
      exit(code = 0, signal = null) {
        if (this.exited) return;
        this.exited = true;
        events.exit(code, signal);
      },
    };
    all.push(fake);
    onSpawn(fake);
    return fake;
  };
  return { all, spawn, setOnSpawn: (fn: (fake: Fake) => void) => (onSpawn = fn) };
}

/** Lets the promise callbacks queued so far run. */
/** A supervisor of two fake workers, both listening. */
async function startedTwo(options: Partial<SupervisorOptions> = {}) {
  const clock = new ManualClock();
  const f = fakes();
  const s = new Supervisor({ workers: 2, spawn: f.spawn, clock, ...options });
  const started = s.start();
  f.all[0]!.ready();
  f.all[1]!.ready();
  await started;
  return { clock, f, s };
}

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

t.test('start resolves when every worker is listening, and rejects with WORKER_FAILED when one exits first', async (t) => {
  const f = fakes();
  const s = new Supervisor({ workers: 3, spawn: f.spawn, clock: new ManualClock() });
  let started = false;
  const p = s.start().then(() => (started = true));
  t.equal(f.all.length, 3);
  f.all[0]!.ready();
  f.all[1]!.ready();
  await settle();
  t.equal(started, false, 'two of three is not started');
  f.all[2]!.ready();
  await p;
  t.same(
    s.workers().map((w) => [w.slot, w.id]),
    [
      [0, 1],
      [1, 2],
      [2, 3],
    ],
  );

  const g = fakes();
  const s2 = new Supervisor({ workers: 1, spawn: g.spawn, clock: new ManualClock() });
  const failed = s2.start();
  g.all[0]!.exit(1);
  await t.rejects(failed, { code: ClusterErrorCode.WORKER_FAILED });
  await s2.close();
});

t.test('a crash loop is replaced with a growing back-off, capped, and does not spin', async (t) => {
  const clock = new ManualClock();
  const f = fakes();
  const events: number[] = [];
  const s = new Supervisor({
    workers: 2,
    spawn: f.spawn,
    clock,
    backoff: { initial: 100, max: 1600, resetAfter: 60_000 },
    onEvent: (e) => {
      if (e.type === 'exit') events.push(e.restartIn);
    },
  });
  const started = s.start();
  for (const fake of f.all) fake.ready();
  await started;
  // From now on every new worker of slot 0 dies at once, before listening; slot 1 serves on.
  f.setOnSpawn((fake) => {
    if (fake.slot === 0) queueMicrotask(() => fake.exit(1));
  });
  f.all[0]!.exit(1);
  // 30 s of a crash loop: 100, 200, 400, 800, 1600, 1600, ... about 20 replacements, never thousands.
  for (let ms = 0; ms < 30_000; ms += 50) {
    clock.advance(50);
    await settle();
  }
  t.same(events.slice(0, 7), [100, 200, 400, 800, 1600, 1600, 1600]);
  const spawned = f.all.filter((fake) => fake.slot === 0).length;
  t.ok(spawned >= 15 && spawned <= 25, `slot 0 was started ${spawned} times in 30 s of a crash loop`);
  t.equal(s.restarts, spawned - 1);
  t.equal(f.all.filter((fake) => fake.slot === 1).length, 1, 'the other worker kept serving, untouched');
  t.equal(f.all[1]!.exited, false);
  const closed = s.close();
  for (const fake of f.all) if (!fake.exited) fake.exit(0);
  await closed;
  t.equal(clock.pending, 0, 'close cancelled the pending replacement');
});

t.test('a worker that lived past resetAfter is replaced after the first delay again', async (t) => {
  const clock = new ManualClock();
  const f = fakes();
  const delays: number[] = [];
  const s = new Supervisor({
    workers: 1,
    spawn: f.spawn,
    clock,
    backoff: { initial: 100, max: 10_000, resetAfter: 5000 },
    onEvent: (e) => e.type === 'exit' && delays.push(e.restartIn),
  });
  f.setOnSpawn((fake) => queueMicrotask(() => fake.ready()));
  await s.start();
  for (let i = 0; i < 3; i++) {
    f.all.at(-1)!.exit(1);
    clock.advance(delays.at(-1)!);
    await settle();
  }
  t.same(delays, [100, 200, 400]);
  clock.advance(5000);
  f.all.at(-1)!.exit(1);
  t.same(delays, [100, 200, 400, 100], 'a long life resets the count');
  const closed = s.close();
  await closed;
});

t.test('reload replaces one worker at a time, the new one listening before the old one is told to stop', async (t) => {
  const { clock, f, s } = await startedTwo({ shutdownTimeout: 1234 });
  const [old0, old1] = f.all as [Fake, Fake];
  let done = false;
  const reloading = s.reload().then(() => (done = true));
  t.equal(f.all.length, 3, 'one new worker, for slot 0');
  const new0 = f.all[2]!;
  t.equal(new0.slot, 0);
  await settle();
  t.same(old0.sent, [], 'the old one is not told to stop before the new one listens');
  new0.ready();
  await settle();
  t.same(old0.sent, [{ type: 'stop', timeout: 1234 }]);
  t.equal(f.all.length, 3, 'slot 1 waits until the old worker of slot 0 has exited');
  t.same(
    s.workers().map((w) => w.id),
    [new0.id, old1.id],
  );
  old0.exit(0);
  await settle();
  t.equal(f.all.length, 4);
  const new1 = f.all[3]!;
  new1.ready();
  await settle();
  t.same(old1.sent, [{ type: 'stop', timeout: 1234 }]);
  t.equal(done, false);
  old1.exit(0);
  await reloading;
  t.equal(s.restarts, 0, 'a reload is not a restart');
  t.equal(clock.pending, 0, 'no replacement was scheduled for the workers told to stop');
  const closed = s.close();
  new0.exit(0);
  new1.exit(0);
  await closed;
});

t.test('a reload whose new worker dies before listening stops there; the old one keeps serving', async (t) => {
  const f = fakes();
  const s = new Supervisor({ workers: 1, spawn: f.spawn, clock: new ManualClock() });
  const started = s.start();
  f.all[0]!.ready();
  await started;
  const reloading = s.reload();
  f.all[1]!.exit(1);
  await t.rejects(reloading, { code: ClusterErrorCode.WORKER_FAILED });
  t.same(f.all[0]!.sent, []);
  t.same(
    s.workers().map((w) => w.id),
    [1],
  );
  const closed = s.close();
  f.all[0]!.exit(0);
  await closed;
  await t.rejects(s.reload(), { code: ClusterErrorCode.CLOSED });
});

t.test('close tells every worker to stop, waits for their exits, and kills one that outstays shutdownTimeout + killAfter', async (t) => {
  const { clock, f, s } = await startedTwo({ shutdownTimeout: 1000, killAfter: 500 });
  let closed = false;
  const closing = s.close().then(() => (closed = true));
  t.same(
    f.all.map((fake) => fake.sent),
    [[{ type: 'stop', timeout: 1000 }], [{ type: 'stop', timeout: 1000 }]],
  );
  f.all[0]!.exit(0);
  await settle();
  t.equal(closed, false, 'one worker is still answering its calls');
  clock.advance(1499);
  t.equal(f.all[1]!.killed, false);
  clock.advance(1);
  t.equal(f.all[1]!.killed, true);
  await closing;
  t.equal(f.all[0]!.killed, false, 'the one that exited by itself was not killed');
});

t.test('stats sums the workers and names each; a silent worker gets nulls after the timeout', async (t) => {
  const { clock, f, s } = await startedTwo();
  const asked = s.stats(100);
  const stats = (connections: number): ServerStats => ({
    connections,
    bufferedBytes: 1,
    peakBufferedBytes: 2,
    refusedForMemory: 0,
    closedSlowReaders: 0,
    refusedConnections: 0,
    evictedConnections: 0,
    connectionsByState: { idle: connections, reading: 0, handling: 0, writing: 0, closing: 0 },
    requests: 7,
    bytesIn: 100,
    bytesOut: 200,
    parseErrors: 0,
    timeouts: 0,
    tooLarge: 0,
    unavailable: 0,
  });
  const seq = (f.all[0]!.sent[0] as { seq: number }).seq;
  f.all[0]!.events.message({ type: 'stats', seq, stats: stats(3), rss: 10, maxRss: 20 });
  clock.advance(100);
  const { workers, total } = await asked;
  t.same(
    workers.map((w) => [w.slot, w.id, w.server?.connections ?? null, w.maxRss]),
    [
      [0, 1, 3, 20],
      [1, 2, null, null],
    ],
  );
  t.equal(total?.connections, 3);
  t.equal(total?.connectionsByState.idle, 3);
  const closed = s.close();
  for (const fake of f.all) fake.exit(0);
  await closed;
});

t.test('a worker that fails to start stops the start: the others are told to stop, none is replaced, start rejects once all have exited', async (t) => {
  const clock = new ManualClock();
  const f = fakes();
  const s = new Supervisor({ workers: 3, spawn: f.spawn, clock, shutdownTimeout: 1000 });
  const started = s.start();
  let settled = false;
  started.catch(() => {}).finally(() => (settled = true));
  f.all[0]!.ready();
  f.all[1]!.exit(1);
  await settle();
  t.same(f.all[0]!.sent, [{ type: 'stop', timeout: 1000 }], 'the one listening is told to stop');
  t.same(f.all[2]!.sent, [{ type: 'stop', timeout: 1000 }], 'so is the one still starting');
  // Past any back-off: nothing is started again for a fleet that failed to start.
  clock.advance(500);
  await settle();
  t.equal(f.all.length, 3, 'the failed slot was not replaced');
  t.equal(settled, false, 'start waits for the others to exit');
  f.all[0]!.exit(0);
  f.all[2]!.exit(0);
  await t.rejects(started, { code: ClusterErrorCode.WORKER_FAILED });
  t.equal(clock.pending, 0, 'no timer left behind');
  t.same(s.workers(), []);
});

t.test('a worker told to stop before it listens is told again when it says it is ready (SIGHUP then SIGTERM at once)', async (t) => {
  const clock = new ManualClock();
  const f = fakes();
  const s = new Supervisor({ workers: 1, spawn: f.spawn, clock, shutdownTimeout: 1000 });
  const started = s.start();
  f.all[0]!.ready();
  await started;
  const reloading = s.reload();
  reloading.catch(() => {});
  const closing = s.close();
  const [old, fresh] = f.all as [Fake, Fake];
  t.same(fresh.sent, [{ type: 'stop', timeout: 1000 }], 'the new worker, still starting, is told to stop');
  // A worker reads its messages only once it listens: the first word may have been lost.
  fresh.ready();
  await settle();
  t.same(fresh.sent, [
    { type: 'stop', timeout: 1000 },
    { type: 'stop', timeout: 1000 },
  ]);
  t.same(
    s.workers().map((w) => w.id),
    [old.id],
    'it never becomes the serving one',
  );
  old.exit(0);
  fresh.exit(0);
  await closing;
  await t.rejects(reloading, { code: ClusterErrorCode.CLOSED }, 'the reload says it was cut short by the close');
  t.equal(f.all.length, 2, 'the reload started nothing more once closing');
});

t.test('a worker that never says it listens is killed after readyTimeout: start rejects; a reload stops there and the old one serves on', async (t) => {
  const clock = new ManualClock();
  const f = fakes();
  const s = new Supervisor({ workers: 1, spawn: f.spawn, clock, readyTimeout: 5000 });
  const started = s.start();
  started.catch(() => {});
  clock.advance(4999);
  t.equal(f.all[0]!.killed, false);
  clock.advance(1);
  t.equal(f.all[0]!.killed, true);
  await t.rejects(started, { code: ClusterErrorCode.WORKER_FAILED, message: /did not listen within 5000 ms/ });

  const g = fakes();
  const s2 = new Supervisor({ workers: 1, spawn: g.spawn, clock, readyTimeout: 5000 });
  const started2 = s2.start();
  g.all[0]!.ready();
  await started2;
  const reloading = s2.reload();
  reloading.catch(() => {});
  clock.advance(5000);
  t.equal(g.all[1]!.killed, true);
  await t.rejects(reloading, { code: ClusterErrorCode.WORKER_FAILED });
  t.same(g.all[0]!.sent, [], 'the old worker was not told to stop');
  t.same(
    s2.workers().map((w) => w.id),
    [g.all[0]!.id],
  );
  const closed = s2.close();
  g.all[0]!.exit(0);
  await closed;
  t.equal(clock.pending, 0);
});

t.test('malformed messages from a worker are ignored, never thrown in the primary', async (t) => {
  const clock = new ManualClock();
  const f = fakes();
  const s = new Supervisor({ workers: 1, spawn: f.spawn, clock });
  const started = s.start();
  const junk: unknown[] = [
    null,
    'ready',
    42,
    {},
    { type: 'ready' },
    { type: 'ready', port: 'x' },
    { type: 'stats' },
    { type: 'stats', seq: 1, stats: null },
    { type: 'nonsense' },
  ];
  for (const message of junk) t.doesNotThrow(() => f.all[0]!.events.message(message as never), JSON.stringify(message));
  t.equal(s.workers()[0]!.ready, false, 'a ready without a port is not taken as ready');
  f.all[0]!.ready();
  await started;
  const asked = s.stats(100);
  const seq = (f.all[0]!.sent[0] as { seq: number }).seq;
  f.all[0]!.events.message({ type: 'stats', seq, stats: 'not stats', rss: 1, maxRss: 2 } as never);
  clock.advance(100);
  const { workers, total } = await asked;
  t.equal(workers[0]!.server, null, 'a reply without stats counts as no reply');
  t.equal(total, null);
  const closed = s.close();
  f.all[0]!.exit(0);
  await closed;
});

t.test('stats and workers() after the workers have exited: no rows, and no wait', async (t) => {
  const { f, s } = await startedTwo();
  const closed = s.close();
  for (const fake of f.all) fake.exit(0);
  await closed;
  t.same(s.workers(), [], 'no worker is serving');
  let answered = false;
  const asked = s.stats(100).then((r) => ((answered = true), r));
  await settle();
  t.equal(answered, true, 'answered without waiting for the timeout');
  t.same(await asked, { workers: [], total: null });
});

t.test('stats asked again and again keeps nothing per question once answered; a reply counts only from the worker asked', async (t) => {
  const { clock, f, s } = await startedTwo();
  const stats = { ...(JSON.parse('{}') as object), connectionsByState: { idle: 0, reading: 0, handling: 0, writing: 0, closing: 0 } } as unknown as ServerStats;
  // A scraper asking every 15 s for a month is some 170,000 questions: each must leave nothing behind.
  for (let i = 0; i < 200; i++) {
    const asked = s.stats(100);
    for (const fake of f.all) {
      const { seq } = fake.sent.at(-1) as { seq: number };
      fake.events.message({ type: 'stats', seq, stats, rss: 1, maxRss: 2 });
    }
    await asked;
  }
  // White-box, as a count: what the supervisor holds for each worker's exit.
  const held = (s as unknown as { alive: Set<{ onExit: unknown[] }> }).alive;
  t.same(
    [...held].map((live) => live.onExit.length),
    [0, 0],
    'no callback left per answered question',
  );
  t.equal(clock.pending, 0, 'no timer left per answered question');

  // Worker 2 answers the question put to worker 1: it does not count for worker 1.
  const asked = s.stats(100);
  const seq1 = (f.all[0]!.sent.at(-1) as { seq: number }).seq;
  const seq2 = (f.all[1]!.sent.at(-1) as { seq: number }).seq;
  f.all[1]!.events.message({ type: 'stats', seq: seq1, stats, rss: 111, maxRss: 111 });
  f.all[1]!.events.message({ type: 'stats', seq: seq2, stats, rss: 2, maxRss: 2 });
  clock.advance(100);
  const { workers } = await asked;
  t.same(
    workers.map((w) => w.rss),
    [null, 2],
  );
  const closed = s.close();
  for (const fake of f.all) fake.exit(0);
  await closed;
});
